// The hops past the sidecar: when the sidecar's chosen cluster is a Kubernetes Service whose Pods run a
// gateway proxy, a second ADS client connects as that gateway (node type `router`, the Pod's name, IP,
// namespace and labels) and the call is followed into the gateway's listener, route and cluster, with what
// the sidecar originated (TLS, SNI) carried over. A call that leaves directly while a gateway has a route
// for its host is marked as bypassing that gateway.
//
// Node identity: pilot/pkg/model/context.go ParseServiceNodeWithMetadata (`router~IP~POD.NS~NS.svc...`);
// istiod selects a Gateway's servers for the proxy by its labels (pilot/pkg/model/gateway.go MergeGateways)
// and binds each server port to the Service's targetPort when the Pod is behind that Service
// (resolvePorts, same file): the port a connection to the Service arrives on.
import type { K8sOps } from '../../k8s/client.ts';
import { pollUntil } from '../../process/poll.ts';
import type { BlockSignal, Hop, Observation, Probe } from '../../model/types.ts';
import type { SidecarIdentity } from './proxy-node.ts';
import type { XdsSnapshot } from './xds-types.ts';
import { serverNameRank } from './filter-chain.ts';
import { hostHeader } from '../../probes/url.ts';
import { selectVirtualHost } from './route-match.ts';
import { type GatewayPod, gatewayPods, runsRouter } from './gateway-pod.ts';
import { arrivalAfter, clusterTls, evaluateArrival, hopOf, parseClusterName } from './hop-eval.ts';

export interface SnapshotSource {
  snapshot(identity: SidecarIdentity, opts?: { timeoutMs?: number }): Promise<XdsSnapshot>;
}

interface ServiceLike {
  spec?: { selector?: Record<string, string>; ports?: { port: number; targetPort?: number | string; name?: string }[] };
}

const SVC_SUFFIX = '.svc.cluster.local';

export class GatewayHop {
  private readonly snapshots = new Map<string, XdsSnapshot>();
  private pods?: GatewayPod[];

  constructor(
    private readonly k8s: K8sOps,
    private readonly istiod: SnapshotSource,
    private readonly istioVersion: string,
  ) {}

  /** Forget fetched gateway snapshots and Pods (the scenario changed). */
  reset(): void {
    this.snapshots.clear();
    this.pods = undefined;
  }

  private async gateways(): Promise<GatewayPod[]> {
    this.pods ??= await gatewayPods(this.k8s);
    return this.pods;
  }

  identityOf(gw: GatewayPod, proxyMetadata: Record<string, string> = {}): SidecarIdentity {
    return {
      nodeType: 'router',
      namespace: gw.namespace,
      ip: gw.ip,
      podName: gw.name,
      labels: gw.labels,
      istioVersion: this.istioVersion,
      extraMetadata: proxyMetadata,
    };
  }

  /** The xDS a gateway Pod receives under the current scenario (fetched once per scenario). */
  async snapshotOf(gw: GatewayPod, proxyMetadata: Record<string, string> = {}): Promise<XdsSnapshot> {
    const key = `${gw.namespace}/${gw.name}`;
    const cached = this.snapshots.get(key);
    if (cached) return cached;
    const snap = await this.istiod.snapshot(this.identityOf(gw, proxyMetadata));
    this.snapshots.set(key, snap);
    return snap;
  }

