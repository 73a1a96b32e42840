// The control-plane lane: a real Kubernetes API server (etcd + kube-apiserver) and the real istiod on
// loopback, Istio installed from the same IstioOperator files as the kind lane, the client Pods as real API
// objects, and an ADS client that connects as those Pods and receives what their sidecars would. The
// verdict is the cluster a probe lands in, read from that config by the evaluator. No Docker, no traffic.
//
// The lane imports nothing from the oracle: what it sends istiod (node metadata, labels) is read from the
// live API objects, never derived from a model of Istio, or it would share the oracle's mistakes.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pollUntil } from '../../process/poll.ts';
import { EnvironmentError, UserError } from '../../model/errors.ts';
import type { Observation, PolicyMode, Probe, ProbeSource, ResourceSet } from '../../model/types.ts';
import { ClientNodeK8s, type K8sObject, type K8sOps } from '../../k8s/client.ts';
import {
  applyIstioObjects,
  ISTIO_NAMESPACE,
  MESH_CONFIGMAP,
  modeOf,
  readMeshConfig,
  renderIstioOperator,
  writeMeshConfig,
} from '../../k8s/istio.ts';
import {
  clientFor,
  clientPodManifest,
  CONTROL_NAMESPACE,
  meshConfigOf,
  GENERATION_ANNOTATION,
  istioOperatorFor,
  namespaceObjects,
  RUN_LABEL,
  scenarioObjects,
  shortHash,
} from '../../k8s/manifests.ts';
import { ensureDefaultServiceAccount, ensureNamespaces, keyOf, syncScenarioObjects } from '../../k8s/workloads.ts';
import {
  ensurePilotDiscovery,
  findIstioctlBuildSync,
  installPilotDiscovery,
  PINNED_PILOT,
  type PilotDiscoveryPin,
} from '../../tools/pilot-discovery.ts';
import { PINNED } from '../../tools/versions.ts';
import type { Lane, LaneInfo, ScenarioHandle } from '../lane.ts';
import type { SidecarIdentity, XdsSnapshot } from './ads-client.ts';
import { LocalApiServer } from './api-server.ts';
import { isRecordedAlive, killRecorded, removeOnExit } from './process.ts';
import { onInterrupt } from '../../process/interrupt.ts';
import { evaluate } from './evaluator.ts';
import { Istiod, PROBE_IDENTITY, type IstiodAddresses } from './istiod.ts';
import { markerMillis, markerOf, markerTimeout } from '../../k8s/marker.ts';

export interface ControlPlaneLaneOptions {
  /** pilot-discovery path; otherwise located (env, cache, PATH) or built when `build` is set. */
  binary?: string;
  /** Build what is missing (pilot-discovery, istioctl, etcd, kube-apiserver) instead of refusing. */
  build?: boolean;
  pin?: PilotDiscoveryPin;
  /** Keep the run dir (logs, kubeconfig, certificates) after teardown. */
  keepDir?: boolean;
  /** Processes outlive this Node process (exam labs); teardown still stops them. */
  detached?: boolean;
  /** Bound for each wait on istiod after a change. */
  applyTimeoutMs?: number;
  debounceAfter?: string;
  onProgress?: (line: string) => void;
  runId?: string;
}

/** How long the last apply waited for each stage, for the benchmark and for evidence. */
export interface ApplyTimings {
  /** Istio objects (only when the policy or meshConfig changed) and the scenario's objects applied. */
  applyMs: number;
  /** → every auto-allocation istiod owes the new ServiceEntries is written. */
  allocationMs: number;
  /** → istiod's store holds exactly these objects at this generation, with the API's status. */
  configMs: number;
  /** → the ServiceEntry registry lists exactly these hosts. */
  registryMs: number;
  /** Mesh ConfigMap written → a fresh ADS fetch carries its marker (full push done). */
  meshPushMs: number;
  totalMs: number;
  checks: number;
}

/** Timings of setup's stages, for the benchmark and the report. */
export interface SetupTimings {
  etcdMs: number;
  apiServerMs: number;
  istioInstallMs: number;
  workloadsMs: number;
  istiodMs: number;
}

