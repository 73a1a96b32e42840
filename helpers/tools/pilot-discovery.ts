// Locates (and on request builds) the pinned pilot-discovery binary for the control-plane lane.
//
// Order: $PILOT_DISCOVERY, then the cache (`${XDG_CACHE_HOME:-$HOME/.cache}/istio-egress-conformance/bin/
// pilot-discovery-<goModuleVersion>`), then a `pilot-discovery` on PATH whose build matches the pin.
// A `go install` build reports `Version:"unknown"` from `pilot-discovery version`, so which build a binary
// is comes from the Go build info inside it (go-buildinfo.ts): the istio.io/istio module version, or the
// release version stamped into an official build. Every pinned build is in fixtures/versions.json.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError, UserError } from '../model/errors.ts';
import { exitCodeFor, onInterrupt } from '../process/interrupt.ts';
import { controlPlaneBuilds } from './versions.ts';
import { readGoBuildInfo, stampedIstioVersion, type GoBuildInfo } from './go-buildinfo.ts';
import { GO_BUILD_TIMEOUT_MS, fmtElapsed, runBuild } from './run-build.ts';
import { cacheDir as toolCacheDir, isExecutable } from './tool-cache.ts';

export interface PilotDiscoveryPin {
  /** Go module version of istio.io/istio, e.g. `v0.0.0-20260827124520-eed52ebb66ad`. */
  goModuleVersion: string;
  /** The Istio version this build stands for, e.g. `1.32.0-alpha.eed52ebb66ad`. */
  istioVersion: string;
  commit: string;
  /** Short name of a pinned build, e.g. `master-2026-04-23`. */
  label?: string;
  /** Extra environment for `go install` (GONOSUMDB for modules the checksum database lacks). */
  goEnv?: Record<string, string>;
  /** `path@version` → h1: sum recorded from the first build of modules fetched without the checksum database. */
  unverifiedSums?: Record<string, string>;
}

/** Every pinned istiod build (fixtures/versions.json), the lane's default first. */
export const PINNED_BUILDS: readonly PilotDiscoveryPin[] = controlPlaneBuilds().map((b) => ({
  goModuleVersion: b.goModuleVersion,
  istioVersion: b.istioVersion,
  commit: b.commit,
  label: b.label,
  ...(b.goEnv ? { goEnv: b.goEnv } : {}),
  ...(b.unverifiedSums ? { unverifiedSums: b.unverifiedSums } : {}),
}));

export const PINNED_PILOT: PilotDiscoveryPin = PINNED_BUILDS[0]!;

/** The pinned build named by its label, Go module version, commit or oracle version; undefined when none is. */
export function findPinnedBuild(id: string): PilotDiscoveryPin | undefined {
  return PINNED_BUILDS.find((b) => id === b.label || id === b.goModuleVersion || id === b.istioVersion || id === b.commit);
}

export function pinnedBuildNames(): string {
  return PINNED_BUILDS.map((b) => `${b.label} (${b.goModuleVersion}, rules of ${b.istioVersion})`).join(', ');
}

export interface FoundBinary {
  path: string;
  source: 'env' | 'cache' | 'path';
  pin: PilotDiscoveryPin;
}

export const GO_PACKAGE = 'istio.io/istio/pilot/cmd/pilot-discovery';

/** Istio programs built from the same pinned module version: istiod, and istioctl (used offline for `validate`). */
export const GO_PROGRAMS = { 'pilot-discovery': GO_PACKAGE, istioctl: 'istio.io/istio/istioctl/cmd/istioctl' } as const;
export type GoProgram = keyof typeof GO_PROGRAMS;

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return toolCacheDir(env);
}

export function cachedBinaryPath(
  pin: PilotDiscoveryPin = PINNED_PILOT,
  env: NodeJS.ProcessEnv = process.env,
  program: GoProgram = 'pilot-discovery',
): string {
  return join(cacheDir(env), `${program}-${pin.goModuleVersion.replaceAll(':', '-')}`);
}

