// Executes plan actions: processes through a ProcessRunner (execa; shims in tests), the API through K8sOps
// (client-node; a recording fake in tests). Keeps what the run learnt (captured values, resolved tools,
// whether it created the cluster) so cleanup removes exactly what this run created.
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import { EnvironmentError, UserError } from '../../model/errors.ts';
import type { Observation } from '../../model/types.ts';
import { resolveIstioctl } from '../../tools/istioctl.ts';
import { resolveKind } from '../../tools/kind.ts';
import { defaultResolveDeps, type ResolvedTool } from '../../tools/resolve.ts';
import { patchCorefile } from '../../../clusters/coredns-hosts.ts';
import type { Action, EnsureClusterAction, K8sObject, ProbeAction, WaitSpec } from './actions.ts';
import { InterruptedError, StepError, excerpt } from './errors.ts';
import { refOf, type K8sOps, type ObjectRef } from '../../k8s/client.ts';
import type { PlanContext } from './plan.ts';
import { OWNER_MARKER } from './plan.ts';
import type { ProcessResult, ProcessRunner } from './processes.ts';

export type ToolResolver = (tool: 'kind' | 'istioctl', version: string, env: NodeJS.ProcessEnv, log?: (line: string) => void) => Promise<ResolvedTool>;

export const defaultToolResolver: ToolResolver = (tool, version, env, log) => {
  const deps = { ...defaultResolveDeps(env), ...(log ? { onProgress: log } : {}) };
  return tool === 'kind' ? resolveKind(version, deps) : resolveIstioctl(version, deps);
};

export interface ExecutorDeps {
  ctx: PlanContext;
  processes: ProcessRunner;
  /** Makes the API client from the run's own kubeconfig file (called once the cluster exists). */
  k8s: (kubeconfigFile: string) => K8sOps;
  tools?: ToolResolver;
  /** Observes one probe (convergence, control client); see observe.ts. */
  observe?: (action: ProbeAction, k8s: K8sOps, signal: AbortSignal) => Promise<Observation>;
  /** Environment of child processes; KUBECONFIG is always overridden with the run's file. */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Poll interval for waits. */
  pollMs?: number;
}

export interface ProbeRecord {
  action: ProbeAction;
  observation: Observation;
}

export class PlanExecutor {
  readonly vars = new Map<string, string>();
  readonly tools = new Map<string, ResolvedTool>();
  readonly probes: ProbeRecord[] = [];
  /** Scenario resources applied and not yet deleted. */
  readonly scenarioObjects = new Map<string, ObjectRef>();
  /**
   * True once this run has started creating the cluster (it did not exist before): cleanup may delete it.
   * Cleared when `kind create` says the cluster already exists (another run won the race for the name).
   */
  ownsCluster = false;
  clusterReady = false;
  private client: K8sOps | undefined;
  /**
   * Marks the async call chain of a cleanup action: those run even after Ctrl-C and are not cancelled by
   * it, while a step still in flight (not in this chain) keeps seeing the abort and stops.
   */
  private readonly cleanupScope = new AsyncLocalStorage<true>();
  private readonly signal: AbortSignal;
  private readonly log: (line: string) => void;
  private readonly pollMs: number;

  constructor(readonly deps: ExecutorDeps) {
    this.signal = deps.signal ?? new AbortController().signal;
    this.log = deps.log ?? (() => {});
    this.pollMs = deps.pollMs ?? 2_000;
  }

  get ctx(): PlanContext {
    return this.deps.ctx;
  }

  private get cleaning(): boolean {
    return this.cleanupScope.getStore() === true;
  }

  /** Runs cleanup actions: not cancelled by the abort signal; failures are logged, never raised. */
  async runCleanup(action: Action): Promise<void> {
    try {
      await this.cleanupScope.run(true, () => this.run(action));
    } catch (err) {
      this.log(`    (cleanup) ${action.type}: ${(err as Error).message}`);
    }
  }

  /** Runs fn as cleanup (see runCleanup), e.g. diagnostics after a failure; errors are raised. */
  asCleanup<T>(fn: () => Promise<T>): Promise<T> {
    return this.cleanupScope.run(true, fn);
  }

  k8s(): K8sOps {
    this.client ??= this.deps.k8s(this.ctx.kubeconfig);
    return this.client;
  }

