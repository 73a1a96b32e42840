// One `go build` of several programs of one wrapper module in helpers/tools/go/ (go.mod and go.sum
// committed), into the per-machine tool cache. Programs that share a module are built by one go command:
// the packages they share compile once, and go overlaps module downloads with compiles.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { EnvironmentError } from '../model/errors.ts';
import { fmtElapsed, GO_BUILD_TIMEOUT_MS, runBuild } from './run-build.ts';
import { cacheDir } from './tool-cache.ts';

export const GO_WRAPPERS_DIR = fileURLToPath(new URL('./go/', import.meta.url));

export interface WrapperProgram {
  /** Binary name (the last element of its package path, without a /vN suffix, as go names it). */
  name: string;
  /** Package to build, from the module's dependencies ('.' for the module's own main). */
  pkg: string;
  /** Where it goes in the cache. */
  target: string;
}

export interface WrapperBuild {
  /** Folder under helpers/tools/go/. */
  module: string;
  ldflags: string;
  programs: WrapperProgram[];
  /** For messages: what is built, e.g. "kube-controller-manager, kube-scheduler v1.35.4". */
  label: string;
}

export interface WrapperBuildOptions {
  onProgress?: (line: string) => void;
  tickMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** The name go gives the binary of a package built with -o DIR: its last element, skipping a /vN suffix. */
export function binaryNameOf(pkg: string): string {
  const parts = pkg.split('/');
  const last = parts.at(-1) ?? pkg;
  return /^v\d+$/.test(last) && parts.length > 1 ? parts.at(-2)! : basename(last);
}

/**
 * Builds every program into a temp dir inside the cache, then renames each into place, so a concurrent
 * reader never runs half a binary. CGO off and -trimpath: static binaries that do not depend on this machine.
 */
export async function buildWrapper(b: WrapperBuild, opts: WrapperBuildOptions = {}): Promise<string[]> {
  const env = opts.env ?? process.env;
  const say = opts.onProgress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const go = await execa('go', ['version'], { reject: false, env });
  if (go.failed)
    throw new EnvironmentError(
      `building ${b.label} needs the Go toolchain (\`go\` not found on PATH); install Go >= 1.26 from https://go.dev/dl/`,
    );
  const dir = cacheDir(env);
  mkdirSync(dir, { recursive: true });
  const out = await mkdtemp(join(dir, `.build-${b.module}-`));
  const started = Date.now();
  say(`building ${b.label} from helpers/tools/go/${b.module} with ${go.stdout.trim()} (one go build)`);
  try {
    // With one package, -o names the file; with several, -o names a folder and go names each binary.
    const single = b.programs.length === 1;
    const dest = single ? join(out, b.programs[0]!.name) : `${out}/`;
    const r = await runBuild(
      'go',
      ['build', '-trimpath', '-ldflags', b.ldflags, '-o', dest, ...b.programs.map((p) => p.pkg)],
      { ...env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
      {
        timeoutMs: GO_BUILD_TIMEOUT_MS,
        onProgress: say,
        cwd: join(GO_WRAPPERS_DIR, b.module),
        ...(opts.tickMs ? { tickMs: opts.tickMs } : {}),
      },
    );
    if (!r.ok) {
      throw new EnvironmentError(
        `building ${b.label} ${r.timedOut ? `timed out after ${fmtElapsed(GO_BUILD_TIMEOUT_MS)}` : `failed (exit ${r.exitCode})`}:\n${r.tail}`,
      );
    }
    for (const p of b.programs) {
      const built = join(out, single ? p.name : binaryNameOf(p.pkg));
      if (!existsSync(built)) throw new EnvironmentError(`go build finished but ${built} is missing`);
      renameSync(built, p.target);
    }
    say(`built ${b.label} in ${fmtElapsed(Date.now() - started)} → ${b.programs.map((p) => p.target).join(', ')}`);
    return b.programs.map((p) => p.target);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
