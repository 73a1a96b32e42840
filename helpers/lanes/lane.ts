// The one interface every lane implements, so one suite runs on any of them.
// Setup, scenario application and probing are separate calls so a lab grader can drive them one at a time.
import type { Observation, PolicyMode, Probe, ProbeSource, ResourceSet } from '../model/types.ts';

export interface LaneInfo {
  lane: 'kind' | 'control-plane' | 'model';
  /** Exact Istio build observed (e.g. `1.30.3`, or a module pseudo-version for a source build). */
  istioVersion: string;
  /** Free-form facts for reports: tool versions, node image, binary path. */
  details: Record<string, string>;
}

export interface ScenarioHandle {
  name: string;
  policy: PolicyMode;
}

export interface Lane {
  /** Start what the lane needs (cluster, istiod, clients). Idempotent. */
  setup(): Promise<LaneInfo>;
  /**
   * Make the mesh run under this policy (and mesh settings) and with exactly these resources. `sources`: the
   * probe sources the caller will observe from, so a lane that makes Pods makes them all before applying.
   */
  applyScenario(name: string, policy: PolicyMode, resources: ResourceSet, sources?: ProbeSource[]): Promise<ScenarioHandle>;
  /**
   * The Pods this lane runs for a scenario probed from `sources`, when it runs more than those sources' own
   * (the model is told them: which Pods exist decides what a workloadSelector selects).
   */
  podsFor?(resources: ResourceSet, sources: ProbeSource[]): ProbeSource[];
  /** Observe what the mesh does with a probe under the applied scenario. */
  observe(handle: ScenarioHandle, probe: Probe): Promise<Observation>;
  /** Remove the scenario's resources. */
  clearScenario(handle: ScenarioHandle): Promise<void>;
  /**
   * clearScenario(previous) then applyScenario(...) in one step, for a lane that can go from one scenario to
   * the next in fewer steps with the same outcome (the next scenario exactly, nothing of the previous one).
   */
  replaceScenario?(
    previous: ScenarioHandle,
    name: string,
    policy: PolicyMode,
    resources: ResourceSet,
    sources?: ProbeSource[],
  ): Promise<ScenarioHandle>;
  /**
   * Runs `fn` with every apply and observation of this lane answered by a control plane started afresh against
   * the same cluster, then goes back to the lane's own. Some of istiod's choices are left to Go map order, which
   * a long-running process can keep the same from one application to the next; a fresh process draws it again.
   */
  withFreshControlPlane?<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Keep what explains a failed or errored probe (the source sidecar's config, logs) under `dir`;
   * returns the files written. Best effort: it never throws.
   */
  diagnose?(probe: Probe, dir: string): Promise<string[]>;
  /** Remove everything this lane created (unless asked to keep it). Safe to call twice. */
  teardown(): Promise<void>;
}
