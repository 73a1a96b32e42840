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
import type { IstioConfig, PortProtocol, ProbeSource, ResourceSet, ServiceEntry } from '../model/types.ts';
import { subsetOf } from './hosts.ts';
import { creationSeconds } from './order.ts';

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
  // model/gateway.go mergeGateways walks the Gateways by creation time, then name, then namespace
  // (push_context.go sortConfigByCreationTime) and drops servers it cannot merge on a port: the port's first
  // server that is not a TLS server (no tls block, or an HTTP protocol) is its plain-text server, and a later server
  // on the port is kept beside it only when both protocols are HTTP (canMergeProtocols), so an HTTP server's port
  // keeps no later TLS, HTTPS or TCP server; a TLS server repeating a host another TLS server of the port has
  // (CheckDuplicates) is dropped too. A plain-text server after TLS servers is kept. Checked on istiod eed52ebb66ad
  // (2026-12-03), fixtures/rules/gateway-merge-drops.yaml.
  const gateways = routing
    .filter((g) => g.kind === 'Gateway')
    .sort(
      (a, b) =>
        creationSeconds(a.manifest) - creationSeconds(b.manifest) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
        (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0),
    );
  let plain: GatewayServer | undefined;
  let seen = false;
  const tlsHosts = new Set<string>();
  const isHttp = (p: string) => HTTP_PROTOCOLS.has(p);
  for (const g of gateways) {
    const selector = (g.spec.selector ?? {}) as Record<string, string>;
    if (!Object.entries(selector).every(([k, v]) => gw.labels[k] === v)) continue;
    for (const s of (g.spec.servers ?? []) as Obj[]) {
      const p = (s.port ?? {}) as Obj;
      if (p.number !== port) continue;
      const server: GatewayServer = {
        gateway: g,
        ref: `${g.namespace}/${g.name}`,
        port: { number: port, protocol: String(p.protocol ?? '').toUpperCase(), name: p.name as string | undefined },
        hosts: ((s.hosts ?? []) as string[]).map((h) => (h.includes('/') ? (h.split('/')[1] ?? h) : h)),
        tlsMode: serverTlsMode(String(p.protocol ?? '').toUpperCase(), s.tls as Obj | undefined),
      };
      if (s.bind !== undefined) {
        // Servers bound to an address are listeners of their own; their merging is not modelled.
        out.push(server);
        continue;
      }
      if (s.tls !== undefined) {
        if (server.hosts.some((h) => tlsHosts.has(h))) continue;
        for (const h of server.hosts) tlsHosts.add(h);
      }
      const tlsServer = s.tls !== undefined && !isHttp(server.port.protocol);
      if (seen && plain && !(isHttp(server.port.protocol) && isHttp(plain.port.protocol))) continue;
      if (!tlsServer && !plain) plain = server;
      seen = true;
      out.push(server);
    }
  }
  return out;
}

/** A server takes the host when one of its hosts covers it (`*` takes all). */
export function serverTakes(server: GatewayServer, host: string): boolean {
  return server.hosts.some((h) => h === '*' || subsetOf(host, h));
}

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY']);

/**
 * A server's TLS mode; a `tls` block without a mode is PASSTHROUGH, the enum's zero value (networking/v1alpha3
 * ServerTLSSettings.TLSmode). An HTTP server's `tls` (an httpsRedirect) changes nothing of its routing.
 */
function serverTlsMode(protocol: string, tls: Obj | undefined): string | undefined {
  if (!tls || typeof tls !== 'object') return undefined;
  const mode = tls.mode as string | undefined;
  return mode ?? (HTTP_PROTOCOLS.has(protocol) ? undefined : 'PASSTHROUGH');
}

/**
 * What the server hands to routing (gateway.go buildGatewayTCPBasedFilterChains, createGatewayTCPFilterChainOpts;
 * config/gateway IsPassThroughServer, IsHTTPSServerWithTLSTermination): HTTP requests for an HTTP server or an HTTPS
 * one terminating TLS; TLS by SNI to the `tls` routes for a PASSTHROUGH server of any protocol; the `tcp` routes
 * for an opaque TCP server and for a TLS (or other non-HTTP) server terminating TLS.
 */
export function serverRoutes(server: GatewayServer): 'http' | 'tls' | 'tcp' {
  const { protocol } = server.port;
  if (HTTP_PROTOCOLS.has(protocol)) return 'http';
  if (server.tlsMode === 'PASSTHROUGH' || server.tlsMode === 'AUTO_PASSTHROUGH') return 'tls';
  if (protocol === 'HTTPS') return 'http';
  return 'tcp';
}

/** An opaque TCP server (no `tls`): its one filter chain matches no SNI, so it takes every connection to the port. */
export function opaqueTcp(server: GatewayServer): boolean {
  return serverRoutes(server) === 'tcp' && server.tlsMode === undefined;
}

/** Does a VirtualService's `gateways` list name this Gateway (short names are in the VirtualService's namespace)? */
export function namesGateway(vsNamespace: string, names: string[], ref: string): boolean {
  return names.some((n) => (n.includes('/') ? n : `${vsNamespace}/${n}`) === ref);
}

