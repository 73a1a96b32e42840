// The control-plane lane: the real istiod on loopback, a sidecar's xDS fetched over ADS, and an
// evaluator that says which cluster a probe would land in. No Docker, no cluster, no traffic.
import pRetry from 'p-retry';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../model/errors.ts';
import type { Observation, PolicyMode, Probe, ResourceSet } from '../../model/types.ts';
import { ensurePilotDiscovery, PINNED_PILOT, type PilotDiscoveryPin } from '../../tools/pilot-discovery.ts';
import type { Lane, LaneInfo, ScenarioHandle } from '../lane.ts';
import type { SidecarIdentity, XdsSnapshot } from './ads-client.ts';
import { evaluate } from './evaluator.ts';
import { Istiod, PROBE_IDENTITY, toIstioYaml } from './istiod.ts';
import { GENERATION_ANNOTATION, manifestFor, markerMillis, markerOf, meshConfigFor } from './manifests.ts';

export interface ControlPlaneLaneOptions {
  /** pilot-discovery path; otherwise located (env, cache, PATH) or built when `build` is set. */
  binary?: string;
  build?: boolean;
  pin?: PilotDiscoveryPin;
  keepDir?: boolean;
  /** Bound for a rewritten config to show up in a fresh ADS fetch. */
  applyTimeoutMs?: number;
  debounceAfter?: string;
  onProgress?: (line: string) => void;
}

interface AppliedScenario {
  handle: ScenarioHandle;
  generation: number;
  resources: ResourceSet;
}

interface ConfigzItem {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}

interface RegistryzItem {
  hostname?: string;
  Attributes?: { Name?: string; Namespace?: string; ServiceRegistry?: string };
}

