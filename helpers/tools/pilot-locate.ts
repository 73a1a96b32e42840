// Where a pinned build's binaries are, without building anything: pilot-discovery from $PILOT_DISCOVERY, then
// the cache (`${XDG_CACHE_HOME:-$HOME/.cache}/istio-egress-conformance/bin/pilot-discovery-<goModuleVersion>`),
// then a `pilot-discovery` on PATH whose build matches the pin; the istioctl built from the same pin.
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../model/errors.ts';
import { type GoProgram, PINNED_PILOT, type PilotDiscoveryPin } from './pilot-discovery.ts';
import { verifyPilotBuild } from './pilot-verify.ts';
import { cacheDir, isExecutable } from './tool-cache.ts';

export interface FoundBinary {
  path: string;
  source: 'env' | 'cache' | 'path';
  pin: PilotDiscoveryPin;
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

export function missingBinaryMessage(pin: PilotDiscoveryPin = PINNED_PILOT): string {
  return (
    `pilot-discovery ${pin.goModuleVersion} not found (looked at $PILOT_DISCOVERY, ${cachedBinaryPath(pin)}, PATH); ` +
    `run \`egress-conformance tools install pilot-discovery${pin.label && pin.goModuleVersion !== PINNED_PILOT.goModuleVersion ? ` --version ${pin.label}` : ''}\` (needs Go) or set PILOT_DISCOVERY=/path/to/pilot-discovery`
  );
}
