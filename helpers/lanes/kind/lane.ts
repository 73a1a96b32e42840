// KindLane: the kind lane's one implementation. The Lane interface over the phase functions and a Runner:
// the live runner for a run, the recording runner for the dry run (dry-run.ts drives this same class).
// Each step is printed with its elapsed time; a failed setup or scenario keeps diagnostics under
// <artifactsDir>/diagnostics; teardown (also on Ctrl-C and SIGTERM) removes what this run created and
// nothing else.
import { join } from 'node:path';
import { caseId } from '../../catalogue/load.ts';
import { ClientNodeK8s, type K8sOps } from '../../k8s/client.ts';
import { InterruptedError, StepError } from '../../model/errors.ts';
import { onInterrupt } from '../../process/interrupt.ts';
import type { Observation, PolicyMode, Probe, ProbeSource, ResourceSet } from '../../model/types.ts';
import type { Lane, LaneInfo, ScenarioHandle } from '../lane.ts';
import { runContext, type RunContext, type RunOptions } from './context.ts';
import { collectDiagnostics, saveAccessLogs } from './diagnostics.ts';
import { LiveRunner, type ProcessRunner, type ToolResolver } from './live-runner.ts';
import { ensureCluster, preflight } from './phases/cluster.ts';
import { installIstio, installSpec, type InstallSpec } from './phases/istio.ts';
import { observeProbe } from './phases/probe.ts';
import { applyScenarioObjects, deleteScenarioObjects } from './phases/scenario.ts';
import { clusterDns, startServers } from './phases/servers.ts';
import { syncBarrier, type SyncEvidence } from './phases/sync.ts';
import { teardown, teardownTitle } from './phases/teardown.ts';
import { applyNamespaces, clientFor, clientKey, controlClient, ensureClients, ensureInjector, isInjected } from './phases/workloads.ts';
import { requireProbeToolkit, type ProbeToolkit } from './probe-toolkit.ts';
import { kindLaneInfo } from './lane-info.ts';
import { Roster } from './roster.ts';
import type { K8sObject, Runner, TraceEntry } from './runner.ts';
import { newRunState, type RunState } from './state.ts';

export interface KindLaneOptions extends RunOptions {
  out?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  processes?: ProcessRunner;
  k8s?: (kubeconfigFile: string) => K8sOps;
  tools?: ToolResolver;
  toolkit?: ProbeToolkit;
  /** Another runner (the dry run's); default the live one. */
  runner?: Runner;
  /** Every trace entry of the live runner (tests compare it with the dry run's). */
  onTrace?: (e: TraceEntry) => void;
  /** Install SIGINT/SIGTERM handlers that tear down and exit (default true for a live runner). */
  handleSignals?: boolean;
  /** Diagnostics of a failed setup or scenario go to <artifactsDir>/diagnostics (default artifacts/kind/<runId>). */
  artifactsDir?: string;
  pollMs?: number;
  probeIntervalMs?: number;
  accessLogPollMs?: number;
}

interface Applied {
  handle: ScenarioHandle;
  objects: K8sObject[];
  sync: SyncEvidence;
}

export class KindLane implements Lane {
  readonly ctx: RunContext;
  readonly state: RunState = newRunState();
  private readonly runner: Runner;
  private readonly live: LiveRunner | undefined;
  private readonly controller = new AbortController();
  private readonly out: (line: string) => void;
  private readonly toolkit: ProbeToolkit;
  /** Where diagnostics of a failed setup or scenario go (under `diagnostics/`). */
  readonly artifactsDir: string;
  /** The directory of the last diagnostics kept for a failed setup or scenario. */
  lastDiagnostics: string | undefined;
  private info: LaneInfo | undefined;
  private installed: InstallSpec | undefined;
  private clientsProxyKey: string | undefined;
  private readonly roster: Roster;
  private applied: Applied | undefined;
  private tornDown: Promise<void> | undefined;
  private untrap: () => void = () => {};

  constructor(private readonly opts: KindLaneOptions = {}) {
    this.ctx = runContext({ ...opts, preloadImages: opts.preloadImages ?? (opts.env ?? process.env).EGRESS_KIND_PRELOAD_IMAGES === '1' });
    this.out = opts.out ?? ((l) => process.stdout.write(`${l}\n`));
    this.toolkit = requireProbeToolkit(opts.toolkit);
    this.artifactsDir = opts.artifactsDir ?? join(process.cwd(), 'artifacts', 'kind', this.ctx.runId);
    if (opts.runner) {
      this.runner = opts.runner;
    } else {
      this.live = new LiveRunner({
        ctx: this.ctx,
        processes: opts.processes,
        k8s: opts.k8s ?? ((file) => new ClientNodeK8s(file)),
        tools: opts.tools,
        env: opts.env,
        log: this.out,
        signal: this.controller.signal,
        pollMs: opts.pollMs,
        onTrace: opts.onTrace,
      });
      this.runner = this.live;
    }
    this.roster = new Roster(this.ctx);
  }

