// One hop past the sidecar, as a pure walk over xDS: what a proxy originates towards its upstream (the
// cluster's TLS transport socket), what the next proxy therefore receives (address, TLS or not, SNI, ALPN,
// the HTTP request inside), and where that proxy sends it (listener → chain → route → cluster).
//
// Facts (Envoy API): a cluster's `transport_socket`, else the `transport_socket_matches` entry whose match
// the endpoint's metadata satisfies, sets the upstream TLS (UpstreamTlsContext: sni, alpn_protocols,
// certificate SDS names). Istio's own mTLS uses the SDS secrets `default` and `ROOTCA`
// (pilot/pkg/networking/core/cluster_tls.go, security/pkg model SDSDefaultResourceName / SDSRootResourceName);
// a DestinationRule SIMPLE origination has no client certificate. A gateway listener binds the Pod's port
// (no iptables, no virtualOutbound: pilot/pkg/networking/core/gateway.go), so a connection no listener takes
// is refused.
import { CLUSTER_DISCOVERY, type ClusterDiscovery, type Hop, type HopTls, type Observation, type Scheme } from '../../model/types.ts';
import {
  type ConfigSnapshot,
  type DecodedAny,
  type ExpandedAny,
  isExpandedAny,
  typeNameOf,
  type XdsCluster,
  type XdsFilterChain,
} from './xds-types.ts';
import { clientTls, connectionFacts, selectListener, type Wire } from './listener-select.ts';
import { routeFacts } from './route-match.ts';
import { walkFromListener } from './xds-walk.ts';

const UPSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const DOWNSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** `outbound|PORT|SUBSET|HOST` as istiod names clusters (pilot/pkg/model/service.go BuildSubsetKey). */
export function parseClusterName(name: string): { port: number; subset: string; host: string } | undefined {
  const m = /^outbound\|(\d+)\|([^|]*)\|(.+)$/.exec(name);
  return m ? { port: Number(m[1]), subset: m[2] ?? '', host: m[3] ?? '' } : undefined;
}

interface TlsContextFields {
  sni?: string;
  common_tls_context?: {
    alpn_protocols?: string[];
    tls_certificate_sds_secret_configs?: { name?: string }[];
    tls_certificates?: unknown[];
  };
}

function tlsOfSocket(socket: { typed_config?: unknown } | null | undefined): (HopTls & { alpn: string[] }) | undefined {
  const tc = socket?.typed_config as ExpandedAny | undefined;
  if (!isExpandedAny(tc) || typeNameOf(tc['@type']) !== UPSTREAM_TLS) return undefined;
  const ctx = tc as unknown as TlsContextFields;
  const common = ctx.common_tls_context ?? {};
  const sds = (common.tls_certificate_sds_secret_configs ?? []).map((s) => s.name ?? '');
  const mode: HopTls['mode'] = sds.includes('default')
    ? 'ISTIO_MUTUAL'
    : sds.length > 0 || (common.tls_certificates ?? []).length > 0
      ? 'MUTUAL'
      : 'SIMPLE';
  return { mode, ...(ctx.sni ? { sni: ctx.sni } : {}), alpn: common.alpn_protocols ?? [] };
}

/**
 * The TLS a cluster originates. A `transport_socket_matches` entry that matches on `tlsMode: istio` is Istio's
 * auto mTLS: it applies to endpoints that run a proxy, which every gateway and sidecar Pod does; `auto` says so.
 */
export function clusterTls(cluster: XdsCluster | undefined): { tls?: HopTls & { alpn: string[] }; auto?: boolean } {
  if (!cluster) return {};
  const direct = tlsOfSocket(cluster.transport_socket);
  if (direct) return { tls: direct };
  for (const m of cluster.transport_socket_matches ?? []) {
    const tls = tlsOfSocket(m.transport_socket);
    const fields = (m.match as { fields?: Record<string, unknown> } | undefined)?.fields ?? {};
    if (tls) return { tls, auto: 'tlsMode' in fields };
  }
  return {};
}

/** What the next proxy receives from a hop. */
export interface Arrival extends Wire {
  /** TLS on the wire: originated by the previous proxy, or the client's own passed through. */
  tls?: { sni?: string; alpn: string[]; by: 'proxy' | 'client'; mutual: boolean };
  /** The HTTP request, when one can be read once any proxy-originated TLS is terminated. */
  http?: { host: string; path: string };
}

/** What leaves a proxy that sends the call to ip:port with `tls` (undefined: the bytes as they came). */
export function arrivalAfter(
  tls: (HopTls & { alpn: string[] }) | undefined,
  target: { scheme: Scheme; host: string; isIp: boolean },
  hostHeader: string,
  path: string,
  ip: string,
  port: number,
): Arrival {
  const http = target.scheme === 'http' ? { host: hostHeader, path } : undefined;
  if (tls)
    return { ip, port, tls: { sni: tls.sni, alpn: tls.alpn, by: 'proxy', mutual: tls.mode !== 'SIMPLE' }, ...(http ? { http } : {}) };
  const own = clientTls(target);
  if (own) return { ip, port, tls: { ...own, by: 'client', mutual: false } };
  return { ip, port, ...(http ? { http } : {}) };
}

/** Whether a listener chain terminates TLS (its transport socket is a DownstreamTlsContext). */
function terminatesTls(chain: XdsFilterChain): boolean {
  const tc = chain.transport_socket?.typed_config as DecodedAny | undefined;
  return isExpandedAny(tc) && typeNameOf(tc['@type']) === DOWNSTREAM_TLS;
}

