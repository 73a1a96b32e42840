// The sync barrier: a probe runs only once every client sidecar has the config that carries the scenario.
// No sleep: three bounded waits on what istiod and Envoy themselves report.
// 1. istiod's config store holds exactly this run's ServiceEntries and Sidecars at this generation
//    (`pilot-discovery request GET /debug/configz` in the istiod container; configz in pilot/pkg/xds/debug.go).
// 2. The generation goes into the mesh config as `connectTimeout` (10 s + generation ms): istiod watches
//    ConfigMap istio-system/istio (kubemesh.NewConfigMapSource, pilot/pkg/bootstrap/mesh.go) and a mesh
//    change is a full push built from the store of step 1. Every sidecar's PassthroughCluster copies the
//    mesh connect timeout (buildDefaultPassthroughCluster, pilot/pkg/networking/core/cluster_builder.go;
//    the cluster exists in every sidecar, cluster.go), so it shows which mesh generation Envoy applied.
//    The control-plane lane uses the same marker over ADS.
// 3. Per client sidecar: Envoy's active PassthroughCluster carries the marker
//    (`pilot-agent request GET config_dump?...` in istio-proxy), and istiod's /debug/syncz shows every
//    type it sent to that proxy ACKed (sent nonce = acked nonce), so listeners and routes of the same push
//    are in too. A proxy that does not get there within the bound is named in the error.
import { readMeshConfig, writeMeshConfig } from '../../../k8s/istio.ts';
import { markerMillis, markerTimeout } from '../../../k8s/marker.ts';

export { markerMillis, markerTimeout };
import { GENERATION_ANNOTATION, RUN_LABEL } from '../../../k8s/manifests.ts';
import { StepError } from '../../../model/errors.ts';
import type { RunContext } from '../context.ts';
import type { K8sObject, Runner, RunnerK8s } from '../runner.ts';
import { runsRouter } from './gateway-routes.ts';
import { clientKey, type ClientSpec } from './workloads.ts';

/** A protobuf JSON Duration ("10.005s", "10s") in ms. */
export function durationMillis(d: string): number | undefined {
  const m = /^(\d+)(?:\.(\d{1,9}))?s$/.exec(d);
  if (!m) return undefined;
  return Number(m[1]) * 1000 + Math.round(Number(`0.${m[2] ?? '0'}`) * 1000);
}

/** PassthroughCluster's connect_timeout in an Envoy config_dump (whole, or filtered to dynamic clusters). */
export function passthroughTimeout(configDump: string): string | undefined {
  return clusterTimeout(configDump, 'PassthroughCluster');
}

/**
 * A named cluster's connect_timeout in an Envoy config_dump. A gateway has no PassthroughCluster, but its
 * BlackHoleCluster (and every cluster no DestinationRule sets a timeout for) copies the mesh connect
 * timeout too (seen on the pinned istiod: a router's CDS after a connectTimeout change).
 */
export function clusterTimeout(configDump: string, cluster: string): string | undefined {
  let found: string | undefined;
  const walk = (v: unknown): void => {
    if (found !== undefined || typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) {
      v.forEach(walk);
      return;
    }
    const o = v as Record<string, unknown>;
    if (o.name === cluster && typeof o.connect_timeout === 'string') {
      found = o.connect_timeout;
      return;
    }
    Object.values(o).forEach(walk);
  };
  walk(JSON.parse(configDump));
  return found;
}

