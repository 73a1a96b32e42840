// The model (helpers/oracle) as a lane: what it says Istio does with each probe, through the same Lane
// interface and driver as the lanes that observe a real Istio, so "the model's answer" is one more lane
// and not a wrapper written again by each command. Instant, needs no tool. It is a model: it explains,
// the real istiod is the truth.
import type { Expectation, Observation, PolicyMode, Probe, ResourceSet } from '../../model/types.ts';
import { expectProbe } from '../../oracle/index.ts';
import type { Lane, LaneInfo, ScenarioHandle } from '../lane.ts';

/** The model's expectation in the shape a lane reports; the reason is kept as evidence and summary. */
export function modelObservation(e: Expectation): Observation {
  return {
    verdict: e.verdict,
    cluster: e.cluster,
    ...(e.signal ? { signal: e.signal } : {}),
    ...(e.hops ? { hops: e.hops } : {}),
    summary: e.reason,
    evidence: { listener: e.listener, ...(e.signal === 'http-502' ? { directResponse: 502 } : {}), reason: e.reason },
  };
}

export interface ModelLaneOptions {
  /** The Istio version whose rules the model applies. */
  istioVersion: string;
}

export class ModelLane implements Lane {
  private readonly scenarios = new Map<string, { policy: PolicyMode; resources: ResourceSet }>();

  constructor(private readonly opts: ModelLaneOptions) {}

  async setup(): Promise<LaneInfo> {
    return {
      lane: 'model',
      istioVersion: this.opts.istioVersion,
      details: { model: `helpers/oracle, rules of Istio ${this.opts.istioVersion}` },
    };
  }

  async applyScenario(name: string, policy: PolicyMode, resources: ResourceSet): Promise<ScenarioHandle> {
    this.scenarios.set(name, { policy, resources });
    return { name, policy };
  }

  async observe(handle: ScenarioHandle, probe: Probe): Promise<Observation> {
    const s = this.scenarios.get(handle.name);
    if (!s) throw new Error(`model lane: scenario ${handle.name} is not applied`);
    return modelObservation(expectProbe(s.resources, probe, { istioVersion: this.opts.istioVersion, policy: s.policy }));
  }

  async clearScenario(handle: ScenarioHandle): Promise<void> {
    this.scenarios.delete(handle.name);
  }

  async teardown(): Promise<void> {
    this.scenarios.clear();
  }
}
