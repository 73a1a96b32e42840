#!/usr/bin/env bash
# Turns Docker 29's containerd image store off (the classic overlay2 store) before any image is pulled.
# With the containerd store, `docker save` keeps a multi-arch image's whole OCI index while only the
# host's platform was pulled, and `kind load docker-image` (ctr import --all-platforms) then fails with
# "content digest ... not found": kubernetes-sigs/kind#3795, not fixed in kind v0.31.0.
# usage: docker-classic-store.sh [DAEMON_JSON]; RESTART (default: systemctl restart docker) restarts it.
set -euo pipefail
file=${1:-/etc/docker/daemon.json}
restart=${RESTART:-systemctl restart docker}
# The runner's daemon.json has settings of its own (cgroup parent, ...): merged, never replaced.
node -e '
  const fs = require("fs");
  const file = process.argv[1];
  const cfg = fs.existsSync(file) && fs.readFileSync(file, "utf8").trim() ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
  cfg.features = { ...(cfg.features ?? {}), "containerd-snapshotter": false };
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + "\n");
' "$file"
$restart
