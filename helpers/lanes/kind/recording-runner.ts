// The dry run's runner: records what the phases ask for and runs nothing. Reads, waits and probes answer
// with the assumption the caller states (a fresh kind cluster where everything comes up), so the phases
// take the path a first run on a clean machine takes.
import type { K8sOps } from '../../k8s/client.ts';
import type { ResolvedTool } from '../../tools/resolve.ts';
import type { ExecOptions, K8sObject, ObjectRef, ProcessResult, Runner, RunnerK8s, TraceEntry } from './runner.ts';

export class RecordingRunner implements Runner {
  readonly dryRun = true;
  readonly trace: TraceEntry[] = [];

  readonly kube: K8sOps = {
    get: async () => undefined,
    // Answers with the object as given: no admission runs in a dry run of the lane.
    create: async (obj, o) => {
      if (!o?.dryRun) this.record({ op: 'apply', object: obj });
      return obj;
    },
    apply: (obj) => this.apply(obj),
    delete: (ref) => this.delete(ref),
    listPods: async () => [],
    list: async () => [],
    setPodStatus: async () => {},
    exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
    logs: async () => '',
  };

  constructor(private readonly onTrace?: (e: TraceEntry) => void) {}

  private record(e: TraceEntry): void {
    this.trace.push(e);
    this.onTrace?.(e);
  }

  async step<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.record({ op: 'step', title });
    return fn();
  }

  async exec(argv: string[], o: ExecOptions): Promise<ProcessResult> {
    this.record({ op: 'exec', argv, timeoutMs: o.timeoutMs, ...(o.assume !== undefined ? { note: `prints ${o.assume}` } : {}) });
    return { exitCode: 0, stdout: o.assume ?? '', stderr: '', timedOut: false, canceled: false };
  }

  async resolveTool(tool: 'kind' | 'istioctl', version: string): Promise<ResolvedTool | undefined> {
    this.record({ op: 'resolve-tool', tool, version });
    return undefined;
  }

  async apply(obj: K8sObject): Promise<void> {
    this.record({ op: 'apply', object: obj });
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    this.record({ op: 'delete', ref });
    return true;
  }

  async read<T>(what: string, _fn: (k: RunnerK8s) => Promise<T>, assumed: T, assumedText?: string): Promise<T> {
    this.record({ op: 'read', what, ...(assumedText ? { assumed: assumedText } : {}) });
    return assumed;
  }

  async waitFor<T>(what: string, timeoutMs: number, _check: unknown, opts: { assumed: T }): Promise<T> {
    this.record({ op: 'wait', what, timeoutMs });
    return opts.assumed;
  }

  async opaque<T>(entry: TraceEntry, _fn: unknown, assumed: T): Promise<T> {
    this.record(entry);
    return assumed;
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.record({ op: 'write', path, content });
  }

  async mkdir(path: string): Promise<void> {
    this.record({ op: 'mkdir', path });
  }

  async removeDir(path: string): Promise<void> {
    this.record({ op: 'remove-dir', path });
  }

  note(text: string): void {
    this.record({ op: 'note', text });
  }

  async backoff(): Promise<void> {}

  async cleanup(_what: string, fn: () => Promise<void>): Promise<void> {
    await fn();
  }
}
