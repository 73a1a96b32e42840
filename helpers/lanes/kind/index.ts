// The kind lane's public surface: the CLI and the suites import from here.
export { KindLane, type KindLaneOptions } from './lane.ts';
export { buildPlan, DEFAULT_TIMEOUTS, type KindPlan, type KindPlanOptions, type Timeouts } from './plan.ts';
export { renderDryRun } from './render.ts';
export { InterruptedError, StepError } from './errors.ts';
export type { K8sOps, ExecResult } from '../../k8s/client.ts';
export type { ProbeToolkit } from './probe-toolkit.ts';
