// The egress gateway the install provides, and what it does with a call that reaches it. Pure.
//
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - The IstioOperator's components.egressGateways renders a Deployment `istio-egressgateway` whose Pods carry
//   `istio: egressgateway` and `app: istio-egressgateway`, behind a Service of that name with ports
//   80→8080 (http2) and 443→8443 (https) (manifests/charts/gateway defaults as istioctl renders them).
// - A Gateway applies to the gateway Pods its selector matches, in any namespace
//   (pilot/pkg/model/push_context.go mergeGateways, PILOT_SCOPE_GATEWAY_TO_NAMESPACE off by default).
// - Each server binds the Service's targetPort for its port number (pilot/pkg/model/gateway.go resolvePorts);
//   its hosts are `[ns/]host`, and a VirtualService is bound to it when the VirtualService names the Gateway
//   (`name` in its own namespace, or `ns/name`) and shares a host with the server
//   (pilot/pkg/networking/core/gateway.go buildGatewayHTTPRouteConfig / buildGatewayNetworkFiltersFromTLSRoutes).
// - An HTTP server routes by Host; an HTTPS server in ISTIO_MUTUAL or SIMPLE mode terminates TLS and routes the
//   HTTP inside; a TLS server in PASSTHROUGH mode routes by SNI to a `tls` route; a host no bound
//   VirtualService routes gets no route (Envoy answers 404 / closes the connection).
import type { IstioConfig, ProbeSource, ResourceSet, ServiceEntry } from '../model/types.ts';
import { subsetOf } from './hosts.ts';

export interface GatewayService {
  /** The Service's FQDN, as a VirtualService destination names it. */
  host: string;
  namespace: string;
  /** `NAMESPACE/APP`, as a hop names the proxy. */
  workload: string;
  labels: Record<string, string>;
  ports: { port: number; targetPort: number; name: string }[];
}

/** The egress gateway of fixtures/istio/*.yaml (components.egressGateways, istio-egressgateway in istio-system). */
export const EGRESS_GATEWAY: GatewayService = {
  host: 'istio-egressgateway.istio-system.svc.cluster.local',
  namespace: 'istio-system',
  workload: 'istio-system/istio-egressgateway',
  labels: { app: 'istio-egressgateway', istio: 'egressgateway' },
  ports: [
    { port: 80, targetPort: 8080, name: 'http2' },
    { port: 443, targetPort: 8443, name: 'https' },
  ],
};

export const INSTALL_GATEWAYS: readonly GatewayService[] = [EGRESS_GATEWAY];

/**
 * The install's gateway Pods, workloads of their namespace like any client Pod: an empty ServiceEntry
 * workloadSelector in istio-system selects them, so a DNS entry there has endpoints and istiod builds its
 * cluster (serviceentry/conversion.go: a selector's instances are the workloads of its namespace it matches).
 * Found in the corpus: master-2026-08-27 s10-6 (DNS_ROUND_ROBIN entry in istio-system, `labels: {}`).
 */
export function installedWorkloads(): ProbeSource[] {
  return INSTALL_GATEWAYS.map((g) => ({ namespace: g.namespace, labels: g.labels }));
}

export function gatewayServiceFor(host: string): GatewayService | undefined {
  return INSTALL_GATEWAYS.find((g) => g.host === host);
}

export interface GatewayServer {
  gateway: IstioConfig;
  /** `ns/name` of the Gateway. */
  ref: string;
  port: { number: number; protocol: string; name?: string };
  hosts: string[];
  tlsMode?: string;
}

type Obj = Record<string, unknown>;

