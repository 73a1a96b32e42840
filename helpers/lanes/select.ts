// Which lane a run uses, and building it from flags/environment. `auto` takes kind where a Docker
// daemon answers and the control-plane lane otherwise, and says which and why.
import { execa } from 'execa';
import { UserError } from '../model/errors.ts';
import type { Lane } from './lane.ts';
import { PINNED } from '../tools/versions.ts';
import { findPinnedBuild, imagePin, PINNED_PILOT, userPin, type PilotDiscoveryPin } from '../tools/pilot-discovery.ts';

export type LaneName = 'kind' | 'control-plane' | 'model';
export const LANE_NAMES: readonly LaneName[] = ['kind', 'control-plane', 'model'];

/** The note printed when `oracle` is given for `model`: the old name stays accepted, and says why it went. */
export const ORACLE_ALIAS_NOTE = 'note: lane "oracle" is an alias of "model" (the word promises a truth the model does not have)';

/**
 * `oracle` is read as `model` with a note through `say`. `allowed` narrows the lanes a command can use;
 * anything else is one line naming the flag and the lanes it takes.
 */
export function parseLaneName(
  v: string | undefined,
  flag = '--lane',
  say: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  allowed: readonly LaneName[] = LANE_NAMES,
): LaneName | 'auto' {
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  const name = v === 'oracle' ? 'model' : v;
  if (!allowed.includes(name as LaneName)) throw new UserError(`${flag}: "${v}" is not a lane; use ${allowed.join(', ')} or auto`);
  if (v === 'oracle') say(ORACLE_ALIAS_NOTE);
  return name as LaneName;
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
  if (lane === 'kind' || lane === 'model') return istioVersion ?? PINNED.istio;
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
  if (name === 'model') {
    const { ModelLane } = await import('./model/lane.ts');
    return new ModelLane({ istioVersion: oracleVersionFor('model', opts.istioVersion) });
  }
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