/** A Kubernetes Service the cluster has before any scenario object, as the sidecars' registry holds it. */
interface ClusterService {
  name: string;
  namespace: string;
  /** A ClusterIP of the Service range (10.96.0.0/16). Only `kubernetes` has a fixed one (the range's first); the
   * others are allocated, and only an IP-literal probe to one could tell the difference. */
  clusterIP: string;
  ports: { port: number; targetPort: number; name: string }[];
  /** Seconds after the API server's own Service (creation order decides ties between entries of one port). */
  createdAfter: number;
  installedBy: string;
}

/**
 * Every Service the pinned install leaves in the cluster, in the order istiod ranks them
 * (push_context.go SortServicesByCreationTime: creation second, then Service name, then namespace), read from
 * the lane's kwok cluster (`kubectl get svc -A`): the API server's `kubernetes` and istiod's Service share a
 * second, so the name puts `istiod` first; the egress gateway comes 2 s later and the revision tag's Service
 * 2 s after that (manifests/charts/istio-control/istio-discovery/templates/service.yaml and
 * revision-tags-svc.yaml give istiod's ports). They matter where a Sidecar egress listener binds a port to
 * every imported Service: the first Service with that port takes the chain. Found in the corpus:
 * master-2026-08-27 s161-9#5 (an `egress-443` listener bound on 0.0.0.0 sends TCP to istiod's Service).
 */
const CLUSTER_SERVICES: readonly ClusterService[] = [
  {
    name: 'istiod',
    namespace: 'istio-system',
    clusterIP: '10.96.255.251',
    ports: istiodPorts(),
    createdAfter: 0,
    installedBy: 'istiod (components.pilot)',
  },
  {
    name: 'kubernetes',
    namespace: 'default',
    clusterIP: '10.96.0.1',
    ports: [{ port: 443, targetPort: 6443, name: 'https' }],
    createdAfter: 0,
    installedBy: 'the API server',
  },
  {
    name: 'istio-egressgateway',
    namespace: 'istio-system',
    clusterIP: '10.96.255.254',
    ports: EGRESS_GATEWAY.ports,
    createdAfter: 2,
    installedBy: 'the IstioOperator (components.egressGateways)',
  },
  {
    name: 'istiod-revision-tag-default',
    namespace: 'istio-system',
    clusterIP: '10.96.255.252',
    ports: istiodPorts(),
    createdAfter: 4,
    installedBy: "istiod's default revision tag",
  },
];

function istiodPorts(): ClusterService['ports'] {
  return [
    { port: 15010, targetPort: 15010, name: 'grpc-xds' },
    { port: 15012, targetPort: 15012, name: 'https-dns' },
    { port: 443, targetPort: 15017, name: 'https-webhook' },
    { port: 15014, targetPort: 15014, name: 'http-monitoring' },
  ];
}

/**
 * The protocol Istio reads from a Service port's name prefix (pkg/config/kube ConvertProtocol: `http2-…`,
 * `grpc-…`); any other name leaves it to sniffing, the model's unset protocol.
 */
function protocolOfPortName(name: string): PortProtocol {
  const prefix = (name.split('-')[0] ?? name).toLowerCase();
  const known: Record<string, PortProtocol> = { http: 'HTTP', http2: 'HTTP2', https: 'HTTPS', grpc: 'GRPC', tls: 'TLS', tcp: 'TCP' };
  return known[prefix] ?? '';
}

/**
 * The cluster's own Services as the sidecars see them. A Kubernetes Service is in every sidecar's registry like a
 * ServiceEntry (exported by defaultServiceExportTo, imported by Sidecar egress hosts): the gateway's `http2` port
 * 80 puts an HTTP listener on 0.0.0.0_80 in every sidecar that imports istio-system, so under REGISTRY_ONLY an
 * HTTP call to an unknown host on port 80 meets that listener's route catch-all (BlackHoleCluster, HTTP 502)
 * instead of no listener; `https` ports bind only the Service's ClusterIP
 * (pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners: HTTP ports listen on 0.0.0.0, TCP
 * ports with an address on that address). Found on the real istiod once the install carried the gateway.
 * Created before any scenario object, so they rank first.
 */
export function installedServiceEntries(): ServiceEntry[] {
  // Before every scenario object (whose manifests carry no timestamp, or a real one).
  const base = Date.parse('1969-12-31T23:59:50Z');
  return CLUSTER_SERVICES.map((s) => {
    const host = `${s.name}.${s.namespace}.svc.cluster.local`;
    return {
      kind: 'ServiceEntry' as const,
      name: s.name,
      namespace: s.namespace,
      order: -1,
      hosts: [host],
      addresses: [s.clusterIP],
      ports: s.ports.map((p) => ({ number: p.port, name: p.name, protocol: protocolOfPortName(p.name), targetPort: p.targetPort })),
      location: 'MESH_INTERNAL' as const,
      resolution: 'STATIC' as const,
      endpoints: [],
      exportTo: [],
      kubernetesService: true as const,
      source: { file: `installed by ${s.installedBy}`, doc: 0 },
      manifest: {
        metadata: { name: s.name, namespace: s.namespace, creationTimestamp: new Date(base + s.createdAfter * 1000).toISOString() },
      },
    };
  });
}

/** The scenario's resources with the install's own Services beside its ServiceEntries. */
export function withInstalledServices(resources: ResourceSet): ResourceSet {
  return { ...resources, serviceEntries: [...installedServiceEntries(), ...resources.serviceEntries] };
}
