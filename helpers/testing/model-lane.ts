// A stand-in lane for the fuzzer's own machinery (the loop, replays, shrinking, fixtures): it answers as the model
// does, except where the test plants another answer, so a test knows exactly which probes must disagree. Istio's
// behaviour is never judged with it; the real lane runs in suites/fuzz.test.ts and `egress-conformance fuzz`.
import type { Lane, ScenarioHandle } from '../lanes/lane.ts';
import type { Observation, PolicyMode, Probe, ResourceSet } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';

/** What the lane answers instead of the model: `application` counts applyScenario calls from 1. */
export type Planted = (application: number, probe: Probe) => Observation | undefined;

export class ModelAnsweringLane implements Lane {
  applied = 0;
  cleared = 0;
  private current?: ResourceSet;

  constructor(
    private readonly istioVersion: string,
    private readonly planted: Planted = () => undefined,
  ) {}

  async setup() {
    return { lane: 'control-plane' as const, istioVersion: this.istioVersion, details: {} };
  }

  async applyScenario(name: string, policy: PolicyMode, resources: ResourceSet): Promise<ScenarioHandle> {
    this.applied++;
    this.current = resources;
    return { name, policy };
  }

  async observe(handle: ScenarioHandle, probe: Probe): Promise<Observation> {
    if (!this.current) throw new Error('observe before any scenario was applied');
    const planted = this.planted(this.applied, probe);
    if (planted) return planted;
    const e = expectProbe(this.current, probe, { istioVersion: this.istioVersion, policy: handle.policy });
    return {
      verdict: e.verdict,
      cluster: e.cluster,
      ...(e.signal ? { signal: e.signal } : {}),
      evidence: {
        listener: e.listener,
        listenerMatch: e.listener === 'virtualOutbound' ? 'virtualOutbound' : 'wildcard',
        cluster: e.cluster,
      },
    };
  }

  async clearScenario() {
    this.cleared++;
  }

  async teardown() {}
}
