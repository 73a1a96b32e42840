// The one seam of the kind lane: every phase is a plain async function over a Runner. The live runner
// (live-runner.ts) runs processes and talks to the API server; the recording runner (recording-runner.ts)
// does neither and answers with stated assumptions, so `--dry-run` runs the very same functions. Both emit
// the same trace, which is what the dry run prints and what the equivalence test compares.
import type { ExecResult, K8sObject, K8sOps, ObjectRef } from '../../k8s/client.ts';
import type { ResolvedTool } from '../../tools/resolve.ts';

export type { ExecResult, K8sObject, ObjectRef };

export interface ProcessResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  canceled: boolean;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Extra environment (KUBECONFIG is always the run's own file). */
  env?: Record<string, string>;
  /** Cleanup: runs after Ctrl-C too, and is not cancelled by it. */
  cleanup?: boolean;
  /** What the dry run takes this command to print (its stdout). */
  assume?: string;
}

/** One thing a run does, in order. Reads and waits are one entry each however many polls they take. */
export type TraceEntry =
  | { op: 'step'; title: string }
  | { op: 'exec'; argv: string[]; timeoutMs: number; note?: string }
  | { op: 'resolve-tool'; tool: string; version: string }
  | { op: 'apply'; object: K8sObject }
  /** Every object a command printed (istioctl's rendering), server-side applied by the shared module. */
  | { op: 'apply-rendered'; from: string; how: string }
  | { op: 'delete'; ref: ObjectRef }
  | { op: 'read'; what: string; assumed?: string }
  | { op: 'wait'; what: string; timeoutMs: number }
  | {
      op: 'probe';
      id: string;
      pod: string;
      controlPod: string;
      container: string;
      argv: string[];
      accessLog: string;
      /** The gateway Pods whose access log is read for a call the sidecar sends to a gateway. */
      gatewayLog?: string;
      consecutive: number;
    }
  | { op: 'write'; path: string; content: string }
  | { op: 'mkdir'; path: string }
  | { op: 'remove-dir'; path: string }
  | { op: 'note'; text: string };

export interface Runner {
  readonly dryRun: boolean;
  /** A titled group of work, printed with its elapsed time. */
  step<T>(title: string, fn: () => Promise<T>): Promise<T>;
  /** A process; never rejects on a non-zero exit (the caller decides what it means). */
  exec(argv: string[], opts: ExecOptions): Promise<ProcessResult>;
  /** Finds kind or istioctl at the pinned version; exec maps the tool's name to it. */
  resolveTool(tool: 'kind' | 'istioctl', version: string): Promise<ResolvedTool | undefined>;
  /**
   * The API for the shared Kubernetes module's functions (helpers/k8s): writes (apply, create, delete) are
   * trace entries and honour Ctrl-C; reads are not traced (the calling phase names them with read or
   * waitFor). The dry run's records writes and reads nothing (no objects, empty lists).
   */
  readonly kube: K8sOps;
  /** Server-side apply. */
  apply(obj: K8sObject): Promise<void>;
  delete(ref: ObjectRef): Promise<boolean>;
  /** A read whose answer decides what happens next; the dry run takes `assumed` (described in `assumedText`). */
  read<T>(what: string, fn: (k: RunnerK8s) => Promise<T>, assumed: T, assumedText?: string): Promise<T>;
  /**
   * Bounded polling until `check` returns a value. One trace entry; the calls made inside are not traced.
   * The dry run does not poll and returns `assumed`.
   */
  waitFor<T>(
    what: string,
    timeoutMs: number,
    check: (k: RunnerK8s) => Promise<T | undefined>,
    opts: { assumed: T; state?: () => string; pollMs?: number },
  ): Promise<T>;
  /** Work shown as one entry (a probe and its attempts); the dry run returns `assumed` without running it. */
  opaque<T>(entry: TraceEntry, fn: (k: RunnerK8s) => Promise<T>, assumed: T): Promise<T>;
  writeFile(path: string, content: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  removeDir(path: string): Promise<void>;
  note(text: string): void;
  /** A back-off between retries (never a wait for something to happen: that is waitFor). */
  backoff(ms: number): Promise<void>;
  /** Runs fn as cleanup: not cancelled by Ctrl-C; a failure is logged, never raised. */
  cleanup(what: string, fn: () => Promise<void>): Promise<void>;
}

/** The API as a read, wait or opaque block sees it (untraced inside them). */
export type RunnerK8s = K8sOps;

export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./<>-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function failure(argv: string[], r: ProcessResult, attempts = 1): string {
  const head = `\`${shellLine(argv.slice(0, 4))}${argv.length > 4 ? ' …' : ''}\``;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (r.timedOut) return `${head} timed out${tries}${r.stderr ? `: ${excerpt(r.stderr, 3)}` : ''}`;
  return `${head} failed with exit code ${r.exitCode}${tries}${r.stderr || r.stdout ? `: ${excerpt(r.stderr || r.stdout)}` : ''}`;
}

/** The last lines of a tool's output: enough to see why, short enough for one error line. */
export function excerpt(text: string, lines = 6): string {
  const kept = text.trim().split('\n').slice(-lines).join('\n');
  return kept.length > 1200 ? `…${kept.slice(-1200)}` : kept;
}
