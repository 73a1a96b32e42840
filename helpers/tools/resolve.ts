// Finds a pinned tool binary: on PATH when its version matches, else in our cache, else downloaded from the
// official release with its published sha256 checked, else built with `go install` where Go exists.
// Missing everywhere → EnvironmentError that says how to fix it.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../cli/errors.ts';

export interface ResolvedTool {
  name: string;
  path: string;
  version: string;
  source: 'path' | 'cache' | 'download' | 'go';
}

export interface Platform {
  os: 'linux' | 'darwin';
  arch: 'amd64' | 'arm64';
}

export interface ToolSpec {
  name: string;
  version: string;
  /** argv (after the binary) that prints the version, and how to read it. */
  versionArgs: string[];
  parseVersion(stdout: string): string | undefined;
  /** Release asset and its checksum file; undefined when no release exists for this version. */
  download?(platform: Platform): { url: string; checksumUrl: string; archiveMember?: string };
  /** `go install` target (module@version) and ldflags; undefined when the Go proxy cannot serve the version. */
  goInstall?: { pkg: string; ldflags?: string };
  /** How to fix it by hand, for the error. */
  fix: string;
}

export interface ResolveDeps {
  env: NodeJS.ProcessEnv;
  platform: Platform;
  fetch: (url: string) => Promise<Uint8Array>;
  /** Runs a binary; resolves stdout, or undefined when it cannot run or exits non-zero. */
  run: (file: string, args: string[], env: NodeJS.ProcessEnv) => Promise<string | undefined>;
}

export function cacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'istio-egress-conformance', 'bin');
}

export function currentPlatform(): Platform {
  const os = process.platform === 'darwin' ? 'darwin' : 'linux';
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  return { os, arch };
}

export const defaultResolveDeps = (env: NodeJS.ProcessEnv = process.env): ResolveDeps => ({
  env,
  platform: currentPlatform(),
  async fetch(url) {
    const res = await fetch(url, { redirect: 'follow' });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  },
  async run(file, args, runEnv) {
    const r = await execa(file, args, { env: runEnv, extendEnv: false, reject: false, timeout: 30_000, stdin: 'ignore' });
    return r.exitCode === 0 ? String(r.stdout) : undefined;
  },
});

function onPath(name: string, env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name)).filter((p) => existsSync(p));
}

async function versionOf(spec: ToolSpec, path: string, deps: ResolveDeps): Promise<string | undefined> {
  const out = await deps.run(path, spec.versionArgs, deps.env);
  return out === undefined ? undefined : spec.parseVersion(out);
}

export async function resolveTool(spec: ToolSpec, deps: ResolveDeps): Promise<ResolvedTool> {
  const tried: string[] = [];
  for (const path of onPath(spec.name, deps.env)) {
    const v = await versionOf(spec, path, deps);
    if (v === spec.version) return { name: spec.name, path, version: v, source: 'path' };
    tried.push(`${path} is ${v ?? 'not runnable'}`);
  }

  const cached = join(cacheDir(deps.env), `${spec.name}-${spec.version}`);
  if (existsSync(cached)) {
    const v = await versionOf(spec, cached, deps);
    if (v === spec.version) return { name: spec.name, path: cached, version: v, source: 'cache' };
    tried.push(`${cached} is ${v ?? 'not runnable'}`);
  }

  const asset = spec.download?.(deps.platform);
  if (asset) {
    try {
      await downloadVerified(asset, cached, deps);
      const v = await versionOf(spec, cached, deps);
      if (v === spec.version) return { name: spec.name, path: cached, version: v, source: 'download' };
      tried.push(`downloaded ${asset.url} reports ${v ?? 'nothing'}`);
    } catch (err) {
      // A checksum mismatch is never retried or worked around.
      if (err instanceof ChecksumError) throw new EnvironmentError(`${spec.name} ${spec.version}: ${err.message}`);
      tried.push(`download ${asset.url}: ${(err as Error).message}`);
    }
  }

  if (spec.goInstall) {
    const go = onPath('go', deps.env)[0];
    if (go) {
      const gobin = await mkdtemp(join(tmpdir(), `go-install-${spec.name}-`));
      try {
        const args = ['install', ...(spec.goInstall.ldflags ? ['-ldflags', spec.goInstall.ldflags] : []), spec.goInstall.pkg];
        const ok = await deps.run(go, args, { ...deps.env, GOBIN: gobin });
        if (ok !== undefined) {
          await mkdir(cacheDir(deps.env), { recursive: true });
          await rename(join(gobin, spec.name), cached);
          const v = await versionOf(spec, cached, deps);
          if (v === spec.version) return { name: spec.name, path: cached, version: v, source: 'go' };
          tried.push(`go install ${spec.goInstall.pkg} reports ${v ?? 'nothing'}`);
        } else {
          tried.push(`go install ${spec.goInstall.pkg} failed`);
        }
      } finally {
        await rm(gobin, { recursive: true, force: true });
      }
    }
  }

  throw new EnvironmentError(
    `${spec.name} ${spec.version} not found (${tried.length ? tried.join('; ') : 'not on PATH, not cached'}). ${spec.fix} ` +
      `A binary at ${cached} is used too.`,
  );
}

export class ChecksumError extends Error {}

async function downloadVerified(asset: { url: string; checksumUrl: string; archiveMember?: string }, dest: string, deps: ResolveDeps): Promise<void> {
  const sumText = Buffer.from(await deps.fetch(asset.checksumUrl)).toString('utf8');
  // Published as `<hex>  <file name>` (sha256sum / shasum -a 256 format).
  const expected = /^([0-9a-f]{64})\b/i.exec(sumText.trim())?.[1]?.toLowerCase();
  if (!expected) throw new Error(`${asset.checksumUrl} holds no sha256`);
  const body = await deps.fetch(asset.url);
  const actual = createHash('sha256').update(body).digest('hex');
  if (actual !== expected) {
    throw new ChecksumError(`sha256 of ${asset.url} is ${actual}, but ${asset.checksumUrl} says ${expected}; not installed`);
  }
  await mkdir(join(dest, '..'), { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'egress-conformance-dl-'));
  try {
    let binary: string;
    if (asset.archiveMember) {
      const archive = join(tmp, 'archive.tar.gz');
      await writeFile(archive, body);
      await execa('tar', ['-xzf', archive, '-C', tmp, asset.archiveMember], { reject: true });
      binary = join(tmp, asset.archiveMember);
    } else {
      binary = join(tmp, 'binary');
      await writeFile(binary, body);
    }
    await chmod(binary, 0o755);
    // Copy then rename within the cache dir, so a concurrent run never sees half a binary.
    const partial = `${dest}.partial-${process.pid}`;
    await writeFile(partial, await readFile(binary), { mode: 0o755 });
    await rename(partial, dest);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
