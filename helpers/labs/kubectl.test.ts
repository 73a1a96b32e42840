// The kubectl a lab tells the candidate to use, chosen by version skew. The PATH kubectl is a shim
// printing a chosen version; the matching build is a file named by $KUBECTL, as the cache would hold it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseKubectl, minorOf } from './kubectl.ts';
import { EnvironmentError } from '../model/errors.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'labs-kubectl-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pathWithKubectl(version: string): string {
  const bin = join(dir, `path-${version}`);
  mkdirSync(bin, { recursive: true });
  const shim = join(bin, 'kubectl');
  writeFileSync(shim, `#!/bin/sh\necho '{"clientVersion":{"major":"1","minor":"x","gitVersion":"${version}"}}'\n`);
  chmodSync(shim, 0o755);
  return `${bin}:/usr/bin:/bin`;
}

function built(): string {
  const f = join(dir, 'kubectl-v1.35.4');
  writeFileSync(f, '#!/bin/sh\n');
  chmodSync(f, 0o755);
  return f;
}

describe('chooseKubectl', () => {
  it('reads minors, vendor suffixes included', () => {
    expect(minorOf('v1.32.4-dispatcher')).toBe(32);
    expect(minorOf('v1.35.4')).toBe(35);
    expect(minorOf('garbage')).toBeUndefined();
  });

  it('uses the PATH kubectl when it is within one minor of the server', async () => {
    const c = await chooseKubectl(join(dir, 'link-a'), { serverVersion: 'v1.35.4', env: { PATH: pathWithKubectl('v1.34.1') } });
    expect(c).toMatchObject({ path: 'kubectl' });
    expect(c.pathDir).toBeUndefined();
  });

  it('links the matching build when the PATH kubectl is more than one minor away, and says why', async () => {
    const kubectl = built();
    const c = await chooseKubectl(join(dir, 'link-b'), {
      serverVersion: 'v1.35.4',
      env: { PATH: pathWithKubectl('v1.32.4-dispatcher'), KUBECTL: kubectl },
    });
    expect(c.pathDir).toBe(join(dir, 'link-b'));
    expect(readlinkSync(join(dir, 'link-b', 'kubectl'))).toBe(kubectl);
    expect(c.why).toMatch(/v1\.32\.4-dispatcher, more than one minor version from the API server \(v1\.35\.4\)/);
  });

  it('without a usable kubectl, names the install command', async () => {
    const p = chooseKubectl(join(dir, 'link-c'), {
      serverVersion: 'v1.35.4',
      env: { PATH: pathWithKubectl('v1.30.0'), XDG_CACHE_HOME: join(dir, 'no-cache'), HOME: join(dir, 'home') },
    });
    await expect(p).rejects.toBeInstanceOf(EnvironmentError);
    await expect(
      chooseKubectl(join(dir, 'link-c'), {
        serverVersion: 'v1.35.4',
        env: { PATH: pathWithKubectl('v1.30.0'), XDG_CACHE_HOME: join(dir, 'no-cache'), HOME: join(dir, 'home') },
      }),
    ).rejects.toThrow(/tools install kubectl/);
  });
});
