// The runner of a real run: processes through execa (shims in tests), the API through K8sOps, the run's
// own kubeconfig for every child, Ctrl-C honoured everywhere except in cleanup, every wait bounded.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { execa } from 'execa';
import type { K8sOps } from '../../k8s/client.ts';
import { InterruptedError, StepError } from '../../model/errors.ts';
import { resolveIstioctl } from '../../tools/istioctl.ts';
import { resolveKind } from '../../tools/kind.ts';
import { defaultResolveDeps, type ResolvedTool } from '../../tools/resolve.ts';
import type { RunContext } from './context.ts';
import {
  shellLine,
  type ExecOptions,
  type K8sObject,
  type ObjectRef,
  type ProcessResult,
  type Runner,
  type RunnerK8s,
  type TraceEntry,
} from './runner.ts';

export interface ProcessRunner {
  run(argv: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal }): Promise<ProcessResult>;
}

export const execaRunner: ProcessRunner = {
  async run(argv, { env, timeoutMs, signal }) {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('execaRunner: empty argv');
    const r = await execa(file, args, {
      env,
      // The env given is complete (it already holds PATH and KUBECONFIG); nothing else leaks in.
      extendEnv: false,
      timeout: timeoutMs,
      cancelSignal: signal,
      // A tool that ignores SIGTERM is killed 5 s later, so a hung step always ends.
      forceKillAfterDelay: 5_000,
      reject: false,
      stdin: 'ignore',
    });
    return {
      exitCode: r.exitCode ?? -1,
      stdout: String(r.stdout ?? ''),
      stderr: r.failed && !r.stderr && r.message ? String(r.message) : String(r.stderr ?? ''),
      timedOut: Boolean(r.timedOut),
      canceled: Boolean(r.isCanceled),
    };
  },
};

export type ToolResolver = (
  tool: 'kind' | 'istioctl',
  version: string,
  env: NodeJS.ProcessEnv,
  log?: (line: string) => void,
) => Promise<ResolvedTool>;

export const defaultToolResolver: ToolResolver = (tool, version, env, log) => {
  const deps = { ...defaultResolveDeps(env), ...(log ? { onProgress: log } : {}) };
  return tool === 'kind' ? resolveKind(version, deps) : resolveIstioctl(version, deps);
};

export interface LiveRunnerOptions {
  ctx: RunContext;
  processes?: ProcessRunner;
  /** Makes the API client from the run's own kubeconfig file (called once the cluster exists). */
  k8s: (kubeconfigFile: string) => K8sOps;
  tools?: ToolResolver;
  /** Environment of child processes; KUBECONFIG is always overridden with the run's file. */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Default poll interval of waits. */
  pollMs?: number;
  onTrace?: (e: TraceEntry) => void;
}