/** The servers of every Gateway that selects this gateway's Pods, on one port. */
export function serversOn(routing: IstioConfig[], gw: GatewayService, port: number): GatewayServer[] {
  const out: GatewayServer[] = [];
  for (const g of routing) {
    if (g.kind !== 'Gateway') continue;
    const selector = (g.spec.selector ?? {}) as Record<string, string>;
    if (!Object.entries(selector).every(([k, v]) => gw.labels[k] === v)) continue;
    for (const s of (g.spec.servers ?? []) as Obj[]) {
      const p = (s.port ?? {}) as Obj;
      if (p.number !== port) continue;
      out.push({
        gateway: g,
        ref: `${g.namespace}/${g.name}`,
        port: { number: port, protocol: String(p.protocol ?? '').toUpperCase(), name: p.name as string | undefined },
        hosts: ((s.hosts ?? []) as string[]).map((h) => (h.includes('/') ? (h.split('/')[1] ?? h) : h)),
        tlsMode: (s.tls as Obj | undefined)?.mode as string | undefined,
      });
    }
  }
  return out;
}

/** A server takes the host when one of its hosts covers it (`*` takes all). */
export function serverTakes(server: GatewayServer, host: string): boolean {
  return server.hosts.some((h) => h === '*' || subsetOf(host, h));
}

/** What the server hands to routing: HTTP requests (plain or after terminating TLS), or TLS by SNI. */
export function serverRoutes(server: GatewayServer): 'http' | 'tls' | 'tcp' {
  if (['HTTP', 'HTTP2', 'GRPC', 'HTTP_PROXY'].includes(server.port.protocol)) return 'http';
  if (server.port.protocol === 'HTTPS' && server.tlsMode !== 'PASSTHROUGH' && server.tlsMode !== 'AUTO_PASSTHROUGH') return 'http';
  if (server.port.protocol === 'TLS' || server.port.protocol === 'HTTPS') return 'tls';
  return 'tcp';
}

/** Does a VirtualService's `gateways` list name this Gateway (short names are in the VirtualService's namespace)? */
export function namesGateway(vsNamespace: string, names: string[], ref: string): boolean {
  return names.some((n) => (n.includes('/') ? n : `${vsNamespace}/${n}`) === ref);
}

/**
 * The install's egress gateway Service as the sidecars see it. A Kubernetes Service is in every sidecar's
 * registry like a ServiceEntry (exported by defaultServiceExportTo, imported by Sidecar egress hosts): its
 * `http2` port 80 puts an HTTP listener on 0.0.0.0_80 in every sidecar that imports istio-system, so under
 * REGISTRY_ONLY an HTTP call to an unknown host on port 80 meets that listener's route catch-all
 * (BlackHoleCluster, HTTP 502) instead of no listener; its `https` port binds only the Service's ClusterIP
 * (pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners: HTTP ports listen on 0.0.0.0, TCP
 * ports with an address on that address). Found on the real istiod once the install carried the gateway.
 * Created at install, before any scenario object, so it ranks first.
 */
export function installedServiceEntries(): ServiceEntry[] {
  return INSTALL_GATEWAYS.map((g) => ({
    kind: 'ServiceEntry' as const,
    name: g.host.split('.')[0] ?? g.host,
    namespace: g.namespace,
    order: -1,
    hosts: [g.host],
    // A ClusterIP of the install's Service range (10.96.0.0/16); the real one is allocated, and only an
    // IP-literal probe to it could tell the difference.
    addresses: ['10.96.255.254'],
    ports: g.ports.map((p) => ({
      number: p.port,
      name: p.name,
      protocol: p.name === 'http2' ? 'HTTP2' : 'HTTPS',
      targetPort: p.targetPort,
    })),
    location: 'MESH_INTERNAL' as const,
    resolution: 'STATIC' as const,
    endpoints: [],
    exportTo: [],
    kubernetesService: true as const,
    source: { file: 'installed by the IstioOperator (components.egressGateways)', doc: 0 },
    manifest: { metadata: { name: g.host.split('.')[0], namespace: g.namespace, creationTimestamp: '1969-12-31T23:59:59Z' } },
  }));
}

/** The scenario's resources with the install's own Services beside its ServiceEntries. */
export function withInstalledServices(resources: ResourceSet): ResourceSet {
  return { ...resources, serviceEntries: [...installedServiceEntries(), ...resources.serviceEntries] };
}
