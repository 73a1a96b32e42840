// Copying a release pilot-discovery out of Istio's pilot image, checked with a shim `docker` on PATH
// (no Docker engine here): the calls made, the cache file written, the container removed.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imagePin } from './pilot-discovery.ts';
import { copyFromPilotImage } from './pilot-image.ts';
import { EnvironmentError } from '../model/errors.ts';

const saved = { PATH: process.env.PATH, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
afterEach(() => {
  process.env.PATH = saved.PATH;
  if (saved.XDG_CACHE_HOME === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = saved.XDG_CACHE_HOME;
});

function shim(daemonUp: boolean): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'docker-shim-'));
  const log = join(dir, 'calls.log');
  writeFileSync(
    join(dir, 'docker'),
    `#!/usr/bin/env bash
echo "$*" >> "${log}"
case "$1" in
  info) ${daemonUp ? 'echo 28.2.2' : 'echo "Cannot connect to the Docker daemon" >&2; exit 1'} ;;
  create) echo c0ffee ;;
  cp) printf 'pilot-binary' > "$3" ;;
  rm) ;;
esac
`,
  );
  chmodSync(join(dir, 'docker'), 0o755);
  process.env.PATH = `${dir}:${saved.PATH}`;
  process.env.XDG_CACHE_HOME = join(dir, 'cache');
  return { dir, log };
}

describe('pilot-discovery from the istio/pilot image', () => {
  it('creates a container, copies the binary into the cache, removes the container', async () => {
    const { dir, log } = shim(true);
    const path = await copyFromPilotImage(imagePin('1.30.3'), () => {});
    expect(path).toBe(join(dir, 'cache', 'istio-egress-conformance', 'bin', 'pilot-discovery-image-1.30.3'));
    expect(readFileSync(path, 'utf8')).toBe('pilot-binary');
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls[1]).toMatch(/^create --label egress-conformance.io\/managed=true docker.io\/istio\/pilot:1.30.3$/);
    expect(calls[2]).toMatch(/^cp c0ffee:\/usr\/local\/bin\/pilot-discovery .*pilot-discovery-image-1.30.3.part$/);
    expect(calls[3]).toBe('rm -f c0ffee');
  });

  it('without a Docker daemon says what to do instead, and creates nothing', async () => {
    const { dir, log } = shim(false);
    const err = await copyFromPilotImage(imagePin('1.30.3'), () => {}).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toMatch(/PILOT_DISCOVERY=/);
    expect(readFileSync(log, 'utf8').trim()).toBe('info --format {{.ServerVersion}}');
    expect(existsSync(join(dir, 'cache'))).toBe(false);
  });
});
