// The kind lane's public surface: the CLI and the suites import from here.
export { KindLane, type KindLaneOptions } from './lane.ts';
export { dryRun, type DryRunOptions } from './dry-run.ts';
export { DEFAULT_TIMEOUTS, newRunId, type RunOptions, type Timeouts } from './context.ts';
export { InterruptedError, StepError } from '../../model/errors.ts';
export type { K8sOps, ExecResult } from '../../k8s/client.ts';
export type { ProbeToolkit } from './probe-toolkit.ts';
