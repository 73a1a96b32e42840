// Which lane a run uses, and building it from flags/environment. `auto` takes kind where a Docker
// daemon answers and the control-plane lane otherwise, and says which and why.
import { execa } from 'execa';
import { UserError } from '../model/errors.ts';
import type { Lane } from './lane.ts';
import { PINNED } from '../tools/versions.ts';
import { findPinnedBuild, imagePin, PINNED_PILOT, userPin, type PilotDiscoveryPin } from '../tools/pilot-discovery.ts';

export type LaneName = 'kind' | 'control-plane';
export const LANE_NAMES: readonly LaneName[] = ['kind', 'control-plane'];

export function parseLaneName(v: string | undefined, flag = '--lane'): LaneName | 'auto' {
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (!LANE_NAMES.includes(v as LaneName)) throw new UserError(`${flag}: "${v}" is not a lane; use kind, control-plane or auto`);
  return v as LaneName;
}

export async function dockerAnswers(): Promise<boolean> {
  const r = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 15_000 });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

export async function chooseLane(requested: LaneName | 'auto', say: (l: string) => void): Promise<LaneName> {
  if (requested !== 'auto') return requested;
  if (await dockerAnswers()) {
    say('lane: kind (a Docker daemon answers)');
    return 'kind';
  }
  say('lane: control-plane (no Docker daemon answers, so no kind cluster; the real istiod runs on loopback instead)');
  return 'control-plane';
}

/**
 * The Istio version whose rules the oracle applies for a lane. The control-plane lane runs the
 * pilot-discovery build pinned for it (or the one in PILOT_DISCOVERY, whose version the user names).
 */
export function oracleVersionFor(lane: LaneName, istioVersion: string | undefined): string {
  if (lane === 'kind') return istioVersion ?? PINNED.istio;
  return istioVersion ? (findPinnedBuild(istioVersion)?.istioVersion ?? istioVersion) : PINNED_PILOT.istioVersion;
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

export interface LaneOptions {
  istioVersion?: string;
  /** The control-plane lane's istiod build, when the caller has chosen one (compare runs two). */
  pin?: PilotDiscoveryPin;
  keep?: boolean;
  reuse?: boolean;
  runId?: string;
  /** Where a lane keeps diagnostics of a failed setup or scenario (kind: `<dir>/diagnostics`). */
  artifactsDir?: string;
  out?: (l: string) => void;
  env?: NodeJS.ProcessEnv;
}

export async function createLane(name: LaneName, opts: LaneOptions = {}): Promise<Lane> {
  const env = opts.env ?? process.env;
  if (name === 'kind') {
    const { KindLane } = await import('./kind/index.ts');
    return new KindLane({
      istioVersion: opts.istioVersion ?? PINNED.istio,
      keep: opts.keep,
      reuse: opts.reuse,
      ...(opts.runId ? { runId: opts.runId } : {}),
      ...(opts.artifactsDir ? { artifactsDir: opts.artifactsDir } : {}),
      ...(opts.out ? { out: opts.out } : {}),
      preloadImages: env.EGRESS_KIND_PRELOAD_IMAGES === '1',
    });
  }
  const { ControlPlaneLane } = await import('./control-plane/lane.ts');
  return new ControlPlaneLane({
    pin: opts.pin ?? controlPlanePin(opts.istioVersion, env),
    build: env.EGRESS_BUILD_PILOT === '1',
    ...(opts.out ? { onProgress: opts.out } : {}),
  });
}
