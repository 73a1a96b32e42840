// KindLane: the kind lane's one implementation. The Lane interface over the plan's step builders and the
// executor, so a suite (or an exam lab) drives setup, scenario application and probing one call at a time.
// Each step is printed with its elapsed time; a failed setup or scenario keeps diagnostics under
// <artifactsDir>/diagnostics; teardown (also on Ctrl-C and SIGTERM) removes what this run created and
// nothing else.
import { join } from 'node:path';
import { caseId } from '../../catalogue/load.ts';
import type { Observation, PolicyMode, Probe, ResourceSet } from '../../model/types.ts';
import type { Lane, LaneInfo, ScenarioHandle } from '../lane.ts';
import type { Step } from './actions.ts';
import { InterruptedError, StepError } from './errors.ts';
import { PlanExecutor, type ToolResolver } from './executor.ts';
import { ClientNodeK8s, type K8sOps } from '../../k8s/client.ts';
import { observeProbe } from './observe.ts';
import { collectDiagnostics } from './diagnostics.ts';
import {
  INJECTED_NAMESPACES,
  clientFor,
  clientsStep,
  clusterStep,
  controlClient,
  dnsStep,
  installSpec,
  istioStep,
  namespaceManifests,
  namespacesStep,
  planContext,
  preflightStep,
  probeAction,
  scenarioApplyStep,
  scenarioClearStep,
  scenarioManifests,
  serversStep,
  teardownStep,
  type ClientSpec,
  type InstallSpec,
  type KindPlanOptions,
  type PlanContext,
} from './plan.ts';
import { requireProbeToolkit, type ProbeToolkit } from './probe-toolkit.ts';
import { execaRunner, type ProcessRunner } from './processes.ts';

export interface KindLaneOptions extends Omit<KindPlanOptions, 'cases' | 'probeCommands' | 'testFilter'> {
  out?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  processes?: ProcessRunner;
  k8s?: (kubeconfigFile: string) => K8sOps;
  tools?: ToolResolver;
  toolkit?: ProbeToolkit;
  /** Install SIGINT/SIGTERM handlers that tear down and exit (default true). */
  handleSignals?: boolean;
  /** Diagnostics of a failed setup or scenario go to <artifactsDir>/diagnostics (default artifacts/kind/<runId>). */
  artifactsDir?: string;
  pollMs?: number;
  probeIntervalMs?: number;
}

interface Applied {
  handle: ScenarioHandle;
  resources: ResourceSet;
}

