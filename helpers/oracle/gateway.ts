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
import type { IstioConfig } from '../model/types.ts';
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
