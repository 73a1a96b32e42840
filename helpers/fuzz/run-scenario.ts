// One generated scenario on a lane: applied, every probe answered by the oracle and the lane (and the
// simulator when there is one), compared, then cleared.
import type { Lane } from '../lanes/lane.ts';
import { expectProbe } from '../oracle/index.ts';
import type { Simulator } from '../tools/simulator.ts';
import { differences } from './disagreement.ts';
import { categoryOfObservation } from './outcome.ts';
import { scenarioPods } from './pods.ts';
import type { ProbeOutcome, ScenarioOutcome } from './probe-outcome.ts';
import { admit, toProbe, type FuzzScenario } from './scenario.ts';
import { askSimulator } from './simulate.ts';

let scenarioCounter = 0;

/** Applies one admitted scenario, observes every probe, compares, clears. */
export async function runScenario(
  lane: Lane,
  s: FuzzScenario,
  opts: { oracleVersion: string; simulator?: Simulator },
): Promise<ScenarioOutcome> {
  const a = admit(s);
  if (!a.ok) throw new Error(`runScenario: scenario not admitted: ${a.why}`);
  const resources = a.resources;
  // Every Pod the scenario has exists before it is applied, and the model is told which.
  const workloads = scenarioPods(resources, s.probes);
  const handle = await lane.applyScenario(`fuzz-${++scenarioCounter}`, s.policy, resources, workloads);
  const probes: ProbeOutcome[] = [];
  let unknown: string[] = [];
  try {
    for (const raw of s.probes) {
      const probe = toProbe(raw);
      const oracle = expectProbe(resources, probe, { istioVersion: opts.oracleVersion, policy: s.policy, workloads });
      const lane_ = await lane.observe(handle, probe);
      probes.push({ probe, raw, oracle, lane: lane_, differences: [], category: 'error' });
    }
    if (opts.simulator) unknown = await askSimulator(lane, probes, opts.simulator);
  } finally {
    await lane.clearScenario(handle);
  }
  for (const p of probes) {
    p.differences = differences(p, !!opts.simulator);
    p.category = categoryOfObservation(p.lane);
  }
  return { probes, disagreeing: probes.filter((p) => p.differences.length > 0), unknownTypes: unknown };
}
