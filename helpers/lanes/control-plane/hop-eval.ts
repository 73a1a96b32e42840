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
import type { Hop, HopTls, Observation, Scheme } from '../../model/types.ts';
import { type ConfigSnapshot, type ExpandedAny, isExpandedAny, typeNameOf, type XdsCluster } from './xds-types.ts';
import { clientTls, connectionFacts, selectListener, type Wire } from './listener-select.ts';
import { routeFacts } from './route-match.ts';
import { walkFromListener } from './xds-walk.ts';

const UPSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

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

/** Where the proxy of `snapshot` sends an arrival; the observation's cluster is that proxy's choice. */
export function evaluateArrival(snapshot: ConfigSnapshot, a: Arrival): Observation {
  const evidence: Record<string, unknown> = { destination: `${a.ip}:${a.port}` };
  const { listener, how } = selectListener(snapshot.listeners, a.ip, a.port);
  if (!listener || how === 'virtualOutbound') {
    evidence.listener = '(none)';
    return { verdict: 'error', error: `no listener on ${a.ip}:${a.port}: the connection is refused`, evidence };
  }
  evidence.listener = listener.name;
  return walkFromListener(snapshot, listener, connectionFacts(listener, a), evidence, {
    requestAt: (chain) => {
      // A chain with a transport socket terminates TLS: a proxy's own TLS ends here, a client's cannot be read.
      const terminates = !!chain.transport_socket;
      if (terminates) evidence.terminatesTls = true;
      const readable = a.http && (!a.tls || (a.tls.by === 'proxy' && terminates));
      return readable && a.http
        ? a.http
        : { unreadable: 'the bytes reaching this HTTP connection manager are not an HTTP request it can read' };
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

/** A hop from a proxy's observation and its snapshot: the cluster it chose and the TLS that cluster originates. */
export function hopOf(kind: Hop['kind'], proxy: string, obs: Observation, snapshot: ConfigSnapshot, upstreamIsMeshProxy = false): Hop {
  const cluster = obs.cluster ?? '(none)';
  const found = clusterTls(snapshot.clusters.find((c) => c.name === cluster));
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
  };
}