export interface ConfigzItem {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** Every kind a scenario writes (manifests.ts scenarioObjects): the run's objects of each must be exactly the scenario's. */
const ROUTING_KINDS = new Set(['Gateway', 'VirtualService', 'DestinationRule']);
const SCENARIO_KINDS = new Set(['ServiceEntry', 'Sidecar', ...ROUTING_KINDS]);

/** What istiod's store still lacks (or holds too much of) for this run's scenario at this generation; [] when it matches. */
export function configzMismatch(configz: string, runId: string, objects: K8sObject[], generation: number): string[] {
  const items = (JSON.parse(configz) ?? []) as ConfigzItem[];
  // Routing objects too: a scenario's VirtualService read as missing (it was once filtered out here) would
  // hold every gateway scenario at the barrier, and one left over from the last scenario would go unseen.
  const ours = items.filter((c) => SCENARIO_KINDS.has(c.kind) && c.metadata.labels?.[RUN_LABEL] === runId);
  const key = (kind: string, ns: string | undefined, name: string) => `${kind} ${ns}/${name}`;
  const have = new Map(
    ours.map((c) => [key(c.kind, c.metadata.namespace, c.metadata.name), c.metadata.annotations?.[GENERATION_ANNOTATION]]),
  );
  const out: string[] = [];
  for (const o of objects) {
    const k = key(o.kind, o.metadata.namespace, o.metadata.name);
    const g = have.get(k);
    if (g === undefined) out.push(`${k} missing`);
    else if (g !== String(generation)) out.push(`${k} at generation ${g}`);
    have.delete(k);
  }
  for (const k of have.keys()) out.push(`${k} still present`);
  return out;
}

export interface SyncStatus {
  proxy?: string;
  [field: string]: unknown;
}

/**
 * The sidecar's entry in istiod's /debug/syncz. Its `proxy` is the proxy's ID, `POD.NAMESPACE` (model.Proxy.ID,
 * from the node id `sidecar~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local`; seen on the pinned istiod); the full
 * node id is accepted too.
 */
export function syncFor(syncz: string, client: ClientSpec): SyncStatus | undefined {
  const items = (JSON.parse(syncz) ?? []) as SyncStatus[];
  const id = `${client.name}.${client.namespace}`;
  return items.find((s) => s.proxy === id || (s.proxy ?? '').includes(`~${id}~`));
}

/** Types istiod sent and the proxy has not ACKed yet; [] when in sync. */
export function unacked(s: SyncStatus): string[] {
  return ['cluster', 'listener', 'route', 'endpoint'].filter((t) => (s[`${t}_sent`] ?? '') !== (s[`${t}_acked`] ?? ''));
}

async function istiodPods(k: RunnerK8s): Promise<string[]> {
  return (await k.listPods('istio-system', 'app=istiod')).map((p) => p.metadata.name);
}

async function istiodDebug(k: RunnerK8s, ctx: RunContext, pod: string, path: string): Promise<string> {
  const res = await k.exec('istio-system', pod, 'discovery', ['pilot-discovery', 'request', 'GET', path], ctx.timeouts.probeExec);
  if (res.exitCode !== 0)
    throw new StepError(`pilot-discovery request GET ${path} in istio-system/${pod} exited ${res.exitCode}: ${res.stderr.trim()}`);
  return res.stdout;
}

export interface ProxySync {
  passthroughConnectTimeout: string;
  syncz?: SyncStatus;
}

export interface SyncEvidence {
  generation: number;
  marker: string;
  proxies: Record<string, ProxySync>;
}

/**
 * Writes the generation marker into the mesh config (ConfigMap istio-system/istio), keeping the rest of it.
 * `installed`: the meshConfig the IstioOperator set, what the dry run takes the ConfigMap to hold.
 */
export async function markGeneration(r: Runner, generation: number, installed: Record<string, unknown> = {}): Promise<void> {
  const mesh = await r.read(
    'ConfigMap istio-system/istio key mesh (to set the generation marker)',
    async (k) => {
      const m = await readMeshConfig(k);
      if (!m) throw new StepError('ConfigMap istio-system/istio has no `mesh` key');
      return m;
    },
    installed,
    'the meshConfig of the IstioOperator installed',
  );
  await writeMeshConfig(r.kube, { ...mesh, connectTimeout: markerTimeout(generation) });
}

export interface BarrierOptions {
  generation: number;
  objects: K8sObject[];
  clients: ClientSpec[];
  /** The meshConfig of the IstioOperator installed (what the dry run shows the marker added to). */
  meshConfig?: Record<string, unknown>;
}

export async function syncBarrier(r: Runner, ctx: RunContext, opts: BarrierOptions): Promise<SyncEvidence> {
  const { generation, objects, clients } = opts;
  const marker = markerTimeout(generation);
  const evidence: SyncEvidence = { generation, marker, proxies: {} };
  return r.step(`sync: every client sidecar ACKs generation ${generation} (PassthroughCluster connect_timeout ${marker})`, async () => {
    let storeState = '';
    await r.waitFor(
      `istiod's config store holds exactly this run's ${objects.length} Istio object(s) at generation ${generation} (/debug/configz)`,
      ctx.timeouts.sync,
      async (k) => {
        const pods = await istiodPods(k);
        if (pods.length === 0) return void (storeState = 'no istiod pod');
        const problems: string[] = [];
        for (const pod of pods)
          problems.push(
            ...configzMismatch(await istiodDebug(k, ctx, pod, '/debug/configz'), ctx.runId, objects, generation).map((p) => `${pod}: ${p}`),
          );
        storeState = problems.join('; ');
        return problems.length === 0 ? true : undefined;
      },
      { assumed: true, state: () => storeState },
    );

    await markGeneration(r, generation, opts.meshConfig);

    const proxies: MarkedProxy[] = clients.map((c) => ({ ...c, what: 'sidecar', cluster: 'PassthroughCluster' }));
    // A scenario with routing (Gateway, VirtualService, DestinationRule) may send calls through a gateway,
    // whose config must carry it too; its Pods are the install's, found when the barrier runs.
    if (objects.some((o) => ROUTING_KINDS.has(o.kind)))
      for (const g of await r.read(
        'the gateway Pods (istio-proxy runs `proxy router`)',
        async (k) => gatewayPodRefs(k),
        [{ namespace: 'istio-system', name: 'ISTIO-EGRESSGATEWAY-POD' }],
        "the install's istio-egressgateway Pod",
      ))
        proxies.push({ ...g, labels: {}, what: 'gateway', cluster: 'BlackHoleCluster' });
    for (const p of proxies) evidence.proxies[clientKey(p)] = await waitMarker(r, ctx, p, generation);
    return evidence;
  });
}

/** A proxy whose config the barrier waits for, and the cluster that carries the mesh marker in it. */
type MarkedProxy = ClientSpec & { what: 'sidecar' | 'gateway'; cluster: 'PassthroughCluster' | 'BlackHoleCluster' };

async function gatewayPodRefs(k: RunnerK8s): Promise<{ namespace: string; name: string }[]> {
  return (await k.list('v1', 'Pod'))
    .filter(runsRouter)
    .map((p) => ({ namespace: p.metadata.namespace ?? 'istio-system', name: p.metadata.name }));
}

const whose = (c: MarkedProxy) => (c.what === 'sidecar' ? `sidecar of ${clientKey(c)}` : `gateway ${clientKey(c)}`);

/** Waits until the proxy's Envoy has the marker and istiod sees every type it sent ACKed. */
async function waitMarker(r: Runner, ctx: RunContext, c: MarkedProxy, generation: number): Promise<ProxySync> {
  const marker = markerTimeout(generation);
  const want = markerMillis(generation);
  let state = 'not asked yet';
  return r
    .waitFor<ProxySync>(
      `${whose(c)} has generation ${generation}: ${c.cluster} connect_timeout ${marker}, and istiod sees every type ACKed (/debug/syncz)`,
      ctx.timeouts.sync,
      async (k) => {
        const dump = await k.exec(
          c.namespace,
          c.name,
          'istio-proxy',
          ['pilot-agent', 'request', 'GET', `config_dump?resource=dynamic_active_clusters&name_regex=${c.cluster}`],
          ctx.timeouts.probeExec,
        );
        if (dump.exitCode !== 0) return void (state = `config_dump failed (exit ${dump.exitCode}): ${dump.stderr.trim()}`);
        const timeout = clusterTimeout(dump.stdout, c.cluster);
        const ms = timeout === undefined ? undefined : durationMillis(timeout);
        if (ms !== want)
          return void (state = `its ${c.cluster} connect_timeout is ${timeout ?? 'absent'}${ms !== undefined && ms >= 10_000 ? ` (generation ${ms - 10_000})` : ''}, not ${marker}`);
        for (const pod of await istiodPods(k)) {
          const s = syncFor(await istiodDebug(k, ctx, pod, '/debug/syncz'), c);
          if (!s) continue;
          const pending = unacked(s);
          if (pending.length) return void (state = `marker applied, but istiod (${pod}) still waits for its ACK of ${pending.join(', ')}`);
          return { passthroughConnectTimeout: timeout!, syncz: s };
        }
        state = `marker applied, but no istiod lists the proxy in /debug/syncz`;
        return undefined;
      },
      { assumed: { passthroughConnectTimeout: marker }, state: () => state },
    )
    .catch((err: Error) => {
      if (!(err instanceof StepError) || !err.message.startsWith('timed out')) throw err;
      throw new StepError(
        `sync barrier: the ${whose(c)} did not get generation ${generation} within ${Math.round(ctx.timeouts.sync / 1000)} s: ${state}`,
      );
    });
}
