// The control-plane lane's options and the timings it reports (benchmark, README figures).
import type { PilotDiscoveryPin } from '../../tools/pilot-discovery.ts';
import type { StackTimings } from './stack.ts';

export interface ControlPlaneLaneOptions {
  /** pilot-discovery path; otherwise located (env, cache, PATH) or built when `build` is set. */
  binary?: string;
  /** Build what is missing (pilot-discovery, istioctl, kube and kwok binaries) instead of refusing. */
  build?: boolean;
  pin?: PilotDiscoveryPin;
  /** Keep the run dir (logs, kubeconfig, certificates) after teardown. */
  keepDir?: boolean;
  /** Processes outlive this Node process (the warm stack, exam labs); teardown still stops them. */
  detached?: boolean;
  /** Bound for each wait on istiod after a change. */
  applyTimeoutMs?: number;
  debounceAfter?: string;
  /** IstioOperator text to install instead of fixtures/istio/ALLOW_ANY.yaml (`up -f`). */
  operator?: { text: string; name: string };
  onProgress?: (line: string) => void;
  runId?: string;
}

/** How long the last apply waited for each stage, for the benchmark and for evidence. */
export interface ApplyTimings {
  /** The scenario's client Pods Running and Ready (created before anything is applied). */
  podsMs: number;
  /** The scenario's objects applied (through Istio's validating webhook). */
  applyMs: number;
  /** → every auto-allocation istiod owes the new ServiceEntries is written. */
  allocationMs: number;
  /** → istiod's store holds exactly these objects at this generation, with the API's status. */
  configMs: number;
  /** → the ServiceEntry registry lists exactly these hosts. */
  registryMs: number;
  /** Mesh ConfigMap written → a fresh ADS fetch carries its marker (full push done). */
  meshPushMs: number;
  totalMs: number;
  checks: number;
}

/** Timings of setup's stages, for the benchmark and the report. */
export type SetupTimings = StackTimings & { workloadsMs: number };