/** Whether a listener chain's DownstreamTlsContext asks the peer for a certificate (`require_client_certificate`). */
export function requiresClientCertificate(chain: XdsFilterChain): boolean {
  const tc = chain.transport_socket?.typed_config as DecodedAny | undefined;
  if (!isExpandedAny(tc) || typeNameOf(tc['@type']) !== DOWNSTREAM_TLS) return false;
  const req = (tc as { require_client_certificate?: boolean | { value?: boolean } }).require_client_certificate;
  return typeof req === 'object' ? req?.value === true : req === true;
}

/**
 * Where the proxy of `snapshot` sends an arrival; the observation's cluster is that proxy's choice, or, when
 * the call ends at this proxy, what ended it: `(connection refused)`, `(no filter chain)`, `(handshake failed)`,
 * `(protocol error)` (the connection is closed) or `(no route)` (Envoy's 404).
 */
export function evaluateArrival(snapshot: ConfigSnapshot, a: Arrival): Observation {
  const evidence: Record<string, unknown> = { destination: `${a.ip}:${a.port}` };
  const { listener, how } = selectListener(snapshot.listeners, a.ip, a.port);
  if (!listener || how === 'virtualOutbound') {
    // A gateway binds only its servers' ports (no iptables, no virtualOutbound): nothing accepts the connection.
    evidence.listener = '(none)';
    evidence.refused = `no listener on ${a.ip}:${a.port}`;
    return { verdict: 'blocked', signal: 'tcp-close', cluster: '(connection refused)', evidence };
  }
  evidence.listener = listener.name;
  return walkFromListener(snapshot, listener, connectionFacts(listener, a), evidence, {
    // istiod sets require_client_certificate on ISTIO_MUTUAL and MUTUAL servers (pilot/pkg/networking/core/
    // listener.go BuildListenerTLSContext); a peer that presents none, as SIMPLE origination or the client's
    // own TLS, fails the handshake.
    // Plain text that a chain without a transport_protocol match takes (a gateway server for `*` names no SNI)
    // meets its TLS server socket, which reads it as a broken ClientHello and closes the connection.
    handshakeFails: (chain) => {
      if (!a.tls && terminatesTls(chain)) return 'the chain terminates TLS and the connection carries plain text';
      return requiresClientCertificate(chain) && a.tls && !a.tls.mutual
        ? `the chain requires a client certificate and the ${a.tls.by === 'proxy' ? 'proxy' : 'client'}'s TLS presents none`
        : undefined;
    },
    requestAt: (chain) => {
      // A chain with a transport socket terminates TLS: a proxy's own TLS ends here, a client's cannot be read.
      const terminates = !!chain.transport_socket;
      if (terminates) evidence.terminatesTls = true;
      const readable = a.http && (!a.tls || (a.tls.by === 'proxy' && terminates));
      // TLS a proxy originated, meeting a plain HTTP connection manager, is a codec error: Envoy closes it.
      return readable && a.http
        ? a.http
        : {
            unreadable: 'the bytes reaching this HTTP connection manager are not an HTTP request it can read',
            closes: a.tls?.by === 'proxy' && !terminates,
          };
    },
    routeFacts: true,
  });
}

/** The route facts of the route an evaluation took, looked up by the names in its evidence. */
export function routeFactsAt(snapshot: ConfigSnapshot, ev: Record<string, unknown>): string[] {
  const rc = snapshot.routes.find((r) => r.name === ev.routeConfig);
  const vh = rc?.virtual_hosts?.find((v) => v.name === ev.virtualHost);
  const route = vh?.routes?.find((r) => (r.name ?? '(unnamed)') === ev.route);
  return route ? routeFacts(route.route) : [];
}

const DFP_CLUSTER_TYPE = 'envoy.clusters.dynamic_forward_proxy';

/** The cluster's discovery: its `type`, or a custom `cluster_type` istiod uses (the dynamic forward proxy). */
export function clusterDiscovery(cluster: XdsCluster | undefined): ClusterDiscovery | undefined {
  if (!cluster) return undefined;
  if (cluster.cluster_type?.name === DFP_CLUSTER_TYPE) return 'DYNAMIC_FORWARD_PROXY';
  const t = cluster.type as string | undefined;
  return CLUSTER_DISCOVERY.includes(t as ClusterDiscovery) ? (t as ClusterDiscovery) : undefined;
}

/** A hop from a proxy's observation and its snapshot: the cluster it chose and the TLS that cluster originates. */
export function hopOf(kind: Hop['kind'], proxy: string, obs: Observation, snapshot: ConfigSnapshot, upstreamIsMeshProxy = false): Hop {
  const cluster = obs.cluster ?? '(none)';
  const xdsCluster = snapshot.clusters.find((c) => c.name === cluster);
  const found = clusterTls(xdsCluster);
  const discovery = clusterDiscovery(xdsCluster);
  // Auto mTLS applies only to endpoints labelled security.istio.io/tlsMode=istio; a gateway Pod is not.
  const tls = found.auto && !upstreamIsMeshProxy ? undefined : found.tls;
  const route = routeFactsAt(snapshot, obs.evidence);
  return {
    kind,
    proxy,
    cluster,
    ...(typeof obs.evidence.listener === 'string' ? { listener: obs.evidence.listener } : {}),
    ...(tls ? { tls: { mode: tls.mode, ...(tls.sni ? { sni: tls.sni } : {}) } } : {}),
    ...(route?.length ? { route } : {}),
    ...(discovery ? { discovery } : {}),
  };
}
