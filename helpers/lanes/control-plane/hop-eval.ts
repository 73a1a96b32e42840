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
import { type ExpandedAny, isExpandedAny, typeNameOf, type XdsCluster } from './xds-types.ts';
import { type ConfigSnapshot, verdictForCluster } from './evaluator.ts';
import { chainLabel, selectFilterChain, terminalFilter } from './filter-chain.ts';
import { type ConnectionFacts, HTTP_INSPECTOR, hasListenerFilter, selectListener, TLS_INSPECTOR } from './listener-select.ts';
import { clusterOfAction, routeMatches, selectVirtualHost } from './route-match.ts';

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
export interface Arrival {
  ip: string;
  port: number;
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
  if (target.scheme === 'https')
    return { ip, port, tls: { ...(target.isIp ? {} : { sni: target.host }), alpn: ['h2', 'http/1.1'], by: 'client', mutual: false } };
  return { ip, port, ...(http ? { http } : {}) };
}

/** Where the proxy of `snapshot` sends an arrival; the observation's cluster is that proxy's choice. */
export function evaluateArrival(snapshot: ConfigSnapshot, a: Arrival): Observation {
  const evidence: Record<string, unknown> = { destination: `${a.ip}:${a.port}` };
  const known = new Set(snapshot.clusters.flatMap((c) => (c.name === undefined ? [] : [c.name])));
  const { listener, how } = selectListener(snapshot.listeners, a.ip, a.port);
  if (!listener || how === 'virtualOutbound') {
    evidence.listener = '(none)';
    return { verdict: 'error', error: `no listener on ${a.ip}:${a.port}: the connection is refused`, evidence };
  }
  evidence.listener = listener.name;
  const tlsInspected = hasListenerFilter(listener, TLS_INSPECTOR, 'envoy.filters.listener.tls_inspector');
  const httpInspected = hasListenerFilter(listener, HTTP_INSPECTOR, 'envoy.filters.listener.http_inspector');
  const facts: ConnectionFacts = {
    destinationIp: a.ip,
    destinationPort: a.port,
    transportProtocol: 'raw_buffer',
    applicationProtocols: [],
  };
  if (a.tls && tlsInspected) {
    facts.transportProtocol = 'tls';
    if (a.tls.sni) facts.serverName = a.tls.sni;
    facts.applicationProtocols = a.tls.alpn;
  } else if (!a.tls && a.http && httpInspected) facts.applicationProtocols = ['http/1.1'];
  evidence.connection = facts;
  const pick = selectFilterChain(listener, facts);
  evidence.filterChainSteps = pick.steps;
  if (!pick.chain) {
    evidence.filterChain = '(none)';
    return { verdict: 'blocked', signal: 'tcp-close', cluster: '(no filter chain)', evidence };
  }
  evidence.filterChain = chainLabel(pick.chain, listener, pick.usedDefault);
  // A chain with a transport socket terminates TLS: a proxy's own TLS ends here, a client's cannot be read.
  const terminates = !!pick.chain.transport_socket;
  if (terminates) evidence.terminatesTls = true;
  const term = terminalFilter(pick.chain);
  evidence.filter = term.name;
  if (term.kind === 'tcp') {
    const cluster = clusterOfAction(term.config);
    if (!cluster) return { verdict: 'error', error: 'tcp_proxy without a cluster', evidence };
    return clusterVerdict(cluster, evidence, known);
  }
  if (term.kind === 'other') return { verdict: 'error', error: `filter chain ends in ${term.name ?? 'nothing'}`, evidence };
  const readable = a.http && (!a.tls || (a.tls.by === 'proxy' && terminates));
  if (!readable || !a.http) {
    return { verdict: 'error', error: 'the bytes reaching this HTTP connection manager are not an HTTP request it can read', evidence };
  }
  const rcName = term.config?.rds?.route_config_name;
  const rc = rcName !== undefined ? snapshot.routes.find((r) => r.name === rcName) : term.config?.route_config;
  evidence.routeConfig = rcName ?? '(inline)';
  if (!rc) return { verdict: 'error', error: `route config ${rcName} missing from the RDS snapshot`, evidence };
  evidence.hostHeader = a.http.host;
  const { vhost, how: vhHow } = selectVirtualHost(rc, a.http.host);
  if (!vhost)
    return { verdict: 'error', error: `no virtual host for ${a.http.host} in route config ${rc.name}: Envoy answers 404`, evidence };
  evidence.virtualHost = vhost.name;
  evidence.virtualHostMatch = vhHow;
  const route = (vhost.routes ?? []).find((r) => routeMatches(r.match ?? {}, a.http!.path));
  if (!route)
    return { verdict: 'error', error: `no route in virtual host ${vhost.name} matches ${a.http.path}: Envoy answers 404`, evidence };
  evidence.route = route.name ?? '(unnamed)';
  const facts2 = routeFacts(route.route);
  if (facts2.length) evidence.routeFacts = facts2;
  if (route.direct_response) {
    const status = Number(route.direct_response.status);
    evidence.directResponse = status;
    if (status === 502) return { verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502', evidence };
    return { verdict: 'error', error: `direct response ${status}`, evidence };
  }
  const cluster = clusterOfAction(route.route);
  if (!cluster) return { verdict: 'error', error: `route ${route.name} has no cluster`, evidence };
  return clusterVerdict(cluster, evidence, known);
}

/** Route settings that change a call without changing its cluster: a timeout, retries. */
export function routeFacts(action: unknown): string[] {
  const r = (action ?? {}) as {
    timeout?: { seconds?: string | number; nanos?: number };
    retry_policy?: { num_retries?: { value?: number } };
  };
  const out: string[] = [];
  if (r.timeout) out.push(`timeout ${Number(r.timeout.seconds ?? 0) + (r.timeout.nanos ?? 0) / 1e9}s`);
  const n = r.retry_policy?.num_retries?.value;
  if (n !== undefined) out.push(`retries ${n}`);
  return out;
}

/** The route facts of the route an evaluation took, looked up by the names in its evidence. */
export function routeFactsAt(snapshot: ConfigSnapshot, ev: Record<string, unknown>): string[] {
  const rc = snapshot.routes.find((r) => r.name === ev.routeConfig);
  const vh = rc?.virtual_hosts?.find((v) => v.name === ev.virtualHost);
  const route = vh?.routes?.find((r) => (r.name ?? '(unnamed)') === ev.route);
  return route ? routeFacts(route.route) : [];
}

function clusterVerdict(cluster: string, evidence: Record<string, unknown>, known: Set<string>): Observation {
  evidence.cluster = cluster;
  return verdictForCluster(cluster, evidence, known);
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
