// The control-plane lane: a kwok cluster with Istio installed by `istioctl install`, the real istiod on
// loopback (stack.ts), each scenario's client Pods as real Pods (pods.ts), a barrier that waits until
// istiod has taken a scenario in (barrier.ts), and an ADS client that connects as a Pod's sidecar and
// receives what it would (observer.ts). The verdict is the cluster a probe lands in. No Docker, no traffic.
// The lane imports nothing from the oracle: what it sends istiod (node metadata, labels) is read from the
// live API objects, never derived from a model of Istio, or it would share the oracle's mistakes.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ISTIO_NAMESPACE, modeOf } from '../../k8s/istio.ts';
import type { K8sObject, K8sOps } from '../../k8s/client.ts';
import { meshConfigOf, scenarioObjects, namespaceObjects } from '../../k8s/manifests.ts';
import { ensureNamespaces, syncScenarioObjects } from '../../k8s/workloads.ts';
import { UserError } from '../../model/errors.ts';
import type { Observation, PolicyMode, Probe, ProbeSource, ResourceSet } from '../../model/types.ts';
import { onInterrupt } from '../../process/interrupt.ts';
import { PINNED_PILOT, type PilotDiscoveryPin } from '../../tools/pilot-discovery.ts';
import { PINNED } from '../../tools/versions.ts';
import type { Lane, LaneInfo, ScenarioHandle } from '../lane.ts';
import type { SidecarIdentity } from './proxy-node.ts';
import type { XdsSnapshot } from './xds-types.ts';
import { Barrier, SENTINEL_HOST, sentinel } from './barrier.ts';
import { MeshWriter } from './istio-install.ts';
import type { Istiod } from './istiod.ts';
import { GatewayHop } from './gateway-hop.ts';
import { type LiveMarks, removeLiveMarks, syncLiveCluster } from './live-sync.ts';
import { type AppliedScenario, proxyMetadataOf, SidecarObserver } from './observer.ts';
import { type ClientPod, ClientPods, NO_RESOURCES, sourcesFor } from './pods.ts';
import { ControlPlaneStack, startSecondIstiod } from './stack.ts';
import { LaneStateHelpers, type LaneState } from './state.ts';

import type { ApplyTimings, ControlPlaneLaneOptions, SetupTimings } from './options.ts';

export type { ApplyTimings, ControlPlaneLaneOptions, SetupTimings } from './options.ts';
export type { LaneState } from './state.ts';

export class ControlPlaneLane implements Lane {
  lastApply?: ApplyTimings;
  setupTimings?: SetupTimings;
  readonly runId: string;
  private stack?: ControlPlaneStack;
  private k8s?: K8sOps;
  private istiod?: Istiod;
  private barrier?: Barrier;
  private observer?: SidecarObserver;
  private pods?: ClientPods;
  private mesh?: MeshWriter;
  private generation = 0;
  private freshIstiods = 0;
  private current?: AppliedScenario & { handle: ScenarioHandle };
  private liveMarks?: LiveMarks;
  /**
   * The run's scenario objects on the cluster, as this lane last left them (undefined: not known, so listed).
   * Listing them instead would be a consistent list right after a write, which waits 50–80 ms for the API
   * server's watch cache to catch up with etcd.
   */
  private liveObjects?: K8sObject[];
  /** Scenario namespaces this lane has applied (a run never deletes a namespace). */
  private readonly namespaces = new Set<string>();
  private readonly pin: PilotDiscoveryPin;
  private releaseInterrupt?: () => void;
  private attachedDir?: string;

  constructor(private readonly opts: ControlPlaneLaneOptions = {}) {
    this.pin = opts.pin ?? PINNED_PILOT;
    this.runId = opts.runId ?? `cp-${randomBytes(4).toString('hex')}`;
  }

  get istiodProcess(): Istiod | undefined {
    return this.istiod;
  }

  /** The running stack (cluster, istiod), after setup(); undefined on an attached lane. */
  get controlPlane(): ControlPlaneStack | undefined {
    return this.stack;
  }

  /** The cluster's API server, as the tests and the labs name it. */
  get apiServer(): { kubeconfigFile: string } | undefined {
    return this.stack ? { kubeconfigFile: this.stack.kubeconfig } : undefined;
  }

  get runDir(): string | undefined {
    return this.stack?.runDir ?? this.attachedDir;
  }

