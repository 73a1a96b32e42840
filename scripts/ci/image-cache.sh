#!/usr/bin/env bash
# The nightly kind job's image cache: load the saved archive when the cache has it, else pull every
# pinned image and save them in one archive. usage: image-cache.sh IMAGES_TXT CACHE_DIR
# The list handed to `docker save` is built from the image names alone: `docker pull` prints its progress
# on stdout, which must not end up in that list (it did, when the loop's whole stdout was the list).
set -euo pipefail
images=$1
cache=$2
mkdir -p "$cache"
if [ -f "$cache/images.tar" ]; then
  docker load -i "$cache/images.tar"
  exit 0
fi
save=()
while read -r img; do
  [ -n "$img" ] || continue
  # Progress to stderr: the job log shows it, the list does not get it.
  docker pull --quiet "$img" >&2
  case "$img" in
    # Pinned by digest: saved under its tag (docker save/load keeps layers, not repo digests, so kind
    # re-fetches only the node image's manifest, whose layers are then present: cheap).
    *@*)
      docker tag "${img%%:*}@${img##*@}" "${img%@*}"
      save+=("${img%@*}")
      ;;
    *) save+=("$img") ;;
  esac
done <"$images"
docker save -o "$cache/images.tar" "${save[@]}"