  /** The environment of every child: the caller's, with KUBECONFIG pinned to the run's own file. */
  childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...(this.deps.env ?? process.env), ...extra, KUBECONFIG: this.ctx.kubeconfig };
  }

  async run(action: Action): Promise<void> {
    this.checkAborted();
    switch (action.type) {
      case 'exec': {
        const r = await this.exec(action.argv, action.timeoutMs, action.env, action.attempts, action.retryDelayMs);
        if (r.exitCode !== 0) {
          const why = failure(action.argv, r);
          if (action.bestEffort) {
            this.log(`    (cleanup) ${why}`);
            return;
          }
          if (action.environmentError) throw new EnvironmentError(`${action.environmentError} [${why}]`);
          throw new StepError(why);
        }
        if (action.capture) this.vars.set(action.capture, r.stdout.trim());
        return;
      }
      case 'resolve-tool': {
        const t = await (this.deps.tools ?? defaultToolResolver)(action.tool, action.version, this.childEnv(), this.log);
        this.tools.set(action.tool, t);
        this.log(`    ${t.name} ${t.version} (${t.source}: ${t.path})`);
        return;
      }
      case 'mkdir':
        await mkdir(action.path, { recursive: true, mode: 0o700 });
        return;
      case 'write-file':
        await writeFile(action.path, this.fill(action.content));
        return;
      case 'ensure-cluster':
        return this.ensureCluster(action);
      case 'apply': {
        const k = this.k8s();
        const manifest = this.fillObject(action.manifest);
        const ref = refOf(manifest);
        if (action.ifAbsent) {
          const existing = await k.get(ref);
          const key = action.replaceIfAnnotationDiffers;
          if (existing && !(key && existing.metadata.annotations?.[key] !== manifest.metadata.annotations?.[key])) return;
          if (existing) {
            this.log(`    ${ref.kind} ${ref.namespace}/${ref.name} was made differently (earlier run): recreating`);
            await k.delete(ref);
            await this.poll(`${ref.kind} ${ref.namespace ?? ''}/${ref.name} deleted`, action.timeoutMs ?? 120_000, async () => ((await k.get(ref)) ? undefined : true));
          }
        }
        await k.apply(manifest);
        if (SCENARIO_KINDS.has(manifest.kind)) this.scenarioObjects.set(objectKey(ref), ref);
        return;
      }
      case 'delete': {
        const k = this.k8s();
        const ref = refOf(action.manifest);
        await k.delete(ref);
        this.scenarioObjects.delete(objectKey(ref));
        if (action.wait) {
          await this.poll(`${ref.kind} ${ref.namespace ?? ''}/${ref.name} deleted`, action.timeoutMs ?? 60_000, async () => ((await k.get(ref)) ? undefined : true));
        }
        return;
      }
      case 'wait':
        return this.wait(action.wait, action.timeoutMs);
      case 'sleep':
        await this.sleep(action.ms);
        return;
      case 'coredns-hosts':
        return this.corednsHosts(action.entries, action.timeoutMs);
      case 'check-mesh':
        return this.checkMesh(action.mode);
      case 'probe': {
        if (!this.deps.observe) throw new Error('no probe observer configured');
        const observation = await this.deps.observe(action, this.k8s(), this.signal);
        this.probes.push({ action, observation });
        const what = observation.verdict === 'error' ? `error: ${observation.error}` : observation.verdict;
        this.log(`    ${action.caseId}: ${what}`);
        return;
      }
      case 'remove-containers': {
        const list = await this.exec(action.listArgv, this.ctx.timeouts.docker, undefined, 1, 0, true);
        const ids = list.stdout.split(/\s+/).filter(Boolean);
        if (list.exitCode !== 0) {
          this.log(`    (cleanup) ${failure(action.listArgv, list)}`);
          return;
        }
        if (ids.length === 0) return;
        const argv = ['docker', 'rm', '-f', '-v', ...ids];
        const r = await this.exec(argv, this.ctx.timeouts.docker, undefined, 1, 0, true);
        if (r.exitCode !== 0) this.log(`    (cleanup) ${failure(argv, r)}`);
        return;
      }
      case 'delete-cluster': {
        if (!this.ownsCluster) {
          this.log(`    cluster ${action.name} kept: this run did not create it`);
          return;
        }
        const owner = await this.markerOwner(action.name);
        if (owner !== undefined && owner !== this.ctx.runId) {
          this.log(`    cluster ${action.name} kept: its owner marker names run ${owner}, not this run (${this.ctx.runId})`);
          this.ownsCluster = false;
          return;
        }
        const r = await this.exec(action.argv, action.timeoutMs, undefined, 1, 0, true);
        if (r.exitCode !== 0) this.log(`    (cleanup) ${failure(action.argv, r)}`);
        else this.ownsCluster = false;
        return;
      }
      case 'remove-scenario-leftovers': {
        // The cluster goes away with the run unless it was reused or kept.
        const clusterStays = !this.ownsCluster || this.ctx.keep;
        if (!clusterStays || !this.clusterReady || this.scenarioObjects.size === 0) return;
        for (const ref of [...this.scenarioObjects.values()].reverse()) {
          try {
            await this.k8s().delete(ref);
            this.scenarioObjects.delete(objectKey(ref));
          } catch (err) {
            this.log(`    (cleanup) delete ${ref.kind} ${ref.namespace}/${ref.name}: ${(err as Error).message}`);
          }
        }
        return;
      }
      case 'remove-dir':
        await rm(action.path, { recursive: true, force: true });
        return;
      case 'note':
        this.log(`    ${action.text}`);
        return;
    }
  }

  /**
   * The run id in the cluster's owner marker; undefined when it cannot be read (no kubeconfig yet, API not
   * answering within the bound, no marker). Only a marker naming another run stops a delete.
   */
  private async markerOwner(name: string): Promise<string | undefined> {
    if (!existsSync(this.ctx.kubeconfig)) return undefined;
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: OWNER_MARKER.namespace, name: OWNER_MARKER.name };
    let timer: NodeJS.Timeout | undefined;
    try {
      const marker = await Promise.race([
        this.k8s().get(ref),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), this.ctx.timeouts.docker);
          timer.unref();
        }),
      ]);
      return ((marker?.data ?? {}) as Record<string, string>).runId;
    } catch (err) {
      this.log(`    (cleanup) owner marker of cluster ${name} not readable: ${(err as Error).message}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs a process with retries. `cleanup` runs ignore the abort signal: they must still run after Ctrl-C.
   */
  async exec(argv: string[], timeoutMs: number, env?: Record<string, string>, attempts = 1, retryDelayMs = 0, cleanupRun = false): Promise<ProcessResult> {
    const cleanup = cleanupRun || this.cleaning;
    const filled = argv.map((a) => this.fill(a));
    const tool = this.tools.get(filled[0]);
    const file = tool ? tool.path : filled[0];
    let last: ProcessResult | undefined;
    for (let i = 1; i <= attempts; i++) {
      if (!cleanup) this.checkAborted();
      this.log(`    $ ${shellLine(filled)}${i > 1 ? `   (attempt ${i}/${attempts})` : ''}`);
      last = await this.deps.processes.run([file, ...filled.slice(1)], {
        env: this.childEnv(env),
        timeoutMs,
        signal: cleanup ? undefined : this.signal,
      });
      if (!cleanup && (last.canceled || this.signal.aborted)) this.checkAborted(true);
      if (last.exitCode === 0 && !last.timedOut) return last;
      if (i < attempts) await this.sleep(retryDelayMs);
    }
    return last!;
  }

  private async ensureCluster(a: EnsureClusterAction): Promise<void> {
    const list = await this.exec(a.listArgv, this.ctx.timeouts.docker);
    if (list.exitCode !== 0) throw new StepError(failure(a.listArgv, list));
    const exists = list.stdout.split('\n').map((s) => s.trim()).includes(a.name);
    if (exists && !a.reuse) {
      throw new UserError(
        `a kind cluster named "${a.name}" already exists; it is left alone. Pass --reuse to run on it (only a cluster ` +
          `created by egress-conformance is reused), or delete it yourself: kind delete cluster --name ${a.name}`,
      );
    }
    if (exists) {
      const r = await this.exec(a.exportArgv, this.ctx.timeouts.docker);
      if (r.exitCode !== 0) throw new StepError(failure(a.exportArgv, r));
      const marker = await this.k8s().get(refOf(a.marker));
      const data = (marker?.data ?? {}) as Record<string, string>;
      if (data.createdBy !== 'istio-egress-conformance') {
        throw new UserError(
          `--reuse: kind cluster "${a.name}" was not created by egress-conformance (no ConfigMap ` +
            `${OWNER_MARKER.namespace}/${OWNER_MARKER.name}); refusing to act on it. Choose another cluster name.`,
        );
      }
      this.log(`    reusing cluster ${a.name} (created by run ${data.runId})`);
      this.clusterReady = true;
      return;
    }
    // From here anything named a.name is this run's (it did not exist a moment ago): cleanup may delete it,
    // even if creation fails half-way or is interrupted. Unless kind says it already exists: then another
    // run created it between our `kind get clusters` and `kind create`, and it is that run's to delete.
    this.ownsCluster = true;
    let r: ProcessResult | undefined;
    for (let i = 1; i <= a.attempts; i++) {
      if (i > 1) await this.sleep(a.retryDelayMs);
      r = await this.exec(a.createArgv, a.timeoutMs);
      if (r.exitCode === 0 && !r.timedOut) break;
      if (ALREADY_EXISTS.test(`${r.stderr}\n${r.stdout}`)) {
        this.ownsCluster = false;
        throw new UserError(
          `kind cluster "${a.name}" appeared while this run was creating it (another run, started at the same time?): ` +
            `it is left alone. Use another cluster name, or wait for that run to end. [${failure(a.createArgv, r)}]`,
        );
      }
      if (i < a.attempts) this.log(`    kind create failed (attempt ${i}/${a.attempts}); retrying`);
    }
    if (r!.exitCode !== 0 || r!.timedOut) throw new StepError(failure(a.createArgv, r!, a.attempts));
    this.clusterReady = true;
    await this.k8s().apply(a.marker);
  }

  private async wait(w: WaitSpec, timeoutMs: number): Promise<void> {
    switch (w.for) {
      case 'deployment': {
        const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: w.namespace, name: w.name };
        await this.poll(`Deployment ${w.namespace}/${w.name} available`, timeoutMs, async () => (deploymentReady(await this.k8s().get(ref)) ? true : undefined));
        return;
      }
      case 'webhook': {
        const obj = this.fillObject(w.object);
        let lastError = '';
        await this.poll(`validating webhook answers (server-side dry-run create of ${obj.kind})`, timeoutMs, async () => {
          try {
            await this.k8s().create(obj, { dryRun: true });
            return true;
          } catch (err) {
            lastError = errorText(err);
            return undefined;
          }
        }, () => lastError);
        return;
      }
      case 'pod-ready': {
        const ref = { apiVersion: 'v1', kind: 'Pod', namespace: w.namespace, name: w.name };
        let state = 'not found';
        await this.poll(`Pod ${w.namespace}/${w.name} ready (${w.containers.join(', ')})`, timeoutMs, async () => {
          const pod = await this.k8s().get(ref);
          const r = podReadiness(pod, w.containers);
          state = r.state;
          if (r.fatal) throw new StepError(`Pod ${w.namespace}/${w.name}: ${r.state}`);
          return r.ready ? true : undefined;
        }, () => state);
        return;
      }
      case 'server': {
        let last: ProcessResult | undefined;
        await this.poll(`server answers: ${shellLine(w.argv)}`, timeoutMs, async () => {
          last = await this.exec(w.argv, this.ctx.timeouts.docker);
          return last.exitCode === 0 ? true : undefined;
        }, () => (last ? excerpt(last.stderr || last.stdout, 3) : ''));
        return;
      }
    }
  }

  private async corednsHosts(entries: { host: string; ip: string }[], timeoutMs: number): Promise<void> {
    const resolved = entries.map((e) => ({ host: e.host, ip: this.fill(e.ip) }));
    for (const e of resolved) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(e.ip)) {
        throw new StepError(`no IPv4 address on the kind network for the server of ${e.host} (got "${e.ip}")`);
      }
    }
    const k = this.k8s();
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'coredns' };
    const cm = await k.get(ref);
    const corefile = (cm?.data as Record<string, string> | undefined)?.Corefile;
    if (!corefile) throw new StepError('ConfigMap kube-system/coredns has no Corefile');
    const patched = patchCorefile(corefile, resolved);
    await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: patched } });
    // Restart rather than wait for the reload plugin (which sees ConfigMap changes only after kubelet sync).
    await k.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      spec: { template: { metadata: { annotations: { 'egress-conformance.io/restartedAt': `${this.ctx.runId}-${Date.now()}` } } } },
    });
    await this.wait({ for: 'deployment', namespace: 'kube-system', name: 'coredns' }, timeoutMs);
    this.log(`    ${resolved.map((e) => `${e.host} → ${e.ip}`).join(', ')}`);
  }

  private async checkMesh(mode: string): Promise<void> {
    const cm = await this.k8s().get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'istio-system', name: 'istio' });
    const meshText = (cm?.data as Record<string, string> | undefined)?.mesh;
    if (meshText === undefined) throw new StepError('ConfigMap istio-system/istio has no `mesh` key: Istio did not install as expected');
    const mesh = (parseYaml(meshText) ?? {}) as { outboundTrafficPolicy?: { mode?: string } };
    // Istio's default when the field is absent.
    const effective = mesh.outboundTrafficPolicy?.mode ?? 'ALLOW_ANY';
    if (effective !== mode) {
      throw new StepError(`after istioctl install the mesh config says outboundTrafficPolicy ${effective}, expected ${mode}`);
    }
    this.log(`    mesh outboundTrafficPolicy: ${effective}`);
  }

  /** Polls until fn returns a value; bounded; aborted by Ctrl-C. */
  async poll<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, lastState?: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.checkAborted();
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() >= deadline) {
        const state = lastState?.();
        throw new StepError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${state ? `: ${state}` : ''}`);
      }
      await this.sleep(Math.min(this.pollMs, Math.max(0, deadline - Date.now())));
    }
  }

  async sleep(ms: number): Promise<void> {
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

  /** Replaces `<<name>>` with values captured earlier in the run. */
  fill(text: string): string {
    return text.replace(/<<([\w.-]+)>>/g, (whole, name: string) => {
      const v = this.vars.get(name);
      if (v === undefined) throw new Error(`run-time value ${whole} is not known yet (plan order bug)`);
      return v;
    });
  }

  fillObject<T>(obj: T): T {
    const text = JSON.stringify(obj);
    return text.includes('<<') ? (JSON.parse(this.fill(text)) as T) : obj;
  }
}

