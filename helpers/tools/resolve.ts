// Finds a pinned tool binary: on PATH when its version matches, else in our cache, else downloaded from the
// official release with its published sha256 checked, else built with `go install` where Go exists (a build
// of its own, long bound, with progress lines; version checks stay bounded at 30 s).
// Missing everywhere → EnvironmentError that says how to fix it.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../model/errors.ts';
import { buildTargets, GoBuildProgress, withVerbose } from './go-progress.ts';

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
  /** Without goInstall: why this version has no `go install` route, said plainly in the error. */
  noGoInstall?: string;
  /** How to fix it by hand, for the error. */
  fix: string;
}

export interface ResolveDeps {
  env: NodeJS.ProcessEnv;
  platform: Platform;
  fetch: (url: string) => Promise<Uint8Array>;
  /** Runs a binary (a version check: short bound); resolves stdout, or undefined when it cannot run or exits non-zero. */
  run: (file: string, args: string[], env: NodeJS.ProcessEnv) => Promise<string | undefined>;
  /** Runs a build (`go install`): its own long bound, progress lines while it runs. Default runBuild. */
  build?: (file: string, args: string[], env: NodeJS.ProcessEnv, opts: BuildOptions) => Promise<BuildResult>;
  /** Progress lines of a build (default stderr). */
  onProgress?: (line: string) => void;
}

/**
 * A cold `go install` downloads modules and compiles for minutes; this bounds it, not the 30 s of a version
 * check. 45 min: on a shared 2-core machine a cold kube-apiserver build took over 20 and was killed while
 * still compiling (the go build cache keeps what finished, but the run was lost).
 */
export const GO_BUILD_TIMEOUT_MS = 45 * 60_000;

export interface BuildOptions {
  timeoutMs: number;
  onProgress: (line: string) => void;
  /** Between "still building" lines (default 15 s). */
  tickMs?: number;
  /** Where to run it (a Go wrapper module's folder). */
  cwd?: string;
}

export interface BuildResult {
  ok: boolean;
  timedOut: boolean;
  exitCode: number;
  /** The last lines of its output, for the error. */
  tail: string;
}

export function fmtElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Runs a build with its own bound, saying every tickMs how long it has run and what it is doing: for go,
 * modules downloaded, the package compiling, or the link (go-progress.ts; -v is added so go names packages);
 * for anything else its last output line.
 */
export async function runBuild(file: string, argv: string[], env: NodeJS.ProcessEnv, opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const isGo = /(^|\/)go$/.test(file);
  const args = isGo ? withVerbose(argv) : argv;
  const go = isGo ? new GoBuildProgress(buildTargets(args), started) : undefined;
  let step = 'starting';
  const tick = setInterval(
    () => opts.onProgress(`  … ${fmtElapsed(Date.now() - started)} — ${go ? go.describe() : step}`),
    opts.tickMs ?? 15_000,
  );
  tick.unref();
  // Its own process group, so a timeout (or this process ending: Ctrl-C) stops the compilers go started
  // too, not only go; otherwise they keep running and hold its output open.
  const child = execa(file, args, {
    env,
    extendEnv: false,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    reject: false,
    detached: true,
    stdin: 'ignore',
    all: true,
    buffer: { all: true },
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  let timedOut = false;
  let hardKill: NodeJS.Timeout | undefined;
  const bound = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    hardKill = setTimeout(() => killGroup('SIGKILL'), 5_000);
  }, opts.timeoutMs);
  try {
    child.all?.on('data', (chunk: Buffer) => {
      go?.feed(chunk.toString('utf8'));
      const lines = chunk
        .toString('utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const last = lines[lines.length - 1];
      if (last) step = last.length > 120 ? `${last.slice(0, 117)}...` : last;
    });
    const r = await child;
    const tail = String(r.all ?? '')
      .trim()
      .split('\n')
      .slice(-15)
      .join('\n');
    return {
      ok: r.exitCode === 0 && !timedOut,
      timedOut,
      exitCode: r.exitCode ?? -1,
      tail: tail || (r.failed ? String(r.message ?? '') : ''),
    };
  } finally {
    clearTimeout(bound);
    clearTimeout(hardKill);
    clearInterval(tick);
    process.off('exit', onExit);
  }
}

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
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
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((d) => join(d, name))
    .filter((p) => existsSync(p));
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
      const say = deps.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
      // GOBIN inside the cache dir: the rename into place then never crosses file systems.
      await mkdir(cacheDir(deps.env), { recursive: true });
      const gobin = await mkdtemp(join(cacheDir(deps.env), `.go-install-${spec.name}-`));
      const started = Date.now();
      try {
        const args = ['install', ...(spec.goInstall.ldflags ? ['-ldflags', spec.goInstall.ldflags] : []), spec.goInstall.pkg];
        say(
          `building ${spec.name} ${spec.version}: go install ${spec.goInstall.pkg} (a cold build takes minutes; bound ${fmtElapsed(GO_BUILD_TIMEOUT_MS)})`,
        );
        const r = await (deps.build ?? runBuild)(
          go,
          args,
          { ...deps.env, GOBIN: gobin },
          { timeoutMs: GO_BUILD_TIMEOUT_MS, onProgress: say },
        );
        if (r.ok) {
          say(`built ${spec.name} in ${fmtElapsed(Date.now() - started)}`);
          await rename(join(gobin, spec.name), cached);
          const v = await versionOf(spec, cached, deps);
          if (v === spec.version) return { name: spec.name, path: cached, version: v, source: 'go' };
          tried.push(`go install ${spec.goInstall.pkg} reports ${v ?? 'nothing'}`);
        } else {
          const why = r.timedOut ? `timed out after ${fmtElapsed(GO_BUILD_TIMEOUT_MS)}` : `failed with exit code ${r.exitCode}`;
          const last = r.tail.split('\n').pop();
          tried.push(`go install ${spec.goInstall.pkg} ${why}${last ? `: ${last}` : ''}`);
        }
      } finally {
        await rm(gobin, { recursive: true, force: true });
      }
    } else {
      tried.push(`no \`go\` on PATH for go install ${spec.goInstall.pkg}`);
    }
  } else if (spec.noGoInstall) {
    tried.push(spec.noGoInstall);
  }

  throw new EnvironmentError(
    `${spec.name} ${spec.version} not found (${tried.length ? tried.join('; ') : 'not on PATH, not cached'}). ${spec.fix} ` +
      `A binary at ${cached} is used too.`,
  );
}

export class ChecksumError extends Error {}

async function downloadVerified(
  asset: { url: string; checksumUrl: string; archiveMember?: string },
  dest: string,
  deps: ResolveDeps,
): Promise<void> {
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
