// Which lane a run uses, and building it from flags/environment. `auto` takes kind where a Docker
// daemon answers and the control-plane lane otherwise, and says which and why.
import { execa } from 'execa';
import { UserError } from '../model/errors.ts';
import type { Lane } from './lane.ts';
import { PINNED } from '../tools/versions.ts';
import { PINNED_PILOT, type PilotDiscoveryPin } from '../tools/pilot-discovery.ts';
import { type IstioTarget, resolveTarget } from './target.ts';

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

export interface LaneOptions {
  /** The Istio to run, resolved once (target.ts); default: the lane's pinned one. */
  target?: IstioTarget;
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
  const target = opts.target ?? resolveTarget(name, undefined, env);
  if (target.lane !== name) throw new Error(`createLane: a target resolved for the ${target.lane} lane given to the ${name} lane`);
  if (name === 'model') {
    const { ModelLane } = await import('./model/lane.ts');
    return new ModelLane({ istioVersion: target.rules });
  }
  if (name === 'kind') {
    const { KindLane } = await import('./kind/index.ts');
    return new KindLane({
      istioVersion: target.release ?? PINNED.istio,
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
    pin: opts.pin ?? target.pin ?? PINNED_PILOT,
    build: env.EGRESS_BUILD_PILOT === '1',
    ...(opts.out ? { onProgress: opts.out } : {}),
  });
}