  /**
   * Runs phases. On Ctrl-C the lane is torn down and the interruption raised. On a failure with
   * `diagnostics` set (a sub-directory of <artifactsDir>/diagnostics, '' for the directory itself), what
   * explains it is kept there first, and the path printed.
   */
  private async guarded<T>(fn: () => Promise<T>, diagnostics?: string): Promise<T> {
    try {
      return await fn();
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
    if (!this.live || !this.state.clusterReady) return;
    const live = this.live;
    try {
      const d = await live.asCleanup(() => collectDiagnostics(live, this.ctx, this.roster.all(), dir));
      this.lastDiagnostics = d.dir;
      this.out(`diagnostics: ${d.dir} (${d.files.length} file(s))`);
    } catch (err) {
      this.out(`diagnostics failed: ${(err as Error).message}`);
    }
  }

  laneInfo(): LaneInfo {
    return kindLaneInfo(this.ctx, this.state, this.live?.tools);
  }

  async setup(): Promise<LaneInfo> {
    if (this.info) return this.info;
    if (this.live && this.opts.handleSignals !== false) this.trap();
    const r = this.runner;
    const nsManifests = this.roster.setupNamespaces();
    await this.guarded(async () => {
      await preflight(r, this.ctx, this.state);
      await ensureCluster(r, this.ctx, this.state);
      await startServers(r, this.ctx, this.state);
      await clusterDns(r, this.ctx, this.state);
      await applyNamespaces(r, nsManifests);
    }, '');
    this.info = this.laneInfo();
    return this.info;
  }

  /**
   * Every client the run has made so far (a kind run keeps them: one per namespace and label set it has seen),
   * and those of `sources` that applyScenario makes now.
   */
  podsFor(_resources: ResourceSet, sources: ProbeSource[]): ProbeSource[] {
    const out = new Map<string, ProbeSource>();
    for (const c of this.roster.all())
      out.set(clientKey(c), { namespace: c.namespace, ...(Object.keys(c.labels).length ? { labels: c.labels } : {}) });
    for (const s of sources) out.set(clientKey(clientFor(s)), s);
    return [...out.values()];
  }

  async applyScenario(name: string, policy: PolicyMode, resources: ResourceSet, sources: ProbeSource[] = []): Promise<ScenarioHandle> {
    if (!this.info) await this.setup();
    if (this.applied) await this.clearScenario(this.applied.handle);
    const r = this.runner;
    const install = installSpec(this.ctx, policy, resources.mesh);
    const handle = { name, policy };
    // The probes' clients not made yet are made before the scenario's barrier, which then waits for their
    // sidecars too: which Pods exist decides what a workloadSelector selects, for every client.
    const newClients = [...new Map(sources.map(clientFor).map((c) => [clientKey(c), c])).values()].filter((c) => !this.roster.has(c));
    await this.guarded(
      async () => {
        const namespaces = this.roster.scenarioNamespaces([
          ...[...resources.serviceEntries, ...resources.sidecars].map((x) => x.namespace),
          ...newClients.map((c) => c.namespace),
        ]);
        if (namespaces) await applyNamespaces(r, namespaces);
        if (this.installed?.key !== install.key) {
          await installIstio(r, this.ctx, install);
          this.installed = install;
        }
        // Clients are created after the first install (the injector must exist) and recreated when the proxy
        // defaults they were injected with change.
        if (this.clientsProxyKey !== install.proxyKey) {
          await ensureInjector(r, this.ctx, this.controller.signal);
          await ensureClients(r, this.ctx, this.roster.all(), this.clientsProxyKey !== undefined, install.proxyKey);
          this.clientsProxyKey = install.proxyKey;
        }
        if (newClients.length) {
          for (const c of newClients) this.roster.add(c);
          await ensureClients(r, this.ctx, newClients, false, install.proxyKey);
        }
        const objects = await applyScenarioObjects(r, this.ctx, this.state, name, policy, resources);
        const sync = await syncBarrier(r, this.ctx, {
          generation: this.state.generation,
          objects,
          clients: this.roster.injected(),
          meshConfig: install.meshConfig,
        });
        this.applied = { handle, objects, sync };
      },
      `${policy}_${name}`.replace(/[^\w.-]+/g, '_'),
    );
    return handle;
  }

  async observe(handle: ScenarioHandle, probe: Probe): Promise<Observation> {
    if (!this.applied || this.applied.handle !== handle) throw new Error(`scenario ${handle.name} is not the applied one`);
    const applied = this.applied;
    const r = this.runner;
    const client = clientFor(probe.from);
    return this.guarded(async () => {
      if (this.roster.add(client)) {
        // A probe from a namespace or label set not seen yet: its client is created now, and the barrier
        // is passed again so its sidecar has the scenario too.
        const namespace = this.roster.clientNamespace(client);
        if (namespace) await applyNamespaces(r, namespace);
        await ensureClients(r, this.ctx, [client], false, this.clientsProxyKey ?? '');
        if (isInjected(client)) {
          const more = await syncBarrier(r, this.ctx, {
            generation: this.state.generation,
            objects: applied.objects,
            clients: [client],
            meshConfig: this.installed?.meshConfig,
          });
          Object.assign(applied.sync.proxies, more.proxies);
        }
      }
      const id = caseId(handle.policy, handle.name, { ...probe, expect: {} });
      const obs = await observeProbe(
        r,
        this.state,
        {
          id,
          probe,
          argv: this.toolkit.probeCommand(probe.to),
          container: this.toolkit.probeContainer(probe.to),
          client,
          control: controlClient(),
        },
        {
          classify: this.toolkit.classifyProbe,
          timeoutMs: this.ctx.timeouts.probeConverge,
          execTimeoutMs: this.ctx.timeouts.probeExec,
          accessLogMs: this.ctx.timeouts.accessLog,
          intervalMs: this.opts.probeIntervalMs,
          accessLogPollMs: this.opts.accessLogPollMs,
          signal: this.controller.signal,
        },
      );
      const proxy = applied.sync.proxies[clientKey(client)];
      obs.evidence.sync = { generation: applied.sync.generation, marker: applied.sync.marker, ...(proxy ? { proxy } : {}) };
      if (!r.dryRun)
        this.out(
          `    ${id}: ${obs.verdict === 'error' ? `error: ${obs.error}` : `${obs.verdict}${obs.cluster ? ` via ${obs.cluster}` : ''}`}`,
        );
      return obs;
    });
  }

  async diagnose(probe: Probe, dir: string): Promise<string[]> {
    if (!this.live) return [];
    try {
      return (await collectDiagnostics(this.live, this.ctx, [clientFor(probe.from)], dir)).files;
    } catch {
      return [];
    }
  }

  async clearScenario(handle: ScenarioHandle): Promise<void> {
    if (!this.applied || this.applied.handle !== handle) return;
    const { objects } = this.applied;
    await this.guarded(() =>
      deleteScenarioObjects(this.runner, this.ctx, this.state, `scenario ${handle.name} (${handle.policy}): delete its resources`, objects),
    );
    this.applied = undefined;
  }

  teardown(): Promise<void> {
    this.tornDown ??= (async () => {
      // A step still in flight (a scenario being applied when the suite gives up) stops first; cleanup
      // work runs in its own scope and ignores the abort.
      if (!this.controller.signal.aborted) this.controller.abort(new StepError('the kind lane was torn down while this step ran'));
      const r = this.runner;
      if (this.live && this.state.clusterReady && this.clientsProxyKey !== undefined) {
        const live = this.live;
        const files = await live.asCleanup(() => saveAccessLogs(live, this.roster.all(), this.artifactsDir)).catch(() => []);
        if (files.length) this.out(`access logs: ${files.length} file(s) under ${join(this.artifactsDir, 'access-logs')}`);
      }
      await r.cleanup('teardown', () => r.step(teardownTitle(this.ctx), () => teardown(r, this.ctx, this.state)));
      this.untrap();
    })();
    return this.tornDown;
  }

  private trap(): void {
    // Through the process's one signal owner (helpers/process/interrupt.ts); a second Ctrl-C exits at once.
    // The owner exits (130, 143) once the handlers it awaits are done: the teardown is awaited here.
    this.untrap = onInterrupt(async (signal) => {
      if (this.controller.signal.aborted) return;
      const sig = signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
      this.out(`\n${sig}: stopping, then removing what this run created…`);
      this.controller.abort(new InterruptedError(sig));
      await this.teardown();
    });
  }
}