/** The cached istioctl built from the pinned module version, if built (`tools install istioctl-build`). */
export function findIstioctlBuildSync(pin: PilotDiscoveryPin = PINNED_PILOT, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const p = cachedBinaryPath(pin, env, 'istioctl');
  return isExecutable(p) ? p : undefined;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** True when the binary at `path` is the pinned build, by the Go build info inside it (not its `version` output). */
export async function matchesPin(path: string, pin: PilotDiscoveryPin = PINNED_PILOT): Promise<boolean> {
  try {
    verifyPilotBuild(path, pin, 'path');
    return true;
  } catch {
    return false;
  }
}

/** Finds the binary without building anything; undefined when there is none. */
export async function findPilotDiscovery(
  pin: PilotDiscoveryPin = PINNED_PILOT,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FoundBinary | undefined> {
  const fromEnv = env.PILOT_DISCOVERY;
  if (fromEnv) {
    // An explicit path that does not work is a mistake to report, not to paper over with another binary.
    if (!isExecutable(fromEnv)) {
      throw new EnvironmentError(`PILOT_DISCOVERY=${fromEnv} is not an executable file; fix the path or unset PILOT_DISCOVERY`);
    }
    return { path: fromEnv, source: 'env', pin };
  }
  const cached = cachedBinaryPath(pin, env);
  if (isExecutable(cached)) return { path: cached, source: 'cache', pin };
  const p = onPath('pilot-discovery', env);
  if (p && (await matchesPin(p, pin))) return { path: p, source: 'path', pin };
  return undefined;
}

/** Synchronous check used by `describe.skipIf` in tests: env or cache only (no subprocesses). */
export function findPilotDiscoverySync(pin: PilotDiscoveryPin = PINNED_PILOT, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PILOT_DISCOVERY) return isExecutable(env.PILOT_DISCOVERY) ? env.PILOT_DISCOVERY : undefined;
  const cached = cachedBinaryPath(pin, env);
  return isExecutable(cached) ? cached : undefined;
}

export interface EnsureOptions {
  /** Build with `go install` when not found. */
  build: boolean;
  onProgress?: (line: string) => void;
  pin?: PilotDiscoveryPin;
}

export function missingBinaryMessage(pin: PilotDiscoveryPin = PINNED_PILOT): string {
  return (
    `pilot-discovery ${pin.goModuleVersion} not found (looked at $PILOT_DISCOVERY, ${cachedBinaryPath(pin)}, PATH); ` +
    `run \`egress-conformance tools install pilot-discovery${pin.label && pin.goModuleVersion !== PINNED_PILOT.goModuleVersion ? ` --version ${pin.label}` : ''}\` (needs Go) or set PILOT_DISCOVERY=/path/to/pilot-discovery`
  );
}

/** A pin for a release taken from Istio's pilot image (where Docker exists), e.g. `image:1.30.3`. */
export const IMAGE_PREFIX = 'image:';

/** A pin for a binary the user supplies in PILOT_DISCOVERY for a release version: its build info must say that version. */
export const USER_PREFIX = 'user-supplied:';

export function userPin(istioVersion: string, path: string): PilotDiscoveryPin {
  return { goModuleVersion: `${USER_PREFIX}${path}`, istioVersion, commit: `release ${istioVersion}` };
}

export function imagePin(istioVersion: string): PilotDiscoveryPin {
  return { goModuleVersion: `${IMAGE_PREFIX}${istioVersion}`, istioVersion, commit: `release ${istioVersion}` };
}

/**
 * Copies pilot-discovery out of docker.io/istio/pilot:<version> into the cache: the way to run a release
 * build where the Go module proxy serves only pseudo-versions. The container is created, never started.
 */
export async function copyFromPilotImage(
  pin: PilotDiscoveryPin,
  say: (l: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<string> {
  const version = pin.goModuleVersion.slice(IMAGE_PREFIX.length);
  const image = `docker.io/istio/pilot:${version}`;
  const target = cachedBinaryPath(pin);
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 15_000 });
  if (info.exitCode !== 0) {
    throw new EnvironmentError(
      `pilot-discovery ${version}: no Docker daemon answers to copy it from ${image}; set PILOT_DISCOVERY=/path/to/pilot-discovery of ${version}, or drop --istio-version to use the pinned build`,
    );
  }
  say(`copying pilot-discovery out of ${image}`);
  const created = await execa('docker', ['create', '--label', 'egress-conformance.io/managed=true', image], {
    reject: false,
    timeout: 600_000,
  });
  if (created.exitCode !== 0) throw new EnvironmentError(`docker create ${image} failed: ${created.stderr.trim().split('\n').pop() ?? ''}`);
  const id = created.stdout.trim();
  try {
    mkdirSync(cacheDir(), { recursive: true });
    const tmp = `${target}.part`;
    try {
      const cp = await execa('docker', ['cp', `${id}:/usr/local/bin/pilot-discovery`, tmp], { reject: false, timeout: 300_000 });
      if (cp.exitCode !== 0) throw new EnvironmentError(`docker cp from ${image} failed: ${cp.stderr.trim().split('\n').pop() ?? ''}`);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    return target;
  } finally {
    await execa('docker', ['rm', '-f', id], { reject: false, timeout: 60_000 });
  }
}

/** What a binary's Go build info says it is, in words, e.g. `istio.io/istio v0.0.0-2026… (master-2026-04-23)`. */
export function describeBuild(info: GoBuildInfo): string {
  const stamped = stampedIstioVersion(info);
  const pinned = PINNED_BUILDS.find((b) => b.goModuleVersion === info.main.version);
  return `${info.path || 'a Go program'} from ${info.main.path || '?'} ${info.main.version || '?'}${stamped ? ` stamped ${stamped}` : ''}${pinned ? ` (pinned build ${pinned.label})` : ''}`;
}

/**
 * Checks by the Go build info inside the binary (never by a flag or its `version` output) that it is the
 * build the pin names: the istio.io/istio module version for a source build, the stamped release
 * version for one from Istio's image. A user-supplied binary must be the version the user asked for.
 * Returns the build info; throws when the binary is another build.
 */
export function verifyPilotBuild(path: string, pin: PilotDiscoveryPin, source: FoundBinary['source'] | 'built'): GoBuildInfo {
  const info = readGoBuildInfo(path);
  const where = source === 'env' ? `PILOT_DISCOVERY=${path}` : path;
  const fix =
    source === 'env'
      ? `unset PILOT_DISCOVERY, or name its build with --istio-version (pinned builds: ${pinnedBuildNames()})`
      : `delete it and run \`egress-conformance tools install pilot-discovery --version ${pin.label ?? pin.goModuleVersion}\``;
  const Err = source === 'env' ? UserError : EnvironmentError;
  if (info.path !== GO_PACKAGE) throw new Err(`${where} is not pilot-discovery: its Go build info says ${describeBuild(info)}; ${fix}`);
  if (pin.goModuleVersion.startsWith(IMAGE_PREFIX) || pin.goModuleVersion.startsWith(USER_PREFIX)) {
    // A release build: Istio's Makefile stamps the version (pkg/version.buildVersion) into the binary.
    const stamped = stampedIstioVersion(info);
    if (stamped !== pin.istioVersion) {
      throw new Err(
        `${where} is ${describeBuild(info)}, not Istio ${pin.istioVersion}${stamped ? '' : ' (no release version stamped in it)'}; ${fix}`,
      );
    }
    return info;
  }
  if (info.main.path !== 'istio.io/istio' || info.main.version !== pin.goModuleVersion) {
    throw new Err(`${where} is ${describeBuild(info)}, not ${pin.label ?? ''} istio.io/istio ${pin.goModuleVersion}; ${fix}`);
  }
  return info;
}

/** Sums of modules fetched without the checksum database that differ from the ones recorded for the pin. */
export function unverifiedSumMismatches(info: GoBuildInfo, pin: PilotDiscoveryPin): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(pin.unverifiedSums ?? {})) {
    const at = key.lastIndexOf('@');
    const dep = info.deps.find((d) => d.path === key.slice(0, at) && d.version === key.slice(at + 1));
    // A module the program does not link (istioctl and pilot-discovery differ) has nothing to compare.
    if (dep && dep.sum !== want) out.push(`${key} has ${dep.sum ?? 'no sum'}, recorded ${want}`);
  }
  return out;
}