export function laneInfo(executor: PlanExecutor): LaneInfo {
  const c = executor.ctx;
  const details: Record<string, string> = {
    kind: executor.tools.get('kind')?.version ?? c.versions.kind,
    kindNodeImage: c.versions.kindNodeImage,
    cluster: c.clusterName,
    runId: c.runId,
    ...Object.fromEntries(Object.entries(c.versions.images).map(([k, v]) => [`image.${k}`, v])),
  };
  const istioctl = executor.tools.get('istioctl');
  if (istioctl) details.istioctl = `${istioctl.version} (${istioctl.source})`;
  const docker = executor.vars.get('docker.version');
  if (docker) details.docker = docker;
  const subnets = executor.vars.get('kind.subnets');
  if (subnets) details.kindNetwork = subnets;
  return { lane: 'kind', istioVersion: istioctl?.version ?? c.istioVersion, details };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Runs steps in order, each printed with its elapsed time. */
export async function runSteps(executor: PlanExecutor, steps: Step[], out: (l: string) => void): Promise<void> {
  for (const [i, step] of steps.entries()) {
    const started = Date.now();
    out(`[${i + 1}/${steps.length}] ${step.title}`);
    try {
      for (const action of step.actions) await executor.run(action);
    } catch (err) {
      out(`  ✗ ${step.title} failed after ${seconds(Date.now() - started)}`);
      throw err;
    }
    out(`  ✓ ${seconds(Date.now() - started)}`);
  }
}

export class KindLane implements Lane {
  readonly ctx: PlanContext;
  private readonly executor: PlanExecutor;
  private readonly controller = new AbortController();
  private readonly out: (line: string) => void;
  private readonly toolkit: ProbeToolkit;
  /** Where diagnostics of a failed setup or scenario go (under `diagnostics/`). */
  readonly artifactsDir: string;
  private info: LaneInfo | undefined;
  private installed: InstallSpec | undefined;
  private clientsProxyKey: string | undefined;
  private readonly clients = new Map<string, ClientSpec>();
  private readonly namespaces = new Set<string>();
  private applied: Applied | undefined;
  private tornDown: Promise<void> | undefined;
  private untrap: () => void = () => {};

  constructor(private readonly opts: KindLaneOptions = {}) {
    this.ctx = planContext({ ...opts, preloadImages: opts.preloadImages ?? (opts.env ?? process.env).EGRESS_KIND_PRELOAD_IMAGES === '1' });
    this.out = opts.out ?? ((l) => process.stdout.write(`${l}\n`));
    this.toolkit = requireProbeToolkit(opts.toolkit);
    this.artifactsDir = opts.artifactsDir ?? join(process.cwd(), 'artifacts', 'kind', this.ctx.runId);
    this.executor = new PlanExecutor({
      ctx: this.ctx,
      processes: opts.processes ?? execaRunner,
      k8s: opts.k8s ?? ((file) => new ClientNodeK8s(file)),
      tools: opts.tools,
      env: opts.env,
      log: this.out,
      signal: this.controller.signal,
      pollMs: opts.pollMs,
      observe: (action, k8s, signal) =>
        observeProbe(action, k8s, signal, {
          classify: this.toolkit.classifyProbe,
          timeoutMs: this.ctx.timeouts.probeConverge,
          execTimeoutMs: this.ctx.timeouts.probeExec,
          intervalMs: opts.probeIntervalMs,
        }),
    });
    for (const ns of INJECTED_NAMESPACES) this.addClient(clientFor({ namespace: ns }));
    this.addClient(controlClient());
  }

  private addClient(c: ClientSpec): boolean {
    const key = `${c.namespace}/${c.name}`;
    if (this.clients.has(key)) return false;
    this.clients.set(key, c);
    return true;
  }

  /**
   * Runs steps. On Ctrl-C the lane is torn down and the interruption raised. On a failure with
   * `diagnostics` set (a sub-directory of <artifactsDir>/diagnostics, '' for the directory itself), what
   * explains it is kept there first, and the path printed.
   */
  private async steps(steps: Step[], diagnostics?: string): Promise<void> {
    try {
      await runSteps(this.executor, steps, this.out);
    } catch (err) {
      if (this.controller.signal.aborted) {
        await this.teardown();
        throw this.controller.signal.reason instanceof InterruptedError ? this.controller.signal.reason : err;
      }
      if (diagnostics !== undefined) await this.keepDiagnostics(join(this.artifactsDir, 'diagnostics', diagnostics));
      throw err;
    }
  }

  /** Best effort: a diagnostics failure never hides the original error. Nothing to ask before the cluster exists. */
  private async keepDiagnostics(dir: string): Promise<void> {
    if (!this.executor.clusterReady) return;
    try {
      const d = await this.executor.asCleanup(() => collectDiagnostics(this.executor, [...this.clients.values()], dir));
      this.lastDiagnostics = d.dir;
      this.out(`diagnostics: ${d.dir} (${d.files.length} file(s))`);
    } catch (err) {
      this.out(`diagnostics failed: ${(err as Error).message}`);
    }
  }

  /** The directory of the last diagnostics kept for a failed setup or scenario. */
  lastDiagnostics: string | undefined;

  async setup(): Promise<LaneInfo> {
    if (this.info) return this.info;
    if (this.opts.handleSignals !== false) this.trap();
    const nsManifests = namespaceManifests(this.ctx, [...this.clients.values()].map((c) => c.namespace), []);
    nsManifests.forEach((n) => this.namespaces.add(n.metadata.name));
    await this.steps([preflightStep(this.ctx), clusterStep(this.ctx), serversStep(this.ctx), dnsStep(this.ctx), namespacesStep(this.ctx, nsManifests)], '');
    this.info = laneInfo(this.executor);
    return this.info;
  }

  async applyScenario(name: string, policy: PolicyMode, resources: ResourceSet): Promise<ScenarioHandle> {
    if (!this.info) await this.setup();
    if (this.applied) await this.clearScenario(this.applied.handle);
    const steps: Step[] = [];
    const newNamespaces = scenarioManifests(resources)
      .map((m) => m.metadata.namespace!)
      .filter((ns) => !this.namespaces.has(ns));
    if (newNamespaces.length) {
      const manifests = namespaceManifests(this.ctx, [], newNamespaces).filter((n) => newNamespaces.includes(n.metadata.name));
      manifests.forEach((n) => this.namespaces.add(n.metadata.name));
      steps.push(namespacesStep(this.ctx, manifests));
    }
    const install = installSpec(this.ctx, policy, resources.mesh);
    if (this.installed?.key !== install.key) {
      const step = istioStep(this.ctx, install);
      if (this.installed) step.actions.push({ type: 'sleep', ms: this.ctx.timeouts.settle, why: 'sidecars apply a changed mesh config after a short delay' });
      steps.push(step);
    }
    if (this.clientsProxyKey !== install.proxyKey) {
      steps.push(clientsStep(this.ctx, [...this.clients.values()], this.clientsProxyKey !== undefined, install.proxyKey));
    }
    steps.push(scenarioApplyStep(this.ctx, name, policy, resources));
    await this.steps(steps, `${policy}_${name}`.replace(/[^\w.-]+/g, '_'));
    this.installed = install;
    this.clientsProxyKey = install.proxyKey;
    const handle = { name, policy };
    this.applied = { handle, resources };
    return handle;
  }

  async observe(handle: ScenarioHandle, probe: Probe): Promise<Observation> {
    if (!this.applied || this.applied.handle !== handle) throw new Error(`scenario ${handle.name} is not the applied one`);
    const client = clientFor(probe.from);
    if (this.addClient(client)) {
      // A probe from a namespace or label set not seen yet: its client is created now.
      if (!this.namespaces.has(client.namespace)) {
        const ns = namespaceManifests(this.ctx, [client.namespace], []).filter((n) => n.metadata.name === client.namespace);
        this.namespaces.add(client.namespace);
        await this.steps([namespacesStep(this.ctx, ns)]);
      }
      await this.steps([clientsStep(this.ctx, [client], false, this.clientsProxyKey ?? '')]);
    }
    const catalogueProbe = { ...probe, expect: {} };
    const id = caseId(handle.policy, handle.name, catalogueProbe);
    const scenario = { name: handle.name, description: '', resourceFiles: [], resources: this.applied.resources, policies: [handle.policy], probes: [], file: '' };
    const action = probeAction({ id, scenario, policy: handle.policy, probe: catalogueProbe }, this.toolkit);
    await this.steps([{ phase: 'scenario', title: `probe ${id}`, actions: [action] }]);
    // The record of this very action: never another probe's result that landed in the shared list.
    const record = [...this.executor.probes].reverse().find((p) => p.action === action);
    if (!record) throw new Error(`probe ${id}: no observation recorded`);
    return record.observation;
  }

  async diagnose(probe: Probe, dir: string): Promise<string[]> {
    try {
      const d = await collectDiagnostics(this.executor, [clientFor(probe.from)], dir);
      return d.files;
    } catch {
      return [];
    }
  }

  async clearScenario(handle: ScenarioHandle): Promise<void> {
    if (!this.applied || this.applied.handle !== handle) return;
    await this.steps([scenarioClearStep(this.ctx, handle.name, handle.policy, this.applied.resources)]);
    this.applied = undefined;
  }

  teardown(): Promise<void> {
    this.tornDown ??= (async () => {
      // A step still in flight (a scenario being applied when the suite gives up) stops first; cleanup
      // actions run in their own scope and ignore the abort.
      if (!this.controller.signal.aborted) this.controller.abort(new StepError('the kind lane was torn down while this step ran'));
      const step = teardownStep(this.ctx);
      const started = Date.now();
      this.out(step.title);
      for (const action of step.actions) await this.executor.runCleanup(action);
      this.out(`  ✓ ${seconds(Date.now() - started)}`);
      this.untrap();
    })();
    return this.tornDown;
  }

  private trap(): void {
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
      const h = () => {
        if (this.controller.signal.aborted) {
          this.out(`${sig} again: cleanup is under way, it stops by itself`);
          return;
        }
        this.out(`\n${sig}: stopping, then removing what this run created…`);
        const err = new InterruptedError(sig);
        this.controller.abort(err);
        void this.teardown().finally(() => process.exit(err.exitCode));
      };
      process.on(sig, h);
      return [sig, h] as const;
    });
    this.untrap = () => handlers.forEach(([sig, h]) => process.off(sig, h));
  }
}
