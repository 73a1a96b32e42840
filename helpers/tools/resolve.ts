// Finds a pinned tool binary: on PATH when its version matches, else in our cache, else downloaded from the
// official release with its published sha256 checked, else built with `go install` where Go exists (a build
// of its own, long bound, with progress lines; version checks stay bounded at 30 s).
// Missing everywhere → EnvironmentError that says how to fix it.
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../model/errors.ts';
import { ChecksumError, downloadVerified } from './download.ts';
import { type BuildOptions, type BuildResult, fmtElapsed, GO_BUILD_TIMEOUT_MS, runBuild } from './run-build.ts';
import { cacheDir } from './tool-cache.ts';

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