/** The fixed pod IP sent as metadata for a source namespace (nothing is ever sent to it). */
export function podIpFor(namespace: string): string {
  let h = 0;
  for (const c of namespace) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `10.244.${1 + (h % 200)}.10`;
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

/** How long the last apply waited for each stage, for the benchmark and for evidence. */
export interface ApplyTimings {
  /** Config dir written → istiod's store holds exactly these objects. */
  configMs: number;
  /** → the ServiceEntry registry lists exactly these hosts. */
  registryMs: number;
  /** Mesh file written → a fresh ADS fetch carries its marker (full push done). */
  meshPushMs: number;
  totalMs: number;
  checks: number;
}

export class ControlPlaneLane implements Lane {
  lastApply?: ApplyTimings;
  private istiod?: Istiod;
  private generation = 0;
  private current?: AppliedScenario;
  private readonly snapshots = new Map<string, XdsSnapshot>();
  private readonly pin: PilotDiscoveryPin;

  constructor(private readonly opts: ControlPlaneLaneOptions = {}) {
    this.pin = opts.pin ?? PINNED_PILOT;
  }

  get istiodProcess(): Istiod | undefined {
    return this.istiod;
  }

  async setup(): Promise<LaneInfo> {
    if (!this.istiod) await this.startIstiod();
    const i = this.istiod!;
    return {
      lane: 'control-plane',
      istioVersion: this.pin.istioVersion,
      details: {
        binary: i.opts.binary,
        goModuleVersion: this.pin.goModuleVersion,
        commit: this.pin.commit,
        xds: i.addresses.grpc,
        istiodLog: i.logFile,
        readyAfterMs: String(i.readyAfterMs),
      },
    };
  }

  private async startIstiod(): Promise<void> {
    const binary = this.opts.binary ?? (await ensurePilotDiscovery({ build: !!this.opts.build, onProgress: this.opts.onProgress, pin: this.pin })).path;
    this.istiod = await Istiod.start({
      binary,
      istioVersion: this.pin.istioVersion,
      namespaces: ['istio-system', 'default', 'frontend'],
      keepDir: this.opts.keepDir,
      debounceAfter: this.opts.debounceAfter,
      mesh: meshConfigFor('ALLOW_ANY', {}, 0),
    });
  }

  /**
   * istiod's IP auto-allocation controller is built after it wins leader election, and its ServiceEntry
   * informer is only started if that happens before istiod starts its informer factory; when the election
   * is won later (seen here under CPU load), istiod logs "waiting for sync... IP Autoallocator" forever and
   * never allocates. That start-order race is istiod's; the lane answers it by starting a fresh istiod.
   */
  private allocatorStuck(): boolean {
    return /waiting for sync\.\.\.\s+name=IP Autoallocator/.test(this.istiod?.log() ?? '');
  }

  private requireIstiod(): Istiod {
    if (!this.istiod) throw new UserError('control-plane lane: setup() must run before scenarios are applied');
    return this.istiod;
  }

  async applyScenario(name: string, policy: PolicyMode, resources: ResourceSet, restarts = 0): Promise<ScenarioHandle> {
    const istiod = this.requireIstiod();
    const generation = ++this.generation;
    this.snapshots.clear();
    this.current = undefined;
    const namespaces = new Set<string>([...resources.serviceEntries, ...resources.sidecars].map((r) => r.namespace));
    if (resources.mesh.rootNamespace) namespaces.add(resources.mesh.rootNamespace);
    for (const ns of namespaces) istiod.kube.ensureNamespace(ns);

    const docs = [...resources.serviceEntries, ...resources.sidecars].map((r) => manifestFor(r, generation));
    if (resources.mesh.dnsCapture) {
      try {
        await this.allocateAddresses(istiod, docs);
      } catch (err) {
        if (restarts >= 2 || !this.allocatorStuck()) throw err;
        this.opts.onProgress?.('istiod: IP auto-allocation controller never synced (istiod start-order race); starting a fresh istiod');
        await istiod.stop();
        this.istiod = undefined;
        await this.startIstiod();
        return this.applyScenario(name, policy, resources, restarts + 1);
      }
    }
    await this.writeAndWait(istiod, docs, meshConfigFor(policy, resources.mesh, generation), generation, resources);
    const handle: ScenarioHandle = { name, policy };
    this.current = { handle, generation, resources };
    return handle;
  }

  /**
   * Writes config then mesh, and returns once a fresh ADS fetch proves istiod pushed both:
   * 1. config dir → poll /debug/configz until exactly our objects at this generation are in the store;
   * 2. poll /debug/registryz until the ServiceEntry hosts (and only those) are services;
   * 3. mesh file with the generation marker → poll a fresh ADS fetch until PassthroughCluster carries it.
   *    The mesh change forces a full push whose push context is built from the store seen in 1–2.
   */
  private async writeAndWait(istiod: Istiod, docs: Record<string, unknown>[], mesh: Record<string, unknown>, generation: number, resources: ResourceSet): Promise<void> {
    const timeout = this.opts.applyTimeoutMs ?? 20_000;
    const t0 = performance.now();
    const files: Record<string, string> = {};
    if (docs.length > 0) files['scenario.yaml'] = docs.map((d) => toIstioYaml(d)).join('---\n');
    istiod.writeConfigFiles(files);
    const want = new Set(docs.map((d) => keyOf(d.kind as string, (d.metadata as any).namespace, (d.metadata as any).name)));
    let checks = await this.poll(`config files at generation ${generation}`, timeout, async () => {
      const items = await istiod.debug<ConfigzItem[]>('/debug/configz');
      const ours = items.filter((c) => c.kind === 'ServiceEntry' || c.kind === 'Sidecar');
      const fresh = ours.every((c) => c.metadata.annotations?.[GENERATION_ANNOTATION] === String(generation));
      const have = new Set(ours.map((c) => keyOf(c.kind, c.metadata.namespace, c.metadata.name)));
      return fresh && sameSet(have, want);
    });
    const t1 = performance.now();
    const wantHosts = new Set(resources.serviceEntries.flatMap((se) => se.hosts.map((h) => `${se.namespace}/${h}`)));
    checks += await this.poll('ServiceEntry services in the registry', timeout, async () => {
      const items = await istiod.debug<RegistryzItem[]>('/debug/registryz');
      const have = new Set(items
        .filter((s) => s.Attributes?.ServiceRegistry === 'External')
        .map((s) => `${s.Attributes?.Namespace}/${s.hostname ?? s.Attributes?.Name}`));
      return sameSet(have, wantHosts);
    });
    const t2 = performance.now();
    istiod.writeMesh(mesh);
    checks += await this.poll('mesh config pushed over ADS', timeout, async () => {
      const snap = await istiod.snapshot(PROBE_IDENTITY(this.pin.istioVersion), { timeoutMs: 5000 });
      return markerOf(snap.clusters.find((c) => c.name === 'PassthroughCluster')) === markerMillis(generation);
    });
    const t3 = performance.now();
    this.lastApply = { configMs: t1 - t0, registryMs: t2 - t1, meshPushMs: t3 - t2, totalMs: t3 - t0, checks };
  }

  /**
   * DNS capture: istiod assigns ServiceEntry addresses (240.240.0.0/16) with its IP autoallocate controller,
   * which patches `status.addresses` of ServiceEntries in the Kubernetes API; the ServiceEntry registry then
   * reads them back from the config's status (pilot/pkg/serviceregistry/serviceentry/conversion.go) and
   * sidecars learn them through NDS. With file config there is no API object to patch, so the lane mirrors
   * the ServiceEntries into the loopback API, lets the real allocator run, and writes the status it produced
   * into the config files. Which entries get addresses follows ShouldV2AutoAllocateIP
   * (pilot/pkg/networking/serviceentry/ip_autoallocation.go): resolution not NONE, no spec.addresses, no
   * opt-out label; wildcard hosts get none.
   */
  private async allocateAddresses(istiod: Istiod, docs: Record<string, any>[]): Promise<void> {
    const GV = 'apis/networking.istio.io/v1';
    const ses = docs.filter((d) => d.kind === 'ServiceEntry');
    const keep = new Set(ses.map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
    for (const old of istiod.kube.listAll(GV, 'serviceentries')) {
      if (!keep.has(`${old.metadata.namespace}/${old.metadata.name}`)) istiod.kube.remove(GV, 'serviceentries', old.metadata.namespace, old.metadata.name);
    }
    for (const d of ses) istiod.kube.upsert(GV, 'serviceentries', d.metadata.namespace, d);
    const expected = (d: Record<string, any>): string[] => {
      const spec = d.spec ?? {};
      const optOut = String(d.metadata?.labels?.['networking.istio.io/enable-autoallocate-ip'] ?? '').toLowerCase() === 'false';
      if (spec.resolution === 'NONE' || (spec.resolution ?? 'NONE') === 'NONE' || optOut || (spec.addresses ?? []).length > 0) return [];
      return (spec.hosts ?? []).filter((h: string) => !h.startsWith('*'));
    };
    await this.poll('auto-allocated ServiceEntry addresses', this.opts.applyTimeoutMs ?? 20_000, async () => ses.every((d) => {
      const got = istiod.kube.get(GV, 'serviceentries', d.metadata.namespace, d.metadata.name)?.status?.addresses ?? [];
      return expected(d).every((h) => got.some((a: { host?: string }) => a.host === h));
    }));
    for (const d of ses) {
      const status = istiod.kube.get(GV, 'serviceentries', d.metadata.namespace, d.metadata.name)?.status;
      if (status?.addresses?.length) d.status = { addresses: status.addresses };
    }
  }

  private async poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
    let attempts = 0;
    try {
      await pRetry(async () => {
        attempts++;
        if (!(await check())) throw new Error(`not yet: ${what}`);
      }, { retries: 10_000, minTimeout: 20, maxTimeout: 250, factor: 1.5, maxRetryTime: timeoutMs });
    } catch (err) {
      // istiod keeps the last good mesh when a new one does not validate; say so instead of just timing out.
      const rejected = (this.istiod?.log() ?? '').split('\n').filter((l) => l.includes('invalid mesh config')).at(-1);
      throw new Error(`istiod did not reflect ${what} within ${timeoutMs} ms (${attempts} checks)` +
        `${rejected ? `; istiod rejected the mesh config: ${rejected.trim()}` : ''}; log: ${this.istiod?.logFile}`);
    }
    return attempts;
  }

  async diagnose(probe: Probe, dir: string): Promise<string[]> {
    const files: string[] = [];
    try {
      mkdirSync(dir, { recursive: true });
      const dnsCapture = !!this.current?.resources.mesh.dnsCapture;
      const identity = this.identityFor(probe, dnsCapture);
      const key = `${identity.namespace}|${JSON.stringify(Object.entries(identity.labels).sort())}|${dnsCapture}`;
      const snap = this.snapshots.get(key);
      if (snap) {
        writeFileSync(join(dir, `xds-${identity.namespace}.json`), JSON.stringify(snap, null, 1));
        files.push(`xds-${identity.namespace}.json`);
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

  private identityFor(probe: Probe, dnsCapture: boolean): SidecarIdentity {
    const ns = probe.from.namespace;
    return {
      namespace: ns,
      ip: podIpFor(ns),
      podName: `egress-client-${ns}`,
      labels: probe.from.labels ?? {},
      istioVersion: this.pin.istioVersion,
      // pilot-agent turns ISTIO_META_* env (from proxyMetadata) into node metadata.
      extraMetadata: dnsCapture ? { DNS_CAPTURE: 'true' } : undefined,
    };
  }

  async observe(handle: ScenarioHandle, probe: Probe): Promise<Observation> {
    const istiod = this.requireIstiod();
    const cur = this.current;
    if (!cur || cur.handle !== handle) {
      return { verdict: 'error', error: `scenario ${handle.name} is not the one currently applied`, evidence: {} };
    }
    istiod.kube.ensureNamespace(probe.from.namespace);
    const dnsCapture = !!cur.resources.mesh.dnsCapture;
    const identity = this.identityFor(probe, dnsCapture);
    const key = `${identity.namespace}|${JSON.stringify(Object.entries(identity.labels).sort())}|${dnsCapture}`;
    let snap = this.snapshots.get(key);
    let fetched = false;
    if (!snap) {
      try {
        snap = await istiod.snapshot(identity, { nameTable: dnsCapture });
      } catch (err) {
        return { verdict: 'error', error: `ADS fetch failed: ${(err as Error).message}`, evidence: { istiodLog: istiod.logFile } };
      }
      this.snapshots.set(key, snap);
      fetched = true;
    }
    const t = probe.to;
    let resolved: string;
    let resolvedBy: string;
    if (t.isIp) {
      resolved = t.host;
      resolvedBy = 'ip-literal';
    } else if (dnsCapture && snap.nameTable?.[t.host]?.ips?.[0]) {
      resolved = snap.nameTable[t.host].ips[0];
      resolvedBy = 'istio-dns-proxy (NDS)';
    } else {
      resolved = externalAddressFor(t.host);
      resolvedBy = 'external-dns (TEST-NET-3 stand-in)';
    }
    const obs = evaluate(snap, { scheme: t.scheme, host: t.host, port: t.port, isIp: t.isIp, path: t.path }, resolved);
    obs.evidence = {
      ...obs.evidence,
      resolvedBy,
      node: { namespace: identity.namespace, labels: identity.labels, dnsCapture },
      xdsVersions: snap.versions,
      generation: cur.generation,
      freshFetch: fetched,
      attempts: 1,
    };
    return obs;
  }

  async clearScenario(handle: ScenarioHandle): Promise<void> {
    const istiod = this.requireIstiod();
    if (this.current && this.current.handle !== handle) return;
    const generation = ++this.generation;
    this.snapshots.clear();
    this.current = undefined;
    await this.writeAndWait(istiod, [], meshConfigFor(handle.policy, {}, generation), generation,
      { mesh: { meshConfig: {} }, serviceEntries: [], sidecars: [] });
  }

  async teardown(): Promise<void> {
    const i = this.istiod;
    this.istiod = undefined;
    this.current = undefined;
    this.snapshots.clear();
    if (i) await i.stop();
  }
}

function keyOf(kind: string, ns: string | undefined, name: string): string {
  return `${kind}/${ns ?? ''}/${name}`;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