/** The modules of a build that the checksum database cannot vouch for (matched by the pin's GONOSUMDB). */
export function unverifiedModules(info: GoBuildInfo, pin: PilotDiscoveryPin): Record<string, string> {
  const prefixes = (pin.goEnv?.GONOSUMDB ?? '').split(',').filter(Boolean);
  const out: Record<string, string> = {};
  for (const d of [info.main, ...info.deps]) {
    if (d.sum && prefixes.some((p) => d.path === p || d.path.startsWith(`${p}/`))) out[`${d.path}@${d.version}`] = d.sum;
  }
  return out;
}

export async function ensurePilotDiscovery(opts: EnsureOptions): Promise<FoundBinary> {
  const pin = opts.pin ?? PINNED_PILOT;
  const found = await findPilotDiscovery(pin);
  if (found) {
    verifyPilotBuild(found.path, pin, found.source);
    return found;
  }
  if (pin.goModuleVersion.startsWith(IMAGE_PREFIX)) return { path: await copyFromPilotImage(pin, opts.onProgress), source: 'cache', pin };
  if (!opts.build) throw new EnvironmentError(missingBinaryMessage(pin));
  const path = await installPilotDiscovery({ onProgress: opts.onProgress, pin });
  return { path, source: 'cache', pin };
}

