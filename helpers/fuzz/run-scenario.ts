// One generated scenario on a lane: applied, every probe answered by the oracle and the lane (and the
// simulator when there is one), compared. It stays applied until the next scenario replaces it in one step
// (the lane's replaceScenario: the previous objects deleted, the next created fresh, Pods both need kept, the
// mesh written once) or finishScenarios clears it.
import type { Lane, ScenarioHandle } from '../lanes/lane.ts';
import type { ProbeSource, ResourceSet } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';
import type { Simulator } from '../tools/simulator.ts';
import { differences } from './disagreement.ts';
import { categoryOfObservation } from './outcome.ts';
import { scenarioPods } from './pods.ts';
import type { ProbeOutcome, ScenarioOutcome } from './probe-outcome.ts';
import { admit, toProbe, type FuzzScenario } from './scenario.ts';
import { askSimulator } from './simulate.ts';

let scenarioCounter = 0;
/** The scenario each lane still holds applied between two runScenario calls. */
const applied = new WeakMap<Lane, ScenarioHandle>();

/** Clears the scenario runScenario left applied on `lane`, if any: call it when a run is done with the lane. */
export async function finishScenarios(lane: Lane): Promise<void> {
  const handle = applied.get(lane);
  applied.delete(lane);
  if (handle) await lane.clearScenario(handle);
}

async function apply(lane: Lane, s: FuzzScenario, resources: ResourceSet, sources: ProbeSource[]): Promise<ScenarioHandle> {
  const name = `fuzz-${++scenarioCounter}`;
  const previous = applied.get(lane);
  applied.delete(lane);
  if (previous && lane.replaceScenario) return lane.replaceScenario(previous, name, s.policy, resources, sources);
  if (previous) await lane.clearScenario(previous);
  return lane.applyScenario(name, s.policy, resources, sources);
}

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
  // The lane is told the probes' sources: it makes the same Pods (those of the scenario's selectors and the
  // plain clients besides), and fetches the sources' xDS as soon as the scenario is in.
  const handle = await apply(
    lane,
    s,
    resources,
    s.probes.map((p) => toProbe(p).from),
  );
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
  } catch (e) {
    await lane.clearScenario(handle);
    throw e;
  }
  applied.set(lane, handle);
  for (const p of probes) {
    p.differences = differences(p, !!opts.simulator);
    p.category = categoryOfObservation(p.lane);
  }
  return { probes, disagreeing: probes.filter((p) => p.differences.length > 0), unknownTypes: unknown };
}
