// Observing every probe on one version through the one driver: the model lane (the model's rules of the
// target's version), or the control-plane lane with the target's istiod build (one build at a time).
import type { CaseRun } from '../catalogue/types.ts';
import { runCases, withLane } from '../driver/run-cases.ts';
import type { Hop, Verdict } from '../model/types.ts';
import type { Lane } from '../lanes/lane.ts';
import { createLane } from '../lanes/select.ts';
import { warmStackForRun } from '../stack/exclusive.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import type { CompareLane, CompareTarget } from './targets.ts';

export interface Seen {
  verdict: Verdict | 'error';
  cluster: string;
  /** Why the lane could not observe a verdict. */
  error?: string;
  /** The path hop by hop, where the lane followed the call. */
  hops?: Hop[];
}

export type Observations = Map<string, Seen>;

export interface LaneRunOptions {
  say: (line: string) => void;
  /** Called with the lane once created, so an interrupt can tear it down. */
  onLane?: (lane: Lane | undefined) => void;
  createLane?: typeof createLane;
}

/** Runs every case on the lane with the target's version (istiod build or model rules); setup failures throw. */
export async function observe(
  laneName: CompareLane,
  cases: CaseRun[],
  target: CompareTarget,
  opts: LaneRunOptions,
): Promise<{ observations: Observations; details: Record<string, string> }> {
  const make = opts.createLane ?? createLane;
  // The build `up` keeps warm, when it is this target's, is used instead of starting it again (said aloud).
  const warm =
    laneName === 'model' || opts.createLane
      ? undefined
      : await warmStackForRun({ pin: target.pin ?? PINNED_PILOT, what: 'egress-conformance compare', say: opts.say });
  const lane =
    laneName === 'model'
      ? await make('model', { target: { lane: 'model', rules: target.oracleVersion } })
      : (warm?.lane ?? (await make('control-plane', { ...(target.pin ? { pin: target.pin } : {}), out: opts.say })));
  opts.onLane?.(lane);
  const out: Observations = new Map();
  try {
    return await withLane(lane, async (info) => {
      if (laneName !== 'model') opts.say(`${target.label}: istiod ${info.istioVersion} ready; ${cases.length} probes`);
      for await (const { case: c, observation: o } of runCases(lane, cases)) {
        out.set(c.id, {
          verdict: o.verdict,
          cluster: o.cluster ?? '',
          ...(o.error ? { error: o.error } : {}),
          ...(o.hops ? { hops: o.hops } : {}),
        });
        if (laneName !== 'model' && out.size % 100 === 0) opts.say(`${target.label}: ${out.size}/${cases.length} probes observed`);
      }
      const details: Record<string, string> =
        laneName === 'model' ? { oracleIstioVersion: target.oracleVersion } : { ...info.details, istioVersion: info.istioVersion };
      return { observations: out, details };
    });
  } finally {
    opts.onLane?.(undefined);
    await warm?.release();
  }
}
