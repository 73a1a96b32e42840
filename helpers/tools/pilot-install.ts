// Puts a pinned build's binary in the cache: built with `go install` (pilot-discovery, or the istioctl of the
// same module version), or for a release pin copied out of Istio's image; ensured before a run.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../model/errors.ts';
import { exitCodeFor, onInterrupt } from '../process/interrupt.ts';
import { readGoBuildInfo } from './go-buildinfo.ts';
import { GO_PROGRAMS, type GoProgram, IMAGE_PREFIX, PINNED_PILOT, type PilotDiscoveryPin } from './pilot-discovery.ts';
import { copyFromPilotImage } from './pilot-image.ts';
import { cachedBinaryPath, type FoundBinary, findPilotDiscovery, missingBinaryMessage } from './pilot-locate.ts';
import { unverifiedModules, unverifiedSumMismatches, verifyPilotBuild } from './pilot-verify.ts';
import { GO_BUILD_TIMEOUT_MS, fmtElapsed, runBuild } from './run-build.ts';
import { cacheDir, isExecutable } from './tool-cache.ts';

export interface EnsureOptions {
  /** Build with `go install` when not found. */
  build: boolean;
  onProgress?: (line: string) => void;
  pin?: PilotDiscoveryPin;
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
  const dir = cacheDir(process.env);
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