export interface InstallOptions {
  onProgress?: (line: string) => void;
  pin?: PilotDiscoveryPin;
  /** Rebuild even when the cache already holds the binary. */
  force?: boolean;
  /** Seconds between "still building" lines. */
  tickSeconds?: number;
  program?: GoProgram;
}

/**
 * Builds the pinned pilot-discovery with `go install` into a temporary GOBIN inside the cache directory,
 * then renames it into place, so a concurrent reader never sees a half-written binary.
 * Returns the cached path. Usable as the body of `egress-conformance tools install pilot-discovery`.
 */
export async function installPilotDiscovery(opts: InstallOptions = {}): Promise<string> {
  const pin = opts.pin ?? PINNED_PILOT;
  const program = opts.program ?? 'pilot-discovery';
  const pkg = GO_PROGRAMS[program];
  const say = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const target = cachedBinaryPath(pin, process.env, program);
  if (!opts.force && isExecutable(target)) {
    if (program === 'pilot-discovery') verifyPilotBuild(target, pin, 'cache');
    say(`${program} ${pin.goModuleVersion} already installed at ${target}`);
    return target;
  }
  const goVersion = await execa('go', ['version'], { reject: false });
  if (goVersion.failed) {
    throw new EnvironmentError(
      `building ${program} needs the Go toolchain (\`go\` not found on PATH); install Go >= 1.24 from https://go.dev/dl/ ` +
        (program === 'pilot-discovery' ? 'or download a pilot-discovery binary and set PILOT_DISCOVERY=/path/to/it' : 'first'),
    );
  }
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const gobin = await mkdtemp(join(dir, '.build-'));
  const started = Date.now();
  say(`building ${pkg}@${pin.goModuleVersion} with ${goVersion.stdout.trim()} (this downloads ~1 GB of modules the first time)`);
  // Ctrl-C during a build of minutes: stop go (runBuild ends its process group on exit) and remove the
  // half-built GOBIN, then exit as interrupted.
  const stopListening = onInterrupt((sig) => {
    rmSync(gobin, { recursive: true, force: true });
    say(`${sig}: build stopped, ${gobin} removed`);
    process.exit(exitCodeFor(sig));
  });
  try {
    // runBuild adds -v, so the progress lines name the package compiling or the link, not a stale download.
    const r = await runBuild(
      'go',
      ['install', `${pkg}@${pin.goModuleVersion}`],
      { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', ...(pin.goEnv ?? {}) },
      { onProgress: say, timeoutMs: GO_BUILD_TIMEOUT_MS, ...(opts.tickSeconds ? { tickMs: opts.tickSeconds * 1000 } : {}) },
    );
    if (!r.ok)
      throw new EnvironmentError(
        `go install ${pkg}@${pin.goModuleVersion} ${r.timedOut ? `timed out after ${fmtElapsed(GO_BUILD_TIMEOUT_MS)}` : `failed (exit ${r.exitCode})`}:\n${r.tail}`,
      );
    const built = join(gobin, program);
    if (!existsSync(built)) throw new EnvironmentError(`go install finished but ${built} is missing`);
    checkBuiltSums(built, pin, program, say);
    renameSync(built, target);
    say(`built ${program} in ${fmtElapsed(Date.now() - started)} → ${target}`);
    return target;
  } finally {
    stopListening();
    rmSync(gobin, { recursive: true, force: true });
  }
}

/**
 * A build that fetched modules without the checksum database (the pin's GONOSUMDB) must have the sums
 * recorded in fixtures/versions.json the first time; a build with other sums is refused, since the
 * module proxy then served other code under the same version.
 */
function checkBuiltSums(built: string, pin: PilotDiscoveryPin, program: GoProgram, say: (l: string) => void): void {
  if (!pin.goEnv?.GONOSUMDB) return;
  const info = readGoBuildInfo(built);
  if (program === 'pilot-discovery') verifyPilotBuild(built, pin, 'built');
  const bad = unverifiedSumMismatches(info, pin);
  if (bad.length) {
    throw new EnvironmentError(
      `${program} ${pin.goModuleVersion}: modules fetched without the checksum database differ from the ones recorded in fixtures/versions.json: ${bad.join('; ')}`,
    );
  }
  const got = unverifiedModules(info, pin);
  const unrecorded = Object.keys(got).filter((k) => !pin.unverifiedSums?.[k]);
  if (unrecorded.length)
    say(
      `record these sums under unverifiedSums of ${pin.label ?? pin.goModuleVersion} in fixtures/versions.json: ${JSON.stringify(Object.fromEntries(unrecorded.map((k) => [k, got[k]])))}`,
    );
}
