// Observing every probe on one version: the oracle's answer (oracle lane), or what a real istiod build
// programs into a sidecar (control-plane lane, through the Lane interface, one build at a time).
import type { CaseRun } from '../catalogue/types.ts';
import type { Verdict } from '../model/types.ts';
import type { Lane, ScenarioHandle } from '../lanes/lane.ts';
import { createLane } from '../lanes/select.ts';
import { expectProbe } from '../oracle/expect.ts';
import type { CompareLane, CompareTarget } from './targets.ts';

export interface Seen {
  verdict: Verdict | 'error';
  cluster: string;
  /** Why the lane could not observe a verdict. */
  error?: string;
}

export type Observations = Map<string, Seen>;

/** Consecutive cases of one scenario under one policy: applied once, probed in turn. */
export function blocks(cases: CaseRun[]): CaseRun[][] {
  const out: CaseRun[][] = [];
  for (const c of cases) {
    const last = out[out.length - 1];
    if (last && last[0]!.policy === c.policy && last[0]!.scenario === c.scenario) last.push(c);
    else out.push([c]);
  }
  return out;
}

export function observeWithOracle(cases: CaseRun[], target: CompareTarget): Observations {
  const out: Observations = new Map();
  for (const c of cases) {
    const e = expectProbe(c.scenario.resources, c.probe, { istioVersion: target.oracleVersion, policy: c.policy });
    out.set(c.id, { verdict: e.verdict, cluster: e.cluster });
  }
  return out;
}

export interface LaneRunOptions {
  say: (line: string) => void;
  /** Called with the lane once created, so an interrupt can tear it down. */
  onLane?: (lane: Lane | undefined) => void;
  createLane?: typeof createLane;
}

/** Runs every case on the control-plane lane with the target's istiod build; setup failures throw. */
export async function observeOnLane(
  cases: CaseRun[],
  target: CompareTarget,
  opts: LaneRunOptions,
): Promise<{ observations: Observations; details: Record<string, string> }> {
  const make = opts.createLane ?? createLane;
  const lane = await make('control-plane', { pin: target.pin, out: opts.say });
  opts.onLane?.(lane);
  const out: Observations = new Map();
  try {
    const info = await lane.setup();
    opts.say(`${target.label}: istiod ${info.istioVersion} ready; ${cases.length} probes`);
    let done = 0;
    for (const block of blocks(cases)) {
      const { scenario, policy } = block[0]!;
      let handle: ScenarioHandle | undefined;
      let failure: string | undefined;
      try {
        handle = await lane.applyScenario(scenario.name, policy, scenario.resources);
      } catch (e) {
        failure = `applying ${policy}/${scenario.name} failed: ${(e as Error).message.split('\n')[0]}`;
      }
      for (const c of block) {
        if (!handle) {
          out.set(c.id, { verdict: 'error', cluster: '', error: failure });
          continue;
        }
        try {
          const o = await lane.observe(handle, c.probe);
          out.set(c.id, { verdict: o.verdict, cluster: o.cluster ?? '', ...(o.error ? { error: o.error } : {}) });
        } catch (e) {
          out.set(c.id, { verdict: 'error', cluster: '', error: `observing failed: ${(e as Error).message.split('\n')[0]}` });
        }
      }
      if (handle) await lane.clearScenario(handle);
      done += block.length;
      if (done % 100 < block.length) opts.say(`${target.label}: ${done}/${cases.length} probes observed`);
    }
    return { observations: out, details: { ...info.details, istioVersion: info.istioVersion } };
  } finally {
    await lane.teardown();
    opts.onLane?.(undefined);
  }
}

export async function observe(
  lane: CompareLane,
  cases: CaseRun[],
  target: CompareTarget,
  opts: LaneRunOptions,
): Promise<{ observations: Observations; details: Record<string, string> }> {
  if (lane === 'oracle') return { observations: observeWithOracle(cases, target), details: { oracleIstioVersion: target.oracleVersion } };
  return observeOnLane(cases, target, opts);
}