/** kind's words when the cluster's node containers exist already (`node(s) already exist for a cluster …`). */
const ALREADY_EXISTS = /already exist/i;

/** Kinds a scenario applies (and a run must not leave behind on a surviving cluster). */
const SCENARIO_KINDS = new Set(['ServiceEntry', 'Sidecar']);

function objectKey(r: ObjectRef): string {
  return `${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

export function deploymentReady(d: K8sObject | undefined): boolean {
  if (!d) return false;
  const spec = (d.spec ?? {}) as { replicas?: number };
  const status = (d.status ?? {}) as { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
  const generation = (d.metadata as { generation?: number }).generation ?? 0;
  const want = spec.replicas ?? 1;
  return (
    (status.observedGeneration ?? 0) >= generation &&
    (status.updatedReplicas ?? 0) >= want &&
    (status.availableReplicas ?? 0) >= want &&
    // No old pods left over from a rollout.
    (status.replicas ?? 0) <= want
  );
}

interface ContainerStatus {
  name: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string } };
}

/** Ready when the pod is Ready and each named container (istio-proxy may be a native sidecar init container) is. */
export function podReadiness(pod: K8sObject | undefined, containers: string[]): { ready: boolean; fatal: boolean; state: string } {
  if (!pod) return { ready: false, fatal: false, state: 'not found' };
  const status = (pod.status ?? {}) as { phase?: string; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  const declared = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name);
  if (containers.includes('istio-proxy') && declared.length > 0 && !declared.includes('istio-proxy')) {
    return { ready: false, fatal: true, state: 'no istio-proxy container: the sidecar was not injected (namespace label or injector not ready when the pod was created)' };
  }
  const statuses = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])];
  const missing: string[] = [];
  for (const name of containers) {
    const s = statuses.find((c) => c.name === name);
    if (!s?.ready) {
      const waiting = s?.state?.waiting;
      if (waiting?.reason && /ImagePullBackOff|ErrImagePull|InvalidImageName|CreateContainerConfigError/.test(waiting.reason)) {
        return { ready: false, fatal: true, state: `${name}: ${waiting.reason} ${waiting.message ?? ''}`.trim() };
      }
      missing.push(`${name}${waiting?.reason ? ` (${waiting.reason})` : ''}`);
    }
  }
  const conditions = ((pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  const podReady = conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  if (missing.length === 0 && podReady) return { ready: true, fatal: false, state: 'ready' };
  return { ready: false, fatal: false, state: `phase ${status.phase ?? '?'}; not ready: ${missing.join(', ') || 'pod condition'}` };
}

export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./<>-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function failure(argv: string[], r: ProcessResult, attempts = 1): string {
  const head = `\`${shellLine(argv.slice(0, 4))}${argv.length > 4 ? ' …' : ''}\``;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (r.timedOut) return `${head} timed out${tries}${r.stderr ? `: ${excerpt(r.stderr, 3)}` : ''}`;
  return `${head} failed with exit code ${r.exitCode}${tries}${r.stderr || r.stdout ? `: ${excerpt(r.stderr || r.stdout)}` : ''}`;
}

function errorText(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') return excerpt(body, 3);
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return (err as Error).message ?? String(err);
}
