// Tool resolution for kind and istioctl: PATH at the pinned version, else cache, else a checksum-verified
// download, else go install; else EnvironmentError with the fix. No network: fetch and run are injected.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../model/errors.ts';
import { istioctlSpec } from './istioctl.ts';
import { kindSpec } from './kind.ts';
import { resolveTool, type ResolveDeps } from './resolve.ts';
import { GO_BUILD_TIMEOUT_MS, runBuild, type BuildOptions } from './run-build.ts';
import { cacheDir } from './tool-cache.ts';

function fakeBinary(dir: string, name: string, versionLine: string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\necho '${versionLine}'\n`);
  chmodSync(p, 0o755);
  return p;
}

function deps(env: NodeJS.ProcessEnv, files: Record<string, Uint8Array | string> = {}): ResolveDeps & { fetched: string[] } {
  const fetched: string[] = [];
  return {
    env,
    platform: { os: 'linux', arch: 'amd64' },
    fetched,
    async fetch(url) {
      fetched.push(url);
      const f = files[url];
      if (f === undefined) throw new Error(`GET ${url}: offline`);
      return typeof f === 'string' ? Buffer.from(f) : f;
    },
    async run(file, args) {
      const { execa } = await import('execa');
      const r = await execa(file, args, { reject: false });
      return r.exitCode === 0 ? String(r.stdout) : undefined;
    },
  };
}

describe('tool resolution', () => {
  it('uses the binary on PATH when its version is the pinned one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tools-'));
    const bin = join(root, 'bin');
    fakeBinary(bin, 'kind', 'kind v0.31.0 go1.25.5 linux/amd64');
    const t = await resolveTool(kindSpec('v0.31.0'), deps({ PATH: bin, HOME: root }));
    expect(t).toMatchObject({ source: 'path', path: join(bin, 'kind'), version: 'v0.31.0' });
  });

  it('skips a PATH binary of another version and uses the cache', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tools-'));
    fakeBinary(join(root, 'bin'), 'istioctl', 'client version: 1.29.0');
    const env = { PATH: join(root, 'bin'), XDG_CACHE_HOME: join(root, 'cache') };
    fakeBinary(cacheDir(env), 'istioctl-1.30.3', 'client version: 1.30.3');
    const t = await resolveTool(istioctlSpec('1.30.3'), deps(env));
    expect(t).toMatchObject({
      source: 'cache',
      version: '1.30.3',
      path: join(root, 'cache', 'istio-egress-conformance', 'bin', 'istioctl-1.30.3'),
    });
  });

  it('downloads the release asset, checks its sha256 file, and caches it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tools-'));
    const env = { PATH: '', XDG_CACHE_HOME: join(root, 'cache') };
    const body = Buffer.from("#!/bin/sh\necho 'kind v0.31.0 go1.25.5 linux/amd64'\n");
    const url = 'https://github.com/kubernetes-sigs/kind/releases/download/v0.31.0/kind-linux-amd64';
    const sum = createHash('sha256').update(body).digest('hex');
    const d = deps(env, { [url]: body, [`${url}.sha256sum`]: `${sum}  kind-linux-amd64\n` });
    const t = await resolveTool(kindSpec('v0.31.0'), d);
    expect(t.source).toBe('download');
    expect(d.fetched).toEqual([`${url}.sha256sum`, url]);
    expect(readFileSync(t.path)).toEqual(body);
  });

  it('refuses a download whose sha256 does not match, and installs nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tools-'));
    const env = { PATH: '', XDG_CACHE_HOME: join(root, 'cache') };
    const url = 'https://github.com/istio/istio/releases/download/1.30.3/istioctl-1.30.3-linux-amd64.tar.gz';
    const d = deps(env, { [url]: 'tampered', [`${url}.sha256`]: `${'0'.repeat(64)}  istioctl-1.30.3-linux-amd64.tar.gz\n` });
    const err = await resolveTool(istioctlSpec('1.30.3'), d).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toMatch(/sha256 .* says 0{64}; not installed/);
    expect(existsSync(join(cacheDir(env), 'istioctl-1.30.3'))).toBe(false);
  });

  it('missing everywhere (offline, no go): EnvironmentError with the fix', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tools-'));
    const err = await resolveTool(istioctlSpec('1.30.3'), deps({ PATH: '', XDG_CACHE_HOME: join(root, 'c') })).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/istioctl 1\.30\.3 not found .*offline.*Install istioctl 1\.30\.3/);
  });

  it('an Istio release version says plainly that it has no go install route, even with go on PATH', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tools-'));
    const bin = join(root, 'bin');
    fakeBinary(bin, 'go', 'go version go1.25.5 linux/amd64');
    const err = await resolveTool(istioctlSpec('1.30.3'), deps({ PATH: bin, XDG_CACHE_HOME: join(root, 'c') })).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toMatch(
      /no go install route for istioctl 1\.30\.3: Istio release tags \(like 1\.30\.3\) are not Go module versions/,
    );
    expect(err.message).toContain('use the release download');
  });

  it('go install runs as a build of its own (45 min bound, not the 30 s version check) with progress lines', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tools-'));
    const bin = join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    // A go that takes a while, says what it is doing, and leaves kind in $GOBIN.
    writeFileSync(
      join(bin, 'go'),
      `#!/bin/sh\necho "go: downloading sigs.k8s.io/kind v0.31.0"\nsleep 0.5\n` +
        `printf '#!/bin/sh\\necho "kind v0.31.0 go1.25.5 linux/amd64"\\n' > "$GOBIN/kind"\nchmod +x "$GOBIN/kind"\n`,
    );
    chmodSync(join(bin, 'go'), 0o755);
    const env = { PATH: `${bin}:/usr/bin:/bin`, XDG_CACHE_HOME: join(root, 'cache') };
    const progress: string[] = [];
    let bound: number | undefined;
    const d: ResolveDeps = {
      ...deps(env),
      onProgress: (l) => progress.push(l),
      build: (file: string, args: string[], e: NodeJS.ProcessEnv, o: BuildOptions) => {
        bound = o.timeoutMs;
        return runBuild(file, args, e, { ...o, tickMs: 100 });
      },
    };
    const t = await resolveTool(kindSpec('v0.31.0'), d);
    expect(t).toMatchObject({ source: 'go', version: 'v0.31.0', path: join(cacheDir(env), 'kind-v0.31.0') });
    expect(bound).toBe(GO_BUILD_TIMEOUT_MS);
    expect(GO_BUILD_TIMEOUT_MS).toBe(45 * 60_000);
    expect(progress[0]).toBe('building kind v0.31.0: go install sigs.k8s.io/kind@v0.31.0 (a cold build takes minutes; bound 45m00s)');
    expect(progress.some((l) => /^ {2}… \d+s — downloading modules \(1 so far, last sigs\.k8s\.io\/kind v0\.31\.0\)$/.test(l))).toBe(true);
    expect(progress[progress.length - 1]).toMatch(/^built kind in \d+s$/);
  });

  it('a build that outlives its bound is stopped and reported as timed out', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tools-'));
    const script = join(root, 'slow');
    writeFileSync(script, '#!/bin/sh\necho compiling\nsleep 10\n');
    chmodSync(script, 0o755);
    const started = Date.now();
    const r = await runBuild(script, [], { PATH: '/usr/bin:/bin' }, { timeoutMs: 300, onProgress: () => {} });
    expect(r).toMatchObject({ ok: false, timedOut: true });
    expect(r.tail).toContain('compiling');
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('knows the official asset names and that istio release tags cannot be go-installed', () => {
    const k = kindSpec('v0.31.0');
    expect(k.download!({ os: 'darwin', arch: 'arm64' }).url).toBe(
      'https://github.com/kubernetes-sigs/kind/releases/download/v0.31.0/kind-darwin-arm64',
    );
    expect(k.goInstall?.pkg).toBe('sigs.k8s.io/kind@v0.31.0');
    const i = istioctlSpec('1.30.3');
    expect(i.download!({ os: 'darwin', arch: 'amd64' })).toMatchObject({
      url: 'https://github.com/istio/istio/releases/download/1.30.3/istioctl-1.30.3-osx-amd64.tar.gz',
      archiveMember: 'istioctl',
    });
    expect(i.goInstall).toBeUndefined();
    const pseudo = istioctlSpec('1.32.0-alpha.eed52ebb66ad', 'v0.0.0-20260827124520-eed52ebb66ad');
    expect(pseudo.goInstall?.pkg).toBe('istio.io/istio/istioctl/cmd/istioctl@v0.0.0-20260827124520-eed52ebb66ad');
    expect(i.parseVersion('client version: 1.30.3\n')).toBe('1.30.3');
    expect(k.parseVersion('kind v0.31.0 go1.25.5 linux/amd64\n')).toBe('v0.31.0');
  });
});
