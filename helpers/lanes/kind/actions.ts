// The vocabulary of a kind-lane plan: steps made of actions, as plain data.
// The dry run renders these; the executor runs them. Nothing here does I/O.
import type { PolicyMode, Probe } from '../../model/types.ts';

export type { K8sObject } from '../../k8s/client.ts';
import type { K8sObject } from '../../k8s/client.ts';

/**
 * Values known only at run time (a container's IP) are written `<<name>>` in argv and manifests and filled in
 * by the executor from an earlier action's `capture`. The dry run prints them as they are.
 */
export const VAR = (name: string): string => `<<${name}>>`;

/** A process run: argv[0] is a program name; `kind` and `istioctl` are mapped to the resolved pinned binaries. */
export interface ExecAction {
  type: 'exec';
  argv: string[];
  /** Extra environment (KUBECONFIG is always the run's own file). */
  env?: Record<string, string>;
  timeoutMs: number;
  /** Total tries; > 1 retries a failed run (not a timeout after the run was interrupted). */
  attempts?: number;
  /** Pause between tries. */
  retryDelayMs?: number;
  /** Store trimmed stdout under this variable name. */
  capture?: string;
  /** A failure is raised as EnvironmentError with this message (the user must fix their machine). */
  environmentError?: string;
  /** Cleanup commands: a failure is reported, never raised. */
  bestEffort?: boolean;
}

export interface ResolveToolAction {
  type: 'resolve-tool';
  tool: 'kind' | 'istioctl';
  version: string;
}

export interface MkdirAction {
  type: 'mkdir';
  path: string;
}

export interface WriteFileAction {
  type: 'write-file';
  path: string;
  content: string;
}

/**
 * Creates the cluster, or with `reuse` keeps an existing one; never acts on a cluster this tool did not
 * create (the owner marker ConfigMap is checked), and never deletes an existing cluster.
 */
export interface EnsureClusterAction {
  type: 'ensure-cluster';
  name: string;
  reuse: boolean;
  listArgv: string[];
  createArgv: string[];
  /** Writes the existing cluster's kubeconfig to the run's own file (for --reuse). */
  exportArgv: string[];
  attempts: number;
  retryDelayMs: number;
  timeoutMs: number;
  marker: K8sObject;
}

export interface ApplyAction {
  type: 'apply';
  manifest: K8sObject;
  /** Create only when absent (pods are mostly immutable; an existing client is kept as is). */
  ifAbsent?: boolean;
  /** With ifAbsent: an existing object whose value of this annotation differs is deleted and created anew. */
  replaceIfAnnotationDiffers?: string;
  timeoutMs?: number;
}

export interface DeleteAction {
  type: 'delete';
  manifest: K8sObject;
  /** Wait until the object is gone. */
  wait?: boolean;
  timeoutMs?: number;
}

export type WaitSpec =
  | { for: 'deployment'; namespace: string; name: string }
  /** Server-side dry-run create of this object until the validating webhook answers. */
  | { for: 'webhook'; object: K8sObject }
  | { for: 'pod-ready'; namespace: string; name: string; containers: string[] }
  /** `docker exec` readiness of a server container, retried. */
  | { for: 'server'; argv: string[] };

export interface WaitAction {
  type: 'wait';
  wait: WaitSpec;
  timeoutMs: number;
}

export interface SleepAction {
  type: 'sleep';
  ms: number;
  why: string;
}

export interface CorednsHostsAction {
  type: 'coredns-hosts';
  entries: { host: string; ip: string }[];
  timeoutMs: number;
}

/** Reads ConfigMap `istio` key `mesh` in istio-system and fails unless the outbound policy is `mode`. */
export interface CheckMeshAction {
  type: 'check-mesh';
  mode: PolicyMode;
}

export interface ProbeAction {
  type: 'probe';
  caseId: string;
  scenario: string;
  policy: PolicyMode;
  probe: Probe;
  /** What runs in the client container, from helpers/probes/commands.ts; the same command for the control. */
  argv: string[];
  container: 'curl' | 'psql';
  /** Client pod of the probe's source and of the control namespace. */
  pod: { namespace: string; name: string };
  controlPod: { namespace: string; name: string };
}

/** Cleanup: remove every container carrying the run label. */
export interface RemoveContainersAction {
  type: 'remove-containers';
  label: string;
  listArgv: string[];
}

/** Cleanup: delete the cluster, but only if this run created it. */
export interface DeleteClusterAction {
  type: 'delete-cluster';
  name: string;
  argv: string[];
  timeoutMs: number;
}

/** Cleanup: delete scenario resources still applied (only when the cluster survives the run). */
export interface RemoveScenarioLeftoversAction {
  type: 'remove-scenario-leftovers';
}

export interface RemoveDirAction {
  type: 'remove-dir';
  path: string;
}

/** A line for the user (e.g. what --keep left behind and how to remove it); does nothing else. */
export interface NoteAction {
  type: 'note';
  text: string;
}

export type Action =
  | ExecAction
  | ResolveToolAction
  | MkdirAction
  | WriteFileAction
  | EnsureClusterAction
  | ApplyAction
  | DeleteAction
  | WaitAction
  | SleepAction
  | CorednsHostsAction
  | CheckMeshAction
  | ProbeAction
  | RemoveContainersAction
  | DeleteClusterAction
  | RemoveScenarioLeftoversAction
  | RemoveDirAction
  | NoteAction;

export type Phase = 'preflight' | 'cluster' | 'servers' | 'dns' | 'namespaces' | 'istio' | 'clients' | 'scenario' | 'teardown';

export interface Step {
  phase: Phase;
  title: string;
  actions: Action[];
}