  /** The gateway Pod and port a cluster `outbound|PORT|SUBSET|NAME.NS.svc.cluster.local` sends to, if any. */
  async gatewayFor(cluster: string): Promise<{ gw: GatewayPod; port: number } | undefined> {
    const c = parseClusterName(cluster);
    if (!c?.host.endsWith(SVC_SUFFIX)) return undefined;
    const [name, ns] = c.host.slice(0, -SVC_SUFFIX.length).split('.');
    if (!name || !ns) return undefined;
    const svc = (await this.k8s.get({ apiVersion: 'v1', kind: 'Service', namespace: ns, name })) as ServiceLike | undefined;
    const selector = svc?.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return undefined;
    const selects = (labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const gw = (await this.gateways()).find((g) => g.namespace === ns && selects(g.labels));
    if (!gw) {
      // A Service of gateway Pods none of which is Ready is a call into nothing, not a call that left directly.
      const deployments = await this.k8s.list('apps/v1', 'Deployment', ns);
      const gatewayDeployment = deployments.find((d) => {
        const t = (d.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec?: Parameters<typeof runsRouter>[0] } })
          .template;
        return runsRouter(t?.spec) && selects(t?.metadata?.labels ?? {});
      });
      if (!gatewayDeployment) return undefined;
      // The cluster makes the gateway's Pod Ready on its own schedule: wait for it, bounded.
      let ready: GatewayPod | undefined;
      await pollUntil(
        async () => {
          this.pods = await gatewayPods(this.k8s);
          ready = this.pods.find((g) => g.namespace === ns && selects(g.labels));
          return !!ready;
        },
        { timeoutMs: 60_000, intervalMs: 100, maxIntervalMs: 1000, factor: 1.5 },
      );
      if (!ready) throw new Error(`gateway ${ns}/${gatewayDeployment.metadata.name} has no Ready Pod within 60 s`);
      return this.portFor(ready, svc, c.port);
    }
    return this.portFor(gw, svc, c.port);
  }

  private portFor(gw: GatewayPod, svc: ServiceLike, port: number): { gw: GatewayPod; port: number } {
    const sp = svc.spec?.ports?.find((p) => p.port === port);
    // A named targetPort would need the container's port list; istioctl's gateway Service uses numbers.
    return { gw, port: typeof sp?.targetPort === 'number' ? sp.targetPort : port };
  }

  /**
   * Extends the sidecar's observation with its hops. `sidecar` is the snapshot the observation was read from.
   * The observation's `cluster` stays the sidecar's choice; its verdict becomes the last hop's.
   */
  async follow(
    first: Observation,
    sidecar: { snapshot: XdsSnapshot; identity: SidecarIdentity },
    probe: Probe,
    proxyMetadata: Record<string, string> = {},
  ): Promise<Observation> {
    if (first.verdict === 'error') return first;
    const sidecarHop = hopOf('sidecar', `${sidecar.identity.namespace}/${sidecar.identity.podName}`, first, sidecar.snapshot);
    const hops: Hop[] = [sidecarHop];
    if (first.verdict !== 'allowed' || !first.cluster) return { ...first, hops };
    let next: Awaited<ReturnType<GatewayHop['gatewayFor']>>;
    try {
      next = await this.gatewayFor(first.cluster);
      if (!next) {
        // Whether a gateway would have routed it is a remark, not the verdict: a failed look is evidence only.
        const bypassed = await this.routedBy(probe, proxyMetadata).catch((e: Error) => {
          first.evidence.bypassCheck = `could not read the gateways' xDS: ${e.message}`;
          return undefined;
        });
        return { ...first, hops, ...(bypassed ? { bypassesGateway: bypassed } : {}) };
      }
    } catch (err) {
      return { ...first, hops, verdict: 'error', error: `following the call past the sidecar failed: ${(err as Error).message}` };
    }
    const { gw, port } = next;
    let gwSnap: XdsSnapshot;
    try {
      gwSnap = await this.snapshotOf(gw, proxyMetadata);
    } catch (err) {
      return { ...first, hops, verdict: 'error', error: `ADS fetch as gateway ${gw.workload} failed: ${(err as Error).message}` };
    }
    const t = probe.to;
    // Auto mTLS (a tlsMode transport_socket_match) reaches only endpoints labelled tlsMode=istio.
    const meshProxy = gw.labels['security.istio.io/tlsMode'] === 'istio';
    const found = clusterTls(sidecar.snapshot.clusters.find((c) => c.name === first.cluster));
    const tls = found.auto && !meshProxy ? undefined : found.tls;
    hops[0] = hopOf('sidecar', sidecarHop.proxy, first, sidecar.snapshot, meshProxy);
    const arrival = arrivalAfter(tls, t, hostHeader({ ...t }), t.path || '/', gw.ip, port);
    const second = evaluateArrival(gwSnap, arrival);
    const gwHop = hopOf('gateway', gw.workload, second, gwSnap);
    hops.push(gwHop);
    const signal = second.verdict === 'blocked' ? clientSignal(second.signal, first.evidence.virtualHost !== undefined) : undefined;
    return {
      verdict: second.verdict,
      cluster: first.cluster,
      ...(signal ? { signal } : {}),
      ...(second.error ? { error: `at gateway ${gw.workload}: ${second.error}` } : {}),
      hops,
      evidence: {
        ...first.evidence,
        gateway: {
          ...second.evidence,
          arrival,
          node: { pod: `${gw.namespace}/${gw.name}`, ip: gw.ip, type: 'router' },
          xdsVersions: gwSnap.versions,
        },
      },
    };
  }

  /** The gateway that has a route or SNI chain for the probe's host, when there is one. */
  async routedBy(probe: Probe, proxyMetadata: Record<string, string> = {}): Promise<string | undefined> {
    for (const gw of await this.gateways()) {
      if (gatewayRoutes(await this.snapshotOf(gw, proxyMetadata), probe.to.host)) return gw.workload;
    }
    return undefined;
  }
}

/**
 * What the client sees of a call that ends at the gateway. Through its sidecar's HTTP route the router passes
 * the gateway's own HTTP answer back (its 404, a route's own answer) and answers a connection the gateway refused or closed with a
 * 503 (Envoy's UF / UC response flags); through a tcp_proxy the client's connection is closed.
 */
export function clientSignal(atGateway: BlockSignal | undefined, httpLeg: boolean): BlockSignal {
  if (!httpLeg) return 'tcp-close';
  return atGateway === 'http-404' || atGateway === 'http-502' || atGateway === 'http-local' ? atGateway : 'http-503';
}

/** Whether a gateway's xDS names the host: a virtual host's domain or a filter chain's server name. */
export function gatewayRoutes(snap: XdsSnapshot, host: string): boolean {
  const byRoute = snap.routes.some((rc) => {
    const { vhost, how } = selectVirtualHost(rc, host);
    return !!vhost && how !== 'wildcard *';
  });
  if (byRoute) return true;
  return snap.listeners.some((l) =>
    (l.filter_chains ?? []).some((c) => serverNameRank(c.filter_chain_match?.server_names ?? [], host) >= 0),
  );
}
