// The Istio a run targets, resolved once from the user's `--istio-version` (or the lane's pinned default)
// into one typed value that is passed down: to the lane that runs it, to the model that explains it, and
// across into the suite's process as a file. Nothing below the command line reads the raw flag again.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPinnedBuild, imagePin, PINNED_PILOT, type PilotDiscoveryPin, userPin } from '../tools/pilot-discovery.ts';
import { PINNED } from '../tools/versions.ts';
import type { LaneName } from './select.ts';

export interface IstioTarget {
  lane: LaneName;
  /** What the user named, as typed; absent for the lane's pinned default. */
  requested?: string;
  /** The Istio version whose rules the model applies. */
  rules: string;
  /** The control-plane lane's istiod build. */
  pin?: PilotDiscoveryPin;
  /** The Istio release the kind lane installs. */
  release?: string;
}

/**
 * Which pilot-discovery the control-plane lane runs: the pinned source build; for another
 * `--istio-version`, the binary in PILOT_DISCOVERY, else one copied out of Istio's pilot image
 * (needs Docker; ensurePilotDiscovery says so when there is none).
 */
export function controlPlanePin(istioVersion: string | undefined, env: NodeJS.ProcessEnv): PilotDiscoveryPin {
  if (!istioVersion) return PINNED_PILOT;
  // A pinned build by label, module version or oracle version; the binary's Go build info is checked against it.
  const pinned = findPinnedBuild(istioVersion);
  if (pinned) return pinned;
  if (env.PILOT_DISCOVERY) return userPin(istioVersion, env.PILOT_DISCOVERY);
  return imagePin(istioVersion);
}

export function resolveTarget(lane: LaneName, requested: string | undefined, env: NodeJS.ProcessEnv = process.env): IstioTarget {
  const asked = requested ? { requested } : {};
  if (lane === 'control-plane') {
    const pin = controlPlanePin(requested, env);
    return { lane, ...asked, rules: pin.istioVersion, pin };
  }
  const version = requested ?? PINNED.istio;
  return { lane, ...asked, rules: version, ...(lane === 'kind' ? { release: version } : {}) };
}

/** The target as it crosses into the suite's process (`run` writes it; the suite reads it). */
export function writeTarget(dir: string, target: IstioTarget): string {
  const file = join(dir, 'target.json');
  writeFileSync(file, JSON.stringify(target));
  return file;
}

export function readTarget(file: string): IstioTarget {
  return JSON.parse(readFileSync(file, 'utf8')) as IstioTarget;
}
