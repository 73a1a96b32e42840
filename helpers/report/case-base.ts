// A catalogue case as every report lists it, whatever became of it: who probes what, the model's
// expectation under the run's Istio version, and the conformance features the case exercises.
import type { CaseRun } from '../catalogue/types.ts';
import type { ProbeSource } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';
import { featuresOf } from './features.ts';
import type { CaseResult } from './results.ts';

export function caseBase(
  c: CaseRun,
  istioVersion: string,
  /** The Pods the lane runs for the case's block (Lane.podsFor); without it, the probe's own source. */
  workloads?: ProbeSource[],
): Omit<CaseResult, 'outcome'> & Pick<Required<CaseResult>, 'features'> {
  const expected = expectProbe(c.scenario.resources, c.probe, { istioVersion, policy: c.policy, ...(workloads ? { workloads } : {}) });
  return {
    id: c.id,
    policy: c.policy,
    scenario: c.scenario.name,
    from: c.probe.from.namespace,
    to: c.probe.to.raw,
    expected,
    features: featuresOf({ policy: c.policy, resources: c.scenario.resources, expected }),
  };
}