export class LiveRunner implements Runner {
  readonly dryRun = false;
  readonly tools = new Map<string, ResolvedTool>();
  private client: K8sOps | undefined;
  /** Marks the async call chain of cleanup work: it runs after Ctrl-C and is not cancelled by it. */
  private readonly cleanupScope = new AsyncLocalStorage<true>();
  /** Marks the calls made inside a wait or a probe: the wait (or probe) is the one trace entry. */
  private readonly quietScope = new AsyncLocalStorage<true>();
  private readonly signal: AbortSignal;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: LiveRunnerOptions) {
    this.signal = opts.signal ?? new AbortController().signal;
    this.log = opts.log ?? (() => {});
  }

  private get ctx(): RunContext {
    return this.opts.ctx;
  }

  private get cleaning(): boolean {
    return this.cleanupScope.getStore() === true;
  }

  private get quiet(): boolean {
    return this.quietScope.getStore() === true;
  }

  private trace(e: TraceEntry): void {
    if (!this.quiet) this.opts.onTrace?.(e);
  }

  readonly kube: K8sOps = {
    get: (ref) => this.k8s().get(ref),
    create: async (obj, o) => {
      this.checkAborted();
      if (!o?.dryRun) this.trace({ op: 'apply', object: obj });
      return this.k8s().create(obj, o);
    },
    apply: (obj) => this.apply(obj),
    delete: (ref) => this.delete(ref),
    listPods: (ns, sel) => this.k8s().listPods(ns, sel),
    list: (...a) => this.k8s().list(...a),
    setPodStatus: (...a) => this.k8s().setPodStatus(...a),
    exec: (...a) => this.k8s().exec(...a),
    logs: (...a) => this.k8s().logs(...a),
  };

  /** The API client, made from the run's own kubeconfig file on first use. */
  k8s(): K8sOps {
    this.client ??= this.opts.k8s(this.ctx.kubeconfig);
    return this.client;
  }

  childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...(this.opts.env ?? process.env), ...extra, KUBECONFIG: this.ctx.kubeconfig };
  }

  async step<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.checkAborted();
    this.trace({ op: 'step', title });
    const started = Date.now();
    this.log(`▸ ${title}`);
    try {
      const v = await fn();
      this.log(`  ✓ ${seconds(Date.now() - started)}`);
      return v;
    } catch (err) {
      this.log(`  ✗ ${title} failed after ${seconds(Date.now() - started)}`);
      throw err;
    }
  }

  async exec(argv: string[], o: ExecOptions): Promise<ProcessResult> {
    const cleanup = o.cleanup || this.cleaning;
    if (!cleanup) this.checkAborted();
    this.trace({ op: 'exec', argv, timeoutMs: o.timeoutMs });
    const [name, ...rest] = argv;
    if (name === undefined) throw new Error('LiveRunner.exec: empty argv');
    const tool = this.tools.get(name);
    if (!this.quiet) this.log(`    $ ${shellLine(argv)}`);
    const r = await (this.opts.processes ?? execaRunner).run([tool ? tool.path : name, ...rest], {
      env: this.childEnv(o.env),
      timeoutMs: o.timeoutMs,
      signal: cleanup ? undefined : this.signal,
    });
    if (!cleanup && (r.canceled || this.signal.aborted)) this.checkAborted(true);
    return r;
  }

  async resolveTool(tool: 'kind' | 'istioctl', version: string): Promise<ResolvedTool> {
    this.checkAborted();
    this.trace({ op: 'resolve-tool', tool, version });
    const t = await (this.opts.tools ?? defaultToolResolver)(tool, version, this.childEnv(), this.log);
    this.tools.set(tool, t);
    this.log(`    ${t.name} ${t.version} (${t.source}: ${t.path})`);
    return t;
  }

  async apply(obj: K8sObject): Promise<void> {
    this.checkAborted();
    this.trace({ op: 'apply', object: obj });
    await this.k8s().apply(obj);
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    this.checkAborted();
    this.trace({ op: 'delete', ref });
    return this.k8s().delete(ref);
  }

  async read<T>(what: string, fn: (k: RunnerK8s) => Promise<T>): Promise<T> {
    this.checkAborted();
    this.trace({ op: 'read', what });
    return fn(this.k8s());
  }

  async waitFor<T>(
    what: string,
    timeoutMs: number,
    check: (k: RunnerK8s) => Promise<T | undefined>,
    opts: { state?: () => string; pollMs?: number },
  ): Promise<T> {
    this.trace({ op: 'wait', what, timeoutMs });
    const deadline = Date.now() + timeoutMs;
    const pollMs = opts.pollMs ?? this.opts.pollMs ?? 2_000;
    for (;;) {
      this.checkAborted();
      const v = await this.quietScope.run(true, () => check(this.k8s()));
      if (v !== undefined) return v;
      if (Date.now() >= deadline) {
        const state = opts.state?.();
        throw new StepError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${state ? `: ${state}` : ''}`);
      }
      await this.pause(Math.min(pollMs, Math.max(0, deadline - Date.now())));
    }
  }

  async opaque<T>(entry: TraceEntry, fn: (k: RunnerK8s) => Promise<T>): Promise<T> {
    this.checkAborted();
    this.trace(entry);
    return this.quietScope.run(true, () => fn(this.k8s()));
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.trace({ op: 'write', path, content });
    await writeFile(path, content);
  }

  async mkdir(path: string): Promise<void> {
    this.trace({ op: 'mkdir', path });
    await mkdir(path, { recursive: true, mode: 0o700 });
  }

  async removeDir(path: string): Promise<void> {
    this.trace({ op: 'remove-dir', path });
    await rm(path, { recursive: true, force: true });
  }

  note(text: string): void {
    this.trace({ op: 'note', text });
    this.log(`    ${text}`);
  }

  async backoff(ms: number): Promise<void> {
    await this.pause(ms);
  }

  async cleanup(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await this.cleanupScope.run(true, fn);
    } catch (err) {
      this.log(`    (cleanup) ${what}: ${(err as Error).message}`);
    }
  }

  /** Runs fn in the cleanup scope and raises its errors (diagnostics after a failure). */
  asCleanup<T>(fn: () => Promise<T>): Promise<T> {
    return this.cleanupScope.run(true, fn);
  }

  private async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    if (this.cleaning) return void (await sleepFor(ms));
    try {
      await sleepFor(ms, undefined, { signal: this.signal });
    } catch {
      this.checkAborted(true);
    }
  }

  private checkAborted(force = false): void {
    if (this.cleaning) return;
    if (this.signal.aborted || force) {
      const reason = this.signal.reason;
      // Ctrl-C aborts with an InterruptedError; a lane torn down mid-step with its own error.
      throw reason instanceof Error ? reason : new InterruptedError('SIGINT');
    }
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
