// What the fuzzer holds for one probe of a scenario once every answer is in, and for the scenario: the
// shape the loop, the shrinker, the fixtures and the corpus all read.
import type { Expectation, Observation, Probe } from '../model/types.ts';
import type { SimResult } from '../tools/simulator.ts';
import type { Category } from './outcome.ts';
import type { FuzzScenario } from './scenario.ts';
import type { Varies } from './variance.ts';

export interface ProbeOutcome {
  probe: Probe;
  raw: FuzzScenario['probes'][number];
  oracle: Expectation;
  lane: Observation;
  simulator?: SimResult;
  /** Cluster names in the CDS snapshot the simulator ran on. */
  simulatorClusters?: Set<string>;
  /** Why the simulator, though asked, has no answer for this probe (it then disagrees with every answer). */
  simulatorMissing?: string;
  /** Where istiod's xDS sent the call (the lane's evaluator), for the outcome mix. */
  category: Category;
  /** Pairs that differ, e.g. `oracle≠lane`; empty when all agree. */
  differences: string[];
  /** The answers istiod gave when the scenario was applied again, where it gave more than one (variance.ts). */
  varies?: Varies;
}

export interface ScenarioOutcome {
  probes: ProbeOutcome[];
  disagreeing: ProbeOutcome[];
  /** Message types in the snapshot the simulator could not decode (it ran without them). */
  unknownTypes: string[];
}