/** What a detached stack leaves behind for a later command (exam labs): enough to talk to it and stop it. */
export interface LaneState {
  runId: string;
  runDir: string;
  kubeconfig: string;
  apiServer: string;
  istioVersion: string;
  goModuleVersion: string;
  istiod: { addresses: IstiodAddresses; logFile: string; binary: string; pid: number };
  processes: { name: string; pid: number; binary: string }[];
  generation: number;
  startedAt: string;
}

interface ConfigzItem {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; resourceVersion?: string };
  status?: { addresses?: unknown[] } | null;
}

interface RegistryzItem {
  hostname?: string;
  Attributes?: { Name?: string; Namespace?: string; ServiceRegistry?: string };
}

interface Applied {
  handle: ScenarioHandle;
  generation: number;
  /** ISTIO_META_* of the live mesh's defaultConfig.proxyMetadata, as pilot-agent would send them. */
  proxyMetadata: Record<string, string>;
}

interface ClientPod {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
}

/**
 * Where a hostname resolves: 203.0.113.x (TEST-NET-3), outside every ServiceEntry address a case would use,
 * stable per host so evidence is reproducible. IP literals are used as they are.
 */
export function externalAddressFor(host: string): string {
  let h = 0;
  for (const c of host) h = (h * 33 + c.charCodeAt(0)) >>> 0;
  return `203.0.113.${1 + (h % 254)}`;
}

/** A ServiceEntry the IP allocator must address, created after a scenario's own: see awaitAllocator. */
const SENTINEL_HOST = (gen: number) => `allocation-barrier-${gen}.egress-conformance.invalid`;

export class ControlPlaneLane implements Lane {
  lastApply?: ApplyTimings;
  setupTimings?: SetupTimings;
  readonly runId: string;
  private dir?: string;
  private api?: LocalApiServer;
  private k8s?: K8sOps;
  private istiod?: Istiod;
  private istioctl?: string;
  private generation = 0;
  private current?: Applied;
  /** Content hash of each Istio object as last applied, so a scenario re-applies only what changed. */
  private readonly appliedIstio = new Map<string, string>();
  private readonly clients = new Map<string, ClientPod>();
  private readonly snapshots = new Map<string, XdsSnapshot>();
  private readonly pin: PilotDiscoveryPin;
  private nextPodIp = 10;
  private releaseInterrupt?: () => void;
  private releaseDir?: () => void;
  private attached = false;

  constructor(private readonly opts: ControlPlaneLaneOptions = {}) {
    this.pin = opts.pin ?? PINNED_PILOT;
    this.runId = opts.runId ?? `cp-${randomBytes(4).toString('hex')}`;
  }

  get istiodProcess(): Istiod | undefined {
    return this.istiod;
  }

  get apiServer(): LocalApiServer | undefined {
    return this.api;
  }

  get runDir(): string | undefined {
    return this.dir;
  }

  private say(line: string): void {
    this.opts.onProgress?.(line);
  }