  async setup(): Promise<LaneInfo> {
    if (!this.istiod) {
      // Ctrl-C while the stack starts or runs: stop what this lane started and remove its run dir.
      if (!this.opts.detached) this.releaseInterrupt = onInterrupt(() => this.teardown());
      try {
        // The plain clients every scenario has are made while istiod starts: they need the cluster only.
        let pods: ClientPods | undefined;
        let workloadsMs = 0;
        const stack = await ControlPlaneStack.start({
          ...this.opts,
          pin: this.pin,
          whileIstiodStarts: async (k8s) => {
            const t0 = performance.now();
            pods = new ClientPods(k8s, this.runId);
            await pods.sync(sourcesFor(NO_RESOURCES), 60_000);
            workloadsMs = performance.now() - t0;
          },
        });
        this.stack = stack;
        this.use(stack.k8s, stack.istiod, stack.istioctl, stack.runDir, pods);
        this.setupTimings = { ...stack.timings!, workloadsMs };
      } catch (err) {
        await this.teardown();
        throw err;
      }
    }
    return this.info();
  }

  private use(k8s: K8sOps, istiod: Istiod, istioctl: string, dir: string, pods?: ClientPods): void {
    this.k8s = k8s;
    this.istiod = istiod;
    this.barrier = new Barrier(k8s, istiod, this.pin.istioVersion);
    this.observer = new SidecarObserver(istiod, this.pin.istioVersion, new GatewayHop(k8s, istiod, this.pin.istioVersion));
    this.pods = pods ?? new ClientPods(k8s, this.runId);
    this.mesh = new MeshWriter(k8s, istioctl, dir);
  }

  info(): LaneInfo {
    const i = this.istiod!;
    return {
      lane: 'control-plane',
      istioVersion: this.pin.istioVersion,
      details: {
        binary: i.opts.binary,
        goModuleVersion: this.pin.goModuleVersion,
        commit: this.pin.commit,
        kubernetes: PINNED.kubernetes.version,
        etcd: PINNED.kubernetes.etcd,
        cluster: `kwok ${PINNED.kubernetes.kwok} (kwokctl --runtime binary)`,
        istioInstall: this.stack
          ? `istioctl install -f ${this.stack.operator}${this.stack.timings?.fromSnapshot ? ' (restored from its snapshot)' : ''}`
          : 'attached',
        xds: i.addresses.grpc,
        runDir: this.runDir ?? '',
        istiodReadyAfterMs: String(i.readyAfterMs),
      },
    };
  }

  private started() {
    if (!this.istiod || !this.k8s) throw new UserError('control-plane lane: setup() must run before scenarios are applied');
    return { k8s: this.k8s, barrier: this.barrier!, observer: this.observer!, pods: this.pods!, mesh: this.mesh! };
  }

  /**
   * Applies a scenario: its client Pods first (Running, Ready, with IPs), then its objects, then the
   * barrier and the mesh with its marker. `sources`: the probe sources the caller will observe from; their
   * Pods are made with the scenario's (so none appears after the apply) and their xDS is fetched at once.
   */
  async applyScenario(name: string, policy: PolicyMode, resources: ResourceSet, sources: ProbeSource[] = []): Promise<ScenarioHandle> {
    const { k8s, barrier, observer, pods, mesh } = this.started();
    const generation = ++this.generation;
    observer.reset();
    this.current = undefined;
    const timeout = this.opts.applyTimeoutMs ?? 20_000;
    const t0 = performance.now();
    await pods.sync(sourcesFor(resources, sources), timeout);
    const tp = performance.now();
    const objects = scenarioObjects(resources, this.runId, generation);
    const namespaces = new Set(objects.map((o) => o.metadata.namespace!).filter((n) => !this.namespaces.has(n)));
    await ensureNamespaces(
      k8s,
      namespaceObjects([...namespaces], { inject: false, runId: this.runId }).filter((n) => namespaces.has(n.metadata.name)),
      { serviceAccount: false },
    );
    for (const n of namespaces) this.namespaces.add(n);
    const barrierEntry = sentinel(generation, this.runId);
    const before = this.liveObjects;
    this.liveObjects = undefined;
    await syncScenarioObjects(k8s, objects, this.runId, before ? { live: before } : {});
    // Strictly after the scenario's entries: the barrier relies on the allocator's queue order.
    await k8s.apply(barrierEntry);
    this.liveObjects = [...objects, barrierEntry];
    const t1 = performance.now();
    let checks = await barrier.allocator(barrierEntry, timeout);
    const t2 = performance.now();
    checks += await barrier.store([...objects, barrierEntry], generation, timeout);
    const t3 = performance.now();
    const wantHosts = new Set(resources.serviceEntries.flatMap((se) => se.hosts.map((h) => `${se.namespace}/${h}`)));
    wantHosts.add(`${ISTIO_NAMESPACE}/${SENTINEL_HOST(generation)}`);
    checks += await barrier.registry(wantHosts, timeout);
    const t4 = performance.now();
    const live = await mesh.write(policy, meshConfigOf(resources.mesh), generation);
    checks += await barrier.marker(generation, timeout);
    const t5 = performance.now();
    this.lastApply = {
      podsMs: tp - t0,
      applyMs: t1 - tp,
      allocationMs: t2 - t1,
      configMs: t3 - t2,
      registryMs: t4 - t3,
      meshPushMs: t5 - t4,
      totalMs: t5 - t0,
      checks,
    };
    const handle: ScenarioHandle = { name, policy };
    this.current = { handle, generation, proxyMetadata: proxyMetadataOf(live) };
    // The sources the caller named are the ones it will probe from: their sidecars' xDS is fetched now.
    observer.prefetch(
      sources.map((s) => pods.get(s)).filter((p): p is ClientPod => p !== undefined),
      this.current,
    );
    return handle;
  }

