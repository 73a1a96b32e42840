// The oracle against every pinned probe of fixtures/rules, without a lane: the pins there are what the
// real istiod did (upstream-*.yaml: Istio's own simulation tests; fuzz-*.yaml: shrunk disagreements found
// by `egress-conformance fuzz`), so each is a rule test the oracle must keep passing.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue, RULES_DIR } from '../catalogue/load.ts';
import { sourcesFor } from '../lanes/control-plane/pods.ts';
import { expectProbe } from './index.ts';
import { PINNED } from '../tools/versions.ts';

// Rule scenarios are checked on the control-plane lane, so their pins are that build's behaviour.
const VERSION = PINNED.controlPlane.istioVersion;
// pending/ holds istiod's answers the lane cannot classify yet (see its README): the oracle must match them too.
const pinned = [RULES_DIR, join(RULES_DIR, 'pending')]
  .flatMap((dir) => expandCases(loadCatalogue(dir, undefined, { requirePins: false })))
  .filter((c) => c.probe.expect[c.policy]);

describe('pinned rule probes (fixtures/rules) on the oracle', () => {
  it('has pinned probes to check', () => {
    expect(pinned.length).toBeGreaterThan(0);
  });
  for (const c of pinned) {
    it(c.id, () => {
      const want = c.probe.expect[c.policy]!;
      // The pins are the control-plane lane's, whose Pods are those it runs for the scenario's probes (one per
      // probe source, one per workload selector, the plain clients): a ServiceEntry workloadSelector sees them all.
      const workloads = sourcesFor(
        c.scenario.resources,
        c.scenario.probes.map((p) => p.from),
      );
      const got = expectProbe(c.scenario.resources, c.probe, { istioVersion: VERSION, policy: c.policy, workloads });
      expect({ verdict: got.verdict, cluster: got.cluster, ...(want.signal ? { signal: got.signal } : {}) }, got.reason).toEqual(want);
    });
  }
});