  async setup(): Promise<LaneInfo> {
    if (!this.istiod) {
      // Ctrl-C while the stack starts or runs: stop what this lane started and remove its run dir.
      if (!this.opts.detached) this.releaseInterrupt = onInterrupt(() => this.teardown());
      try {
        await this.start();
      } catch (err) {
        await this.teardown();
        throw err;
      }
    }
    return this.info();
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
        apiServer: this.api!.url,
        xds: i.addresses.grpc,
        runDir: this.dir!,
        istiodReadyAfterMs: String(i.readyAfterMs),
      },
    };
  }

  private async start(): Promise<void> {
    const build = !!this.opts.build;
    const binary = this.opts.binary ?? (await ensurePilotDiscovery({ build, onProgress: this.opts.onProgress, pin: this.pin })).path;
    this.istioctl =
      findIstioctlBuildSync(this.pin) ??
      (build ? await installPilotDiscovery({ program: 'istioctl', pin: this.pin, onProgress: this.opts.onProgress }) : undefined);
    if (!this.istioctl) {
      throw new EnvironmentError(
        `istioctl of the pinned Istio build ${this.pin.goModuleVersion} is not built; run \`egress-conformance tools install istioctl-build\` (needs Go)`,
      );
    }
    this.dir = await mkdtemp(join(tmpdir(), 'iec-cp-'));
    if (!this.opts.detached && !this.opts.keepDir) this.releaseDir = removeOnExit(this.dir);
    const t0 = performance.now();
    this.say('control-plane: starting etcd and kube-apiserver');
    this.api = await LocalApiServer.start({ dir: this.dir, build, detached: this.opts.detached, onProgress: this.opts.onProgress });
    this.k8s = new ClientNodeK8s(this.api.kubeconfigFile);
    const t1 = performance.now();
    this.say(`control-plane: API server ready (${Math.round(t1 - t0)} ms); installing Istio from fixtures/istio/ALLOW_ANY.yaml`);
    await this.installIstio('ALLOW_ANY', {}, 0, true);
    const t2 = performance.now();
    this.say('control-plane: starting istiod; creating the client namespaces and Pods meanwhile');
    const workloads = (async () => {
      await ensureNamespaces(this.k8s!, namespaceObjects([], { inject: false, runId: this.runId }), { serviceAccount: true });
      for (const ns of ['frontend', 'default', CONTROL_NAMESPACE]) await this.clientFor({ namespace: ns });
      return performance.now();
    })();
    const istiod = Istiod.start({
      binary,
      kubeconfig: this.api.kubeconfigFile,
      dir: join(this.dir, 'istiod'),
      istioVersion: this.pin.istioVersion,
      // istiod waits this long for more changes before a push (default 100ms). The lane makes one change
      // at a time and then waits for it, so a short quiet period only removes idle time; what is pushed
      // is the same (pilot/pkg/features PILOT_DEBOUNCE_AFTER).
      detached: this.opts.detached,
      debounceAfter: this.opts.debounceAfter ?? '10ms',
    });
    const [w, i] = await Promise.allSettled([workloads, istiod]);
    if (i.status === 'fulfilled') this.istiod = i.value;
    if (w.status === 'rejected') throw w.reason;
    if (i.status === 'rejected') throw i.reason;
    const t3 = w.value;
    const t4 = performance.now();
    this.setupTimings = {
      etcdMs: this.api.etcdReadyAfterMs,
      apiServerMs: this.api.readyAfterMs,
      istioInstallMs: t2 - t1,
      workloadsMs: t3 - t2,
      istiodMs: t4 - t2,
    };
    this.say(`control-plane: istiod ready (${Math.round(t4 - t2)} ms)`);
  }

  /**
   * Installs (or re-installs) Istio for a policy and a scenario's meshConfig: the rendered objects that
   * changed since the last install are applied, except ConfigMap istio, whose mesh is written last with the
   * generation marker (see marker.ts) so the lane can tell when istiod has pushed it.
   */
  private async installIstio(
    policy: PolicyMode,
    meshConfig: Record<string, unknown>,
    generation: number,
    initial = false,
  ): Promise<Record<string, unknown>> {
    const k8s = this.k8s!;
    const objects = await renderIstioOperator(this.istioctl!, istioOperatorFor(policy, meshConfig), join(this.dir!, 'istio'));
    const meshCm = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === MESH_CONFIGMAP && o.metadata.namespace === ISTIO_NAMESPACE,
    );
    if (!meshCm) throw new EnvironmentError(`istioctl manifest generate rendered no ConfigMap ${ISTIO_NAMESPACE}/${MESH_CONFIGMAP}`);
    const changed = objects.filter((o) => o !== meshCm && this.appliedIstio.get(keyOf(o)) !== shortHash(JSON.stringify(o)));
    if (changed.length > 0) {
      await applyIstioObjects(k8s, changed, { onProgress: initial ? this.opts.onProgress : undefined });
      for (const o of changed) this.appliedIstio.set(keyOf(o), shortHash(JSON.stringify(o)));
    }
    const { parse } = await import('yaml');
    const mesh = (parse(String((meshCm.data as Record<string, string>).mesh ?? '')) ?? {}) as Record<string, unknown>;
    mesh.connectTimeout = markerTimeout(generation);
    await writeMeshConfig(k8s, mesh);
    const back = await readMeshConfig(k8s);
    if (!back || modeOf(back) !== policy)
      throw new EnvironmentError(
        `ConfigMap ${ISTIO_NAMESPACE}/${MESH_CONFIGMAP} reads back outboundTrafficPolicy ${back ? modeOf(back) : '(missing)'}, not ${policy}`,
      );
    return back;
  }

  private requireStarted(): { k8s: K8sOps; istiod: Istiod } {
    if (!this.istiod || !this.k8s) throw new UserError('control-plane lane: setup() must run before scenarios are applied');
    return { k8s: this.k8s, istiod: this.istiod };
  }

  /** The client Pod of a probe source: created on first use, its IP and readiness written as a kubelet would. */
  private async clientFor(source: ProbeSource): Promise<ClientPod> {
    const k8s = this.k8s!;
    const spec = clientFor(source);
    const key = `${spec.namespace}/${spec.name}`;
    const known = this.clients.get(key);
    if (known) return known;
    await ensureNamespaces(
      k8s,
      namespaceObjects([spec.namespace], { inject: false, runId: this.runId }).filter((n) => n.metadata.name === spec.namespace),
      { serviceAccount: false },
    );
    // Also in namespaces the run does not own (istio-system): a Pod is refused until its ServiceAccount exists.
    await ensureDefaultServiceAccount(k8s, spec.namespace);
    const manifest = clientPodManifest(spec, { curl: PINNED.images.curl!, postgres: PINNED.images.postgres! }, this.runId);
    const existing = await k8s.get({ apiVersion: 'v1', kind: 'Pod', namespace: spec.namespace, name: spec.name });
    let ip = (existing?.status as { podIP?: string } | undefined)?.podIP;
    if (!existing) await k8s.create(manifest);
    if (!ip) {
      // Addresses not taken by any client Pod yet (a detached stack's earlier command made some).
      const taken = new Set(
        (await k8s.list('v1', 'Pod', undefined, 'egress-conformance.io/client=true')).map(
          (p) => (p.status as { podIP?: string } | undefined)?.podIP,
        ),
      );
      do {
        ip = `10.244.${Math.floor(this.nextPodIp / 250)}.${(this.nextPodIp % 250) + 2}`;
        this.nextPodIp++;
      } while (taken.has(ip));
      // istiod's pod cache only indexes Pods that have an IP and are Ready (serviceregistry/kube/controller/pod.go).
      const now = new Date().toISOString();
      await k8s.setPodStatus(spec.namespace, spec.name, {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: '127.0.0.1',
        startTime: now,
        conditions: ['Initialized', 'ContainersReady', 'PodScheduled', 'Ready'].map((type) => ({
          type,
          status: 'True',
          lastTransitionTime: now,
        })),
      });
    }
    const live = await k8s.get({ apiVersion: 'v1', kind: 'Pod', namespace: spec.namespace, name: spec.name });
    const pod: ClientPod = { namespace: spec.namespace, name: spec.name, ip, labels: { ...(live?.metadata.labels ?? {}) } };
    this.clients.set(key, pod);
    return pod;
  }

  async applyScenario(name: string, policy: PolicyMode, resources: ResourceSet): Promise<ScenarioHandle> {
    const { k8s, istiod } = this.requireStarted();
    const generation = ++this.generation;
    this.snapshots.clear();
    this.current = undefined;
    const timeout = this.opts.applyTimeoutMs ?? 20_000;
    const t0 = performance.now();
    const objects = scenarioObjects(resources, this.runId, generation);
    const namespaces = new Set(objects.map((o) => o.metadata.namespace!));
    await ensureNamespaces(
      k8s,
      namespaceObjects([...namespaces], { inject: false, runId: this.runId }).filter((n) => namespaces.has(n.metadata.name)),
      { serviceAccount: false },
    );
    const sentinel = this.sentinel(generation);
    await syncScenarioObjects(k8s, objects, this.runId);
    // Strictly after the scenario's entries: the barrier relies on the allocator's queue order.
    await k8s.apply(sentinel);
    const t1 = performance.now();
    let checks = await this.awaitAllocator(k8s, sentinel, timeout);
    const t2 = performance.now();
    checks += await this.awaitStore(k8s, istiod, [...objects, sentinel], generation, timeout);
    const t3 = performance.now();
    const wantHosts = new Set(resources.serviceEntries.flatMap((se) => se.hosts.map((h) => `${se.namespace}/${h}`)));
    wantHosts.add(`${ISTIO_NAMESPACE}/${SENTINEL_HOST(generation)}`);
    checks += await this.poll('ServiceEntry services in the registry', timeout, async () => {
      const items = await istiod.debug<RegistryzItem[]>('/debug/registryz');
      const have = new Set(
        items
          .filter((s) => s.Attributes?.ServiceRegistry === 'External')
          .map((s) => `${s.Attributes?.Namespace}/${s.hostname ?? s.Attributes?.Name}`),
      );
      return sameSet(have, wantHosts);
    });
    const t4 = performance.now();
    const mesh = await this.installIstio(policy, meshConfigOf(resources.mesh), generation);
    checks += await this.awaitMarker(istiod, generation, timeout);
    const t5 = performance.now();
    this.lastApply = {
      applyMs: t1 - t0,
      allocationMs: t2 - t1,
      configMs: t3 - t2,
      registryMs: t4 - t3,
      meshPushMs: t5 - t4,
      totalMs: t5 - t0,
      checks,
    };
    const handle: ScenarioHandle = { name, policy };
    this.current = { handle, generation, proxyMetadata: proxyMetadataOf(mesh) };
    return handle;
  }

  /**
   * Exported to no namespace (`~`), so no proxy sees it; DNS resolution and a non-wildcard host make it one
   * the IP allocator addresses (pilot/pkg/networking/serviceentry autoallocate ShouldV2AutoAllocateIP).
   */
  private sentinel(generation: number): K8sObject {
    return {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: {
        name: 'egress-conformance-allocation-barrier',
        namespace: ISTIO_NAMESPACE,
        labels: { [RUN_LABEL]: this.runId },
        annotations: { [GENERATION_ANNOTATION]: String(generation) },
      },
      spec: {
        hosts: [SENTINEL_HOST(generation)],
        ports: [{ number: 9, name: 'tcp', protocol: 'TCP' }],
        resolution: 'DNS',
        exportTo: ['~'],
      },
    };
  }

  /**
   * The allocator works through one queue in order (pilot/pkg/controllers/ipallocate), so once the barrier
   * entry, applied after the scenario's, carries its address for this generation's host, every entry
   * before it has been addressed (or left alone) too. No model of which entries get addresses is needed.
   */
  private async awaitAllocator(k8s: K8sOps, sentinel: K8sObject, timeout: number): Promise<number> {
    const host = (sentinel.spec as { hosts: string[] }).hosts[0];
    return this.poll('the IP allocator to reach the barrier entry', timeout, async () => {
      const live = await k8s.get({
        apiVersion: sentinel.apiVersion,
        kind: sentinel.kind,
        namespace: sentinel.metadata.namespace,
        name: sentinel.metadata.name,
      });
      const addrs = (live?.status as { addresses?: { host?: string }[] } | undefined)?.addresses ?? [];
      return addrs.some((a) => a.host === host);
    });
  }

  /** istiod's store holds exactly the run's objects at this generation, each with the status the API has. */
  private async awaitStore(
    k8s: K8sOps,
    istiod: Istiod,
    objects: K8sObject[],
    generation: number | undefined,
    timeout: number,
  ): Promise<number> {
    const want = new Map<string, string>();
    const versions = new Map<string, string>();
    for (const o of objects) {
      const live = await k8s.get({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
      versions.set(keyOf(o), String(live?.metadata.resourceVersion ?? ''));
      want.set(keyOf(o), canonicalJson((live?.status as { addresses?: unknown[] } | undefined)?.addresses ?? []));
    }
    return this.poll(
      generation === undefined ? "istiod's config store" : `istiod's config store at generation ${generation}`,
      timeout,
      async () => {
        const items = (await istiod.debug<ConfigzItem[]>('/debug/configz')).filter(
          (c) => c.kind === 'ServiceEntry' || c.kind === 'Sidecar',
        );
        if (items.length !== want.size) return false;
        return items.every((c) => {
          const k = `${c.kind}/${c.metadata.namespace ?? ''}/${c.metadata.name}`;
          const fresh =
            generation === undefined
              ? c.metadata.resourceVersion === versions.get(k)
              : c.metadata.annotations?.[GENERATION_ANNOTATION] === String(generation);
          return want.get(k) === canonicalJson(c.status?.addresses ?? []) && fresh;
        });
      },
    );
  }

  /** The mesh change forces a full push, whose push context is built from the store checked above. */
  private async awaitMarker(istiod: Istiod, generation: number, timeout: number): Promise<number> {
    return this.poll('mesh config pushed over ADS', timeout, async () => {
      const snap = await istiod.snapshot(PROBE_IDENTITY(this.pin.istioVersion), { timeoutMs: 5000 });
      return markerOf(snap.clusters.find((c) => c.name === 'PassthroughCluster')) === markerMillis(generation);
    });
  }

  private async poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
    let attempts = 0;
    const seen = await pollUntil(
      async () => {
        attempts++;
        return check().catch(() => false);
      },
      { timeoutMs, intervalMs: 10, maxIntervalMs: 200, factor: 1.5 },
    );
    if (!seen) {
      // istiod keeps the last good mesh when a new one does not validate; say so instead of just timing out.
      const rejected = (this.istiod?.log() ?? '')
        .split('\n')
        .filter((l) => l.includes('invalid mesh config') || l.includes('failed to read mesh'))
        .at(-1);
      throw new Error(
        `istiod did not reflect ${what} within ${timeoutMs} ms (${attempts} checks)` +
          `${rejected ? `; istiod rejected the mesh config: ${rejected.trim()}` : ''}; log: ${this.istiod?.logFile}`,
      );
    }
    return attempts;
  }

  private async identityFor(probe: Probe): Promise<SidecarIdentity> {
    const pod = await this.clientFor(probe.from);
    return {
      namespace: pod.namespace,
      ip: pod.ip,
      podName: pod.name,
      labels: pod.labels,
      istioVersion: this.pin.istioVersion,
      extraMetadata: this.current?.proxyMetadata,
    };
  }

  async diagnose(probe: Probe, dir: string): Promise<string[]> {
    const files: string[] = [];
    try {
      mkdirSync(dir, { recursive: true });
      const snap = this.snapshots.get(`${clientFor(probe.from).name}/${probe.from.namespace}`);
      if (snap) {
        writeFileSync(join(dir, `xds-${probe.from.namespace}.json`), JSON.stringify(snap, null, 1));
        files.push(`xds-${probe.from.namespace}.json`);
      }
      if (this.istiod) {
        copyFileSync(this.istiod.logFile, join(dir, 'istiod.log'));
        files.push('istiod.log');
      }
    } catch {
      /* best effort */
    }
    return files;
  }

  /** The xDS a probe's source sidecar received under the current scenario (fetched once per scenario). */
  async snapshotFor(probe: Probe): Promise<{ snapshot: XdsSnapshot; identity: SidecarIdentity; fresh: boolean }> {
    const { istiod } = this.requireStarted();
    const identity = await this.identityFor(probe);
    const key = `${clientFor(probe.from).name}/${probe.from.namespace}`;
    const cached = this.snapshots.get(key);
    if (cached) return { snapshot: cached, identity, fresh: false };
    // pilot-agent runs its DNS proxy, and asks for the name table, when ISTIO_META_DNS_CAPTURE parses as a
    // Go bool that is true (pkg/env bool variables use strconv.ParseBool; anything else is the default, off).
    const dnsProxy = GO_TRUE.has(identity.extraMetadata?.DNS_CAPTURE ?? '');
    const snapshot = await istiod.snapshot(identity, { nameTable: dnsProxy });
    this.snapshots.set(key, snapshot);
    return { snapshot, identity, fresh: true };
  }

  async observe(handle: ScenarioHandle, probe: Probe): Promise<Observation> {
    const { istiod } = this.requireStarted();
    const cur = this.current;
    if (!cur || cur.handle !== handle) {
      return { verdict: 'error', error: `scenario ${handle.name} is not the one currently applied`, evidence: {} };
    }
    let got;
    try {
      got = await this.snapshotFor(probe);
    } catch (err) {
      return { verdict: 'error', error: `ADS fetch failed: ${(err as Error).message}`, evidence: { istiodLog: istiod.logFile } };
    }
    const { snapshot: snap, identity, fresh } = got;
    const t = probe.to;
    let resolved: string;
    let resolvedBy: string;
    const fromNds = snap.nameTable?.[t.host]?.ips?.[0];
    if (t.isIp) {
      resolved = t.host;
      resolvedBy = 'ip-literal';
    } else if (fromNds) {
      // The sidecar's DNS proxy answers from the name table istiod sent (NDS), as it would in the pod.
      resolved = fromNds;
      resolvedBy = 'istio-dns-proxy (NDS)';
    } else {
      resolved = externalAddressFor(t.host);
      resolvedBy = 'external-dns (TEST-NET-3 stand-in)';
    }
    const obs = evaluate(snap, { scheme: t.scheme, host: t.host, port: t.port, isIp: t.isIp, path: t.path }, resolved);
    obs.evidence = {
      ...obs.evidence,
      resolvedBy,
      node: {
        pod: `${identity.namespace}/${identity.podName}`,
        ip: identity.ip,
        labels: identity.labels,
        metadata: identity.extraMetadata ?? {},
      },
      xdsVersions: snap.versions,
      generation: cur.generation,
      freshFetch: fresh,
      attempts: 1,
    };
    return obs;
  }

  async clearScenario(handle: ScenarioHandle): Promise<void> {
    const { k8s, istiod } = this.requireStarted();
    if (this.current && this.current.handle !== handle) return;
    const generation = ++this.generation;
    this.snapshots.clear();
    this.current = undefined;
    const timeout = this.opts.applyTimeoutMs ?? 20_000;
    await syncScenarioObjects(k8s, [], this.runId);
    await this.awaitStore(k8s, istiod, [], generation, timeout);
    await this.installIstio(handle.policy, {}, generation);
    await this.awaitMarker(istiod, generation, timeout);
  }

  async teardown(): Promise<void> {
    this.releaseInterrupt?.();
    this.releaseInterrupt = undefined;
    if (this.attached) {
      // Attached to a detached stack: leave it running; `stopRecorded` ends it.
      this.istiod = undefined;
      this.k8s = undefined;
      return;
    }
    const istiod = this.istiod;
    const api = this.api;
    this.istiod = undefined;
    this.api = undefined;
    this.k8s = undefined;
    this.current = undefined;
    this.snapshots.clear();
    this.clients.clear();
    this.appliedIstio.clear();
    // istiod first (it would log every failed watch), then the API server and etcd.
    await istiod?.stop();
    await api?.stop();
    if (this.dir && !this.opts.keepDir && process.env.EGRESS_KEEP_ISTIOD_DIR !== '1') rmSync(this.dir, { recursive: true, force: true });
    this.releaseDir?.();
    this.releaseDir = undefined;
  }

  // ------------------------------------------------------------------ a detached stack (exam labs)

  /** The running stack, for a state file; only meaningful after setup(). */
  state(): LaneState {
    const { istiod } = this.requireStarted();
    const api = this.api!;
    return {
      runId: this.runId,
      runDir: this.dir!,
      kubeconfig: api.kubeconfigFile,
      apiServer: api.url,
      istioVersion: this.pin.istioVersion,
      goModuleVersion: this.pin.goModuleVersion,
      istiod: { addresses: istiod.addresses, logFile: istiod.logFile, binary: istiod.opts.binary, pid: istiod.pid! },
      processes: [
        { name: 'pilot-discovery', pid: istiod.pid!, binary: istiod.opts.binary },
        { name: 'kube-apiserver', pid: api.apiserver.pid!, binary: api.apiserver.spec.binary },
        { name: 'etcd', pid: api.etcd.pid!, binary: api.etcd.spec.binary },
      ],
      generation: this.generation,
      startedAt: new Date().toISOString(),
    };
  }

  /** Whether every process of a recorded stack is still the one it started. */
  static isAlive(state: LaneState): boolean {
    return state.processes.every((p) => isRecordedAlive(p.pid, p.binary));
  }

  /** Ends a recorded stack (its own pids only) and removes its run dir. */
  static stopRecorded(state: LaneState): void {
    for (const p of state.processes) killRecorded(p.pid, p.binary);
    rmSync(state.runDir, { recursive: true, force: true });
  }

  /** A lane over a stack an earlier command started detached: it observes the live cluster as it is. */
  static attach(state: LaneState, opts: ControlPlaneLaneOptions = {}): ControlPlaneLane {
    const lane = new ControlPlaneLane({
      ...opts,
      runId: state.runId,
      pin: { ...(opts.pin ?? PINNED_PILOT), istioVersion: state.istioVersion, goModuleVersion: state.goModuleVersion },
    });
    lane.attached = true;
    lane.dir = state.runDir;
    lane.k8s = new ClientNodeK8s(state.kubeconfig);
    lane.istiod = Istiod.attach(
      { binary: state.istiod.binary, kubeconfig: state.kubeconfig, dir: join(state.runDir, 'istiod'), istioVersion: state.istioVersion },
      state.istiod.addresses,
      state.istiod.logFile,
    );
    // A later command must not reuse an earlier one's markers: start past them, by wall clock.
    lane.generation = Math.max(state.generation, Math.floor(Date.now() / 1000) % 40_000);
    return lane;
  }

  /**
   * Waits until istiod has pushed the cluster's current ServiceEntries, Sidecars and mesh config, however
   * they got there (kubectl, an IstioOperator install): the same barrier as applyScenario, over every
   * object in the cluster rather than this run's. Returns the live mesh config.
   */
  async syncLive(): Promise<Record<string, unknown>> {
    const { k8s, istiod } = this.requireStarted();
    const generation = ++this.generation;
    const timeout = this.opts.applyTimeoutMs ?? 20_000;
    this.snapshots.clear();
    const sentinel = this.sentinel(generation);
    await k8s.apply(sentinel);
    await this.awaitAllocator(k8s, sentinel, timeout);
    const objects = [
      ...(await k8s.list('networking.istio.io/v1', 'ServiceEntry')),
      ...(await k8s.list('networking.istio.io/v1', 'Sidecar')),
    ];
    await this.awaitStore(k8s, istiod, objects, undefined, timeout);
    const mesh = (await readMeshConfig(k8s)) ?? {};
    await writeMeshConfig(k8s, { ...mesh, connectTimeout: markerTimeout(generation) });
    await this.awaitMarker(istiod, generation, timeout);
    const handle: ScenarioHandle = { name: 'live', policy: modeOf(mesh) === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY' };
    this.current = { handle, generation, proxyMetadata: proxyMetadataOf(mesh) };
    return mesh;
  }

  /** Observes a probe against the live cluster, after syncLive(). */
  async observeLive(probe: Probe): Promise<Observation> {
    if (!this.current) await this.syncLive();
    return this.observe(this.current!.handle, probe);
  }
}

/** ISTIO_META_<NAME> entries of defaultConfig.proxyMetadata become node metadata <NAME>, verbatim as strings. */
export function proxyMetadataOf(mesh: Record<string, unknown>): Record<string, string> {
  const pm = (mesh.defaultConfig as { proxyMetadata?: Record<string, unknown> } | undefined)?.proxyMetadata ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pm)) if (k.startsWith('ISTIO_META_')) out[k.slice('ISTIO_META_'.length)] = String(v);
  return out;
}

/** JSON with object keys sorted: the API server and istiod's debug dump order fields differently. */
function canonicalJson(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sort)
      : x && typeof x === 'object'
        ? Object.fromEntries(
            Object.entries(x)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, y]) => [k, sort(y)]),
          )
        : x;
  return JSON.stringify(sort(v));
}

/** The spellings strconv.ParseBool reads as true. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