  /** The plain client of every client namespace, one Pod per workload selector, one per probe source. */
  podsFor(resources: ResourceSet, sources: ProbeSource[]): ProbeSource[] {
    return sourcesFor(resources, sources);
  }

  /**
   * Makes the client Pods exactly podsFor(resources, sources), Running and Ready with IPs: for a caller that
   * writes a scenario itself (the warm stack) and must have them before its barrier, as applyScenario does.
   */
  async syncPods(resources: ResourceSet, sources: ProbeSource[]): Promise<void> {
    await this.started().pods.sync(this.podsFor(resources, sources), this.opts.applyTimeoutMs ?? 20_000);
  }

  /** The Pod of a probe's source; one the scenario did not name is made now (and goes with the scenario). */
  private async podFor(source: ProbeSource): Promise<ClientPod> {
    const { pods } = this.started();
    const known = pods.get(source);
    if (known) return known;
    const want = [...pods.wanted(), source];
    const synced = await pods.sync(want, this.opts.applyTimeoutMs ?? 20_000);
    return synced.at(-1)!;
  }

  /** The xDS a probe's source sidecar received under the current scenario (fetched once per scenario). */
  async snapshotFor(probe: Probe): Promise<{ snapshot: XdsSnapshot; identity: SidecarIdentity; fresh: boolean }> {
    const { observer } = this.started();
    return observer.snapshotFor(await this.podFor(probe.from), this.current);
  }

  async observe(handle: ScenarioHandle, probe: Probe): Promise<Observation> {
    const { observer } = this.started();
    const cur = this.current;
    if (!cur || cur.handle !== handle) {
      return { verdict: 'error', error: `scenario ${handle.name} is not the one currently applied`, evidence: {} };
    }
    return observer.observe(await this.podFor(probe.from), cur, probe);
  }

  async diagnose(probe: Probe, dir: string): Promise<string[]> {
    const pod = this.pods?.get(probe.from);
    return pod && this.observer ? this.observer.diagnose(pod, dir) : [];
  }

  async clearScenario(handle: ScenarioHandle): Promise<void> {
    const { k8s, observer, pods, mesh } = this.started();
    if (this.current && this.current.handle !== handle) return;
    const generation = ++this.generation;
    observer.reset();
    this.current = undefined;
    const timeout = this.opts.applyTimeoutMs ?? 20_000;
    await this.removeObjects(k8s);
    // The scenario's own Pods go with it; the plain clients every scenario has stay.
    await pods.sync(sourcesFor(NO_RESOURCES), timeout);
    await mesh.write(handle.policy, {}, generation);
    // No barrier here: nothing is observed on a cleared cluster, and the next apply's barrier waits for
    // istiod to hold exactly that scenario (the store, the registry, a push with its marker), which a
    // removal istiod has not taken in yet would fail.
  }

  /**
   * clearScenario(previous) then applyScenario(...), leaving the cluster as those two would, in fewer steps:
   * the previous scenario's objects are deleted first (the next one's are created afresh, in its own order:
   * creation time is how Istio breaks ties, so none is updated in place), then the apply's Pod sync makes
   * the Pods exactly the next scenario's and its mesh write replaces the mesh. What the clear would have
   * done besides is skipped: deleting a Pod the next scenario needs again, only for it to be made anew
   * (the same source is the same Pod name and labels; what is observed depends on those and on the Pod's IP,
   * which istiod and the lane both read from the one live Pod, not on which Pod it is), and a mesh write
   * (and istiod's push of it) that the apply's own write replaces.
   */
  async replaceScenario(
    previous: ScenarioHandle,
    name: string,
    policy: PolicyMode,
    resources: ResourceSet,
    sources: ProbeSource[] = [],
  ): Promise<ScenarioHandle> {
    const { k8s, observer } = this.started();
    if (this.current?.handle === previous) {
      observer.reset();
      this.current = undefined;
      await this.removeObjects(k8s);
    }
    return this.applyScenario(name, policy, resources, sources);
  }

  /** Deletes the run's scenario objects (and the barrier entry, which carries the run's label too). */
  private async removeObjects(k8s: K8sOps): Promise<void> {
    const live = this.liveObjects;
    this.liveObjects = undefined;
    await syncScenarioObjects(k8s, [], this.runId, live ? { live } : {});
    this.liveObjects = [];
  }

