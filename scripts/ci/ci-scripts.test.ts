// The nightly job's shell steps, run here against a stand-in `docker` that prints pull progress on stdout
// as the real one does: the list handed to `docker save` holds image names only, a cached archive is
// loaded instead of pulling, and the containerd image store is turned off by merging daemon.json.
import { execa } from 'execa';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../helpers/testing/temp-dirs.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const tmp = tempDirs('iec-ci-');

/** A docker that logs each call and, like the real one, prints layer progress on stdout for `pull`. */
function fakeDocker(): { bin: string; log: string } {
  const bin = tmp();
  const log = join(bin, 'calls.log');
  const script = join(bin, 'docker');
  writeFileSync(
    script,
    `#!/usr/bin/env bash
printf '%s\\n' "$*" >> ${JSON.stringify(log)}
if [ "$1" = pull ]; then echo "a9739a817d63: Pull complete"; echo "Digest: sha256:3033"; echo "Status: Downloaded newer image"; fi
exit 0
`,
  );
  chmodSync(script, 0o755);
  return { bin, log };
}

describe('image-cache.sh', () => {
  it('saves exactly the pinned names (digest-pinned ones under their tag), with no pull progress among them', async () => {
    const { bin, log } = fakeDocker();
    const d = tmp();
    writeFileSync(join(d, 'images.txt'), 'kindest/node:v1.35.0@sha256:452d707d\ncurlimages/curl:8.11.1\n\ndocker.io/istio/pilot:1.30.3\n');
    const r = await execa('bash', [join(HERE, 'image-cache.sh'), join(d, 'images.txt'), join(d, 'cache')], {
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.filter((c) => c.startsWith('pull'))).toHaveLength(3);
    expect(calls).toContain('tag kindest/node@sha256:452d707d kindest/node:v1.35.0');
    expect(calls.at(-1)).toBe(
      `save -o ${join(d, 'cache', 'images.tar')} kindest/node:v1.35.0 curlimages/curl:8.11.1 docker.io/istio/pilot:1.30.3`,
    );
    // The progress still reaches the job log (stderr).
    expect(r.stderr).toContain('Pull complete');
  });

  it('loads the cached archive and pulls nothing', async () => {
    const { bin, log } = fakeDocker();
    const d = tmp();
    writeFileSync(join(d, 'images.txt'), 'curlimages/curl:8.11.1\n');
    await execa('mkdir', ['-p', join(d, 'cache')]);
    writeFileSync(join(d, 'cache', 'images.tar'), 'x');
    await execa('bash', [join(HERE, 'image-cache.sh'), join(d, 'images.txt'), join(d, 'cache')], {
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([`load -i ${join(d, 'cache', 'images.tar')}`]);
  });
});

describe('docker-classic-store.sh', () => {
  it("turns the containerd snapshotter off, keeping the runner's own settings, and restarts Docker", async () => {
    const d = tmp();
    const file = join(d, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'exec-opts': ['native.cgroupdriver=cgroupfs'], features: { other: true } }));
    const r = await execa('bash', [join(HERE, 'docker-classic-store.sh'), file], { env: { RESTART: 'echo restarted' } });
    expect(r.stdout.trim()).toBe('restarted');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      'exec-opts': ['native.cgroupdriver=cgroupfs'],
      features: { other: true, 'containerd-snapshotter': false },
    });
    // No file yet: one is written.
    const fresh = join(d, 'none.json');
    await execa('bash', [join(HERE, 'docker-classic-store.sh'), fresh], { env: { RESTART: 'true' } });
    expect(JSON.parse(readFileSync(fresh, 'utf8'))).toEqual({ features: { 'containerd-snapshotter': false } });
  });
});