  async teardown(): Promise<void> {
    this.releaseInterrupt?.();
    this.releaseInterrupt = undefined;
    const stack = this.stack;
    this.stack = undefined;
    this.istiod = undefined;
    this.k8s = undefined;
    this.current = undefined;
    // An attached lane leaves the stack running: stopRecorded ends it.
    await stack?.stop();
  }

  // ------------------------------------------------------------------ a detached stack (warm stack, labs)

  /** The running stack, for a state file; only meaningful after setup(). */
  state(): LaneState {
    if (!this.stack) throw new UserError('control-plane lane: state() needs a stack this lane started');
    return LaneStateHelpers.of(this.stack.state(), this.runId, this.pin, this.generation);
  }

  static isAlive(state: LaneState): boolean {
    return ControlPlaneStack.isAlive(state.stack);
  }

  static stopRecorded(state: LaneState): void {
    ControlPlaneStack.stopRecorded(state.stack);
  }

  /**
   * Lane.withFreshControlPlane: a second istiod (startSecondIstiod) answers the applies and observations of `fn`;
   * the stack's own istiod, which serves the webhooks, runs on meanwhile and takes over again after.
   */
  async withFreshControlPlane<T>(fn: () => Promise<T>): Promise<T> {
    const { k8s } = this.started();
    const own = { istiod: this.istiod!, barrier: this.barrier!, observer: this.observer! };
    const runDir = this.runDir;
    if (!runDir) throw new UserError('control-plane lane: a second istiod needs the run dir of the stack');
    const name = `istiod-fresh-${++this.freshIstiods}`;
    const fresh = await startSecondIstiod({
      binary: own.istiod.opts.binary,
      kubeconfig: own.istiod.opts.kubeconfig,
      runDir,
      name,
      istioVersion: this.pin.istioVersion,
    }).catch((e: unknown) => {
      // Istiod.start has stopped what it started; its folder goes too.
      rmSync(join(runDir, name), { recursive: true, force: true });
      throw e;
    });
    try {
      this.istiod = fresh;
      this.barrier = new Barrier(k8s, fresh, this.pin.istioVersion);
      this.observer = new SidecarObserver(fresh, this.pin.istioVersion, new GatewayHop(k8s, fresh, this.pin.istioVersion));
      return await fn();
    } finally {
      Object.assign(this, own);
      own.observer.reset();
      await fresh.stop();
      rmSync(join(runDir, name), { recursive: true, force: true });
    }
  }

  /** A lane over a stack an earlier command started detached: it observes the live cluster as it is. */
  static attach(state: LaneState, opts: ControlPlaneLaneOptions = {}): ControlPlaneLane {
    const pin = { ...(opts.pin ?? PINNED_PILOT), istioVersion: state.istioVersion, goModuleVersion: state.goModuleVersion };
    const lane = new ControlPlaneLane({ ...opts, runId: state.runId, pin });
    const { k8s, istiod } = ControlPlaneStack.attach(state.stack, state.istioVersion);
    lane.attachedDir = state.runDir;
    lane.use(k8s, istiod, state.stack.istioctl, state.runDir);
    // A later command must not reuse an earlier one's markers: start past them, by wall clock.
    lane.generation = Math.max(state.generation, Math.floor(Date.now() / 1000) % 40_000);
    return lane;
  }

  /**
   * Waits until istiod has pushed the cluster's current ServiceEntries, Sidecars and mesh config, however
   * they got there (kubectl, an IstioOperator install): the same barrier as applyScenario, over every
   * object in the cluster rather than this run's. Returns the live mesh config.
   */
  async syncLive(meshToWrite?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { k8s, barrier, observer } = this.started();
    const generation = ++this.generation;
    observer.reset();
    const { mesh, marks } = await syncLiveCluster(k8s, barrier, generation, this.runId, this.opts.applyTimeoutMs ?? 20_000, meshToWrite);
    this.liveMarks = marks;
    const handle: ScenarioHandle = { name: 'live', policy: modeOf(mesh) === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY' };
    this.current = { handle, generation, proxyMetadata: proxyMetadataOf(mesh) };
    return mesh;
  }

  /** Takes the last syncLive()'s barrier entry and mesh marker out of the cluster (what was observed stays). */
  async releaseLive(): Promise<void> {
    const marks = this.liveMarks;
    this.liveMarks = undefined;
    if (marks) await removeLiveMarks(this.started().k8s, marks);
  }

  /** Observes a probe against the live cluster, after syncLive(). */
  async observeLive(probe: Probe): Promise<Observation> {
    if (!this.current) await this.syncLive();
    return this.observe(this.current!.handle, probe);
  }
}
