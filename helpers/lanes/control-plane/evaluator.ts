// Where would Envoy send this connection? A pure walk over a sidecar's xDS config (as istiod sent it):
// listener (original destination) → filter chain → HCM route or TCP proxy → cluster.
//
// Envoy rules followed (Envoy docs: listener_filters / original_dst, FilterChainMatch, VirtualHost.domains):
// - iptables REDIRECT lands every outbound connection on `virtualOutbound` (use_original_dst), which hands it
//   to the listener bound to the original destination IP:port, else to the wildcard 0.0.0.0:port (or [::]:port),
//   else keeps it and uses its own filter chains.
// - Filter chains are narrowed criterion by criterion in Envoy's order: destination_port, prefix_ranges
//   (longest prefix), server_names (exact, then the longest wildcard suffix), transport_protocol,
//   application_protocols. At each step chains that set the criterion and match win; if none does, chains
//   that leave it empty go on; if nothing is left the default_filter_chain applies, else the connection closes.
// - Virtual hosts: exact domain, then the longest `*.suffix`, then the longest `prefix*`, then `*`.
//   With ignore_port_in_host_matching the Host port is dropped first.
import { isIPv6 } from 'node:net';
import type { Observation, Scheme } from '../../model/types.ts';
import { ipToBigInt } from '../../net/addresses.ts';
import {
  isExpandedAny,
  isHcm,
  isTcpProxy,
  typeNameOf,
  type DecodedAny,
  type HttpConnectionManager,
  type TcpProxy,
  type XdsCluster,
  type XdsFilterChain,
  type XdsListener,
  type XdsRouteConfiguration,
} from './ads-client.ts';

type FilterChainMatch = NonNullable<XdsFilterChain['filter_chain_match']>;
type CidrRange = NonNullable<FilterChainMatch['prefix_ranges']>[number];
type VirtualHost = NonNullable<XdsRouteConfiguration['virtual_hosts']>[number];
type Route = NonNullable<VirtualHost['routes']>[number];
type RouteMatch = NonNullable<Route['match']>;
type RouteAction = NonNullable<Route['route']>;

export interface ConfigSnapshot {
  listeners: XdsListener[];
  routes: XdsRouteConfiguration[];
  clusters: XdsCluster[];
}

export interface EvalTarget {
  scheme: Scheme;
  host: string;
  port: number;
  isIp: boolean;
  /** Request path for HTTP route matching; `/` when absent. */
  path?: string;
}

/** What the connection looks like to listener filters: derived from the probe scheme. */
export interface ConnectionFacts {
  destinationIp: string;
  destinationPort: number;
  /** SNI, when the client speaks TLS and the listener inspects it. */
  serverName?: string;
  transportProtocol: 'tls' | 'raw_buffer';
  applicationProtocols: string[];
}

export const TLS_INSPECTOR = 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
export const HTTP_INSPECTOR = 'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector';

function typeName(any: DecodedAny | null | undefined): string {
  return typeNameOf((isExpandedAny(any) ? any['@type'] : any?.type_url) ?? '');
}

export function hasListenerFilter(listener: XdsListener, type: string, legacyName: string): boolean {
  return (listener.listener_filters ?? []).some((f) => typeName(f.typed_config) === type || f.name === legacyName);
}

function socketOf(listener: XdsListener): { address: string; port: number } | undefined {
  const sa = listener.address?.socket_address;
  if (!sa?.address) return undefined;
  return { address: sa.address, port: Number(sa.port_value) };
}

/** Listener selection after original-destination recovery. */
export function selectListener(
  listeners: XdsListener[],
  ip: string,
  port: number,
): { listener?: XdsListener; how: 'exact' | 'wildcard' | 'virtualOutbound' } {
  const wildcard = isIPv6(ip) ? '::' : '0.0.0.0';
  const byAddr = (addr: string) =>
    listeners.find((l) => {
      const s = socketOf(l);
      return s && s.port === port && s.address === addr && l.name !== 'virtualOutbound' && l.name !== 'virtualInbound';
    });
  const exact = byAddr(ip);
  if (exact) return { listener: exact, how: 'exact' };
  const wild = byAddr(wildcard);
  if (wild) return { listener: wild, how: 'wildcard' };
  const vo = listeners.find((l) => l.name === 'virtualOutbound') ?? listeners.find((l) => l.use_original_dst?.value === true);
  return { listener: vo, how: 'virtualOutbound' };
}

export function connectionFacts(listener: XdsListener, target: EvalTarget, destinationIp: string): ConnectionFacts {
  const tlsInspected = hasListenerFilter(listener, TLS_INSPECTOR, 'envoy.filters.listener.tls_inspector');
  const httpInspected = hasListenerFilter(listener, HTTP_INSPECTOR, 'envoy.filters.listener.http_inspector');
  const facts: ConnectionFacts = {
    destinationIp,
    destinationPort: target.port,
    transportProtocol: 'raw_buffer',
    applicationProtocols: [],
  };
  if (target.scheme === 'https' && tlsInspected) {
    facts.transportProtocol = 'tls';
    // SNI is only sent for names, never for IP literals (RFC 6066); curl offers h2 and http/1.1 via ALPN.
    if (!target.isIp) facts.serverName = target.host;
    facts.applicationProtocols = ['h2', 'http/1.1'];
  } else if (target.scheme === 'http' && httpInspected) {
    facts.applicationProtocols = ['http/1.1'];
  }
  return facts;
}

/** Length of the longest prefix range containing ip, or -1. */
export function longestPrefixMatch(ranges: CidrRange[], ip: string): number {
  const addr = ipToBigInt(ip);
  if (!addr) return -1;
  let best = -1;
  for (const r of ranges) {
    const net = ipToBigInt(r.address_prefix ?? '');
    if (!net || net.bits !== addr.bits) continue;
    const len = r.prefix_len?.value ?? addr.bits;
    const n = Number(len);
    const shift = BigInt(addr.bits - n);
    if (n === 0 || addr.v >> shift === net.v >> shift) best = Math.max(best, n);
  }
  return best;
}

/** Envoy server_names rank: exact = Infinity, `*.suffix` = suffix length, no match = -1. */
export function serverNameRank(names: string[], sni: string | undefined): number {
  if (!sni) return -1;
  let best = -1;
  for (const n of names) {
    if (n === sni) return Infinity;
    if (n.startsWith('*.') && sni.endsWith(n.slice(1)) && sni.length > n.length - 1) best = Math.max(best, n.length);
  }
  return best;
}

interface ChainPick {
  chain?: XdsFilterChain;
  usedDefault: boolean;
  steps: string[];
}

/** Envoy's FilterChainMatch selection, criterion by criterion. */
export function selectFilterChain(listener: XdsListener, facts: ConnectionFacts): ChainPick {
  let cands: XdsFilterChain[] = listener.filter_chains ?? [];
  const steps: string[] = [];
  const narrow = (label: string, isSet: (m: FilterChainMatch) => boolean, rank: (m: FilterChainMatch) => number) => {
    if (cands.length === 0) return;
    const withIt = cands.filter((c) => isSet(c.filter_chain_match ?? {}));
    const scored = withIt.map((c) => ({ c, r: rank(c.filter_chain_match ?? {}) })).filter((x) => x.r >= 0);
    if (scored.length > 0) {
      const top = Math.max(...scored.map((x) => x.r));
      cands = scored.filter((x) => x.r === top).map((x) => x.c);
      steps.push(`${label}: matched`);
    } else {
      cands = cands.filter((c) => !isSet(c.filter_chain_match ?? {}));
      if (withIt.length > 0) steps.push(`${label}: no match among ${withIt.length}, ${cands.length} without it`);
    }
  };
  narrow(
    'destination_port',
    (m) => m.destination_port !== undefined,
    (m) => (Number(m.destination_port?.value) === facts.destinationPort ? 0 : -1),
  );
  narrow(
    'prefix_ranges',
    (m) => (m.prefix_ranges ?? []).length > 0,
    (m) => longestPrefixMatch(m.prefix_ranges ?? [], facts.destinationIp),
  );
  narrow(
    'server_names',
    (m) => (m.server_names ?? []).length > 0,
    (m) => serverNameRank(m.server_names ?? [], facts.serverName),
  );
  narrow(
    'transport_protocol',
    (m) => !!m.transport_protocol,
    (m) => (m.transport_protocol === facts.transportProtocol ? 0 : -1),
  );
  narrow(
    'application_protocols',
    (m) => (m.application_protocols ?? []).length > 0,
    (m) => ((m.application_protocols ?? []).some((p) => facts.applicationProtocols.includes(p)) ? 0 : -1),
  );
  if (cands.length > 0) return { chain: cands[0], usedDefault: false, steps };
  if (listener.default_filter_chain) return { chain: listener.default_filter_chain, usedDefault: true, steps };
  return { usedDefault: false, steps };
}

/** The Host header curl sends: the port is omitted when it is the scheme's default. */
export function hostHeader(target: EvalTarget): string {
  const host = isIPv6(target.host) ? `[${target.host}]` : target.host;
  const dflt = target.scheme === 'https' ? 443 : 80;
  return target.port === dflt ? host : `${host}:${target.port}`;
}

/** Envoy virtual host selection. Returns the vhost and how it matched. */
export function selectVirtualHost(routeConfig: XdsRouteConfiguration, host: string): { vhost?: VirtualHost; how?: string } {
  let h = host.toLowerCase();
  if (routeConfig.ignore_port_in_host_matching) h = h.replace(/:\d+$/, '');
  const vhosts = routeConfig.virtual_hosts ?? [];
  const domainsOf = (v: VirtualHost) => (v.domains ?? []).map((d) => d.toLowerCase());
  const exact = vhosts.find((v) => domainsOf(v).includes(h));
  if (exact) return { vhost: exact, how: `exact ${h}` };
  let best: { v: VirtualHost; len: number; d: string } | undefined;
  for (const v of vhosts) {
    for (const d of domainsOf(v)) {
      // `*.x` / `*x` suffix wildcards: the wildcard must stand for at least one character.
      if (d.startsWith('*') && d !== '*' && h.endsWith(d.slice(1)) && h.length > d.length - 1) {
        if (!best || d.length > best.len) best = { v, len: d.length, d };
      }
    }
  }
  if (best) return { vhost: best.v, how: `suffix ${best.d}` };
  for (const v of vhosts) {
    for (const d of domainsOf(v)) {
      if (d.endsWith('*') && d !== '*' && h.startsWith(d.slice(0, -1)) && h.length > d.length - 1) {
        if (!best || d.length > best.len) best = { v, len: d.length, d };
      }
    }
  }
  if (best) return { vhost: best.v, how: `prefix ${best.d}` };
  const star = vhosts.find((v) => domainsOf(v).includes('*'));
  return star ? { vhost: star, how: 'wildcard *' } : {};
}

export function routeMatches(match: RouteMatch, path: string): boolean {
  const pathOnly = path.split('?')[0] ?? path;
  if ((match.headers ?? []).length > 0 || (match.query_parameters ?? []).length > 0) return false;
  if (match.prefix !== undefined) return path.startsWith(match.prefix);
  if (match.path !== undefined) return pathOnly === match.path;
  if (match.path_separated_prefix !== undefined) {
    return pathOnly === match.path_separated_prefix || pathOnly.startsWith(`${match.path_separated_prefix}/`);
  }
  if (match.safe_regex?.regex !== undefined) {
    try {
      return new RegExp(`^(?:${match.safe_regex.regex})$`).test(pathOnly);
    } catch {
      return false;
    }
  }
  return false;
}

/** The cluster of a route action or a TcpProxy (the first of weighted clusters). */
export function clusterOfAction(action: RouteAction | TcpProxy | null | undefined): string | undefined {
  if (!action) return undefined;
  if (action.cluster) return action.cluster;
  return action.weighted_clusters?.clusters?.[0]?.name;
}

export type Terminal =
  | { kind: 'hcm'; config?: HttpConnectionManager; name?: string }
  | { kind: 'tcp'; config?: TcpProxy; name?: string }
  | { kind: 'other'; name?: string };

export function terminalFilter(chain: XdsFilterChain): Terminal {
  for (const f of chain.filters ?? []) {
    const tc = f.typed_config;
    // A filter named by its legacy name but without a decoded config still decides the kind; its config is then absent.
    if (isHcm(tc) || f.name === 'envoy.filters.network.http_connection_manager')
      return { kind: 'hcm', config: isHcm(tc) ? tc : undefined, name: f.name };
    if (isTcpProxy(tc) || f.name === 'envoy.filters.network.tcp_proxy')
      return { kind: 'tcp', config: isTcpProxy(tc) ? tc : undefined, name: f.name };
  }
  const last = (chain.filters ?? []).at(-1);
  return { kind: 'other', name: last?.name };
}

export function chainLabel(chain: XdsFilterChain, listener: XdsListener, usedDefault: boolean): string {
  if (chain.name) return chain.name;
  if (usedDefault) return 'default_filter_chain';
  const i = (listener.filter_chains ?? []).indexOf(chain);
  return `filter_chains[${i}]`;
}

/**
 * The call's fate at the cluster a route or tcp_proxy chose. A cluster the proxy was not sent is a call that
 * does not get out: the router answers 503 (cluster_not_found_response_code, flag NC), tcp_proxy closes.
 */
export function verdictForCluster(cluster: string, evidence: Record<string, unknown>, known: Set<string>): Observation {
  if (cluster === 'BlackHoleCluster') return { verdict: 'blocked', cluster, signal: 'tcp-close', evidence };
  if (!known.has(cluster)) {
    evidence.clusterNotFound = `route points at cluster ${cluster}, which is not in the CDS snapshot`;
    return { verdict: 'blocked', cluster, signal: evidence.virtualHost ? 'http-503' : 'tcp-close', evidence };
  }
  return { verdict: 'allowed', cluster, evidence };
}

/**
 * Evaluates a probe against a sidecar's config. `resolvedAddress` is where the client connects
 * (the IP literal itself, or what DNS — or Istio's DNS proxy — answered for the host).
 */
export function evaluate(snapshot: ConfigSnapshot, target: EvalTarget, resolvedAddress: string): Observation {
  const evidence: Record<string, unknown> = { destination: `${resolvedAddress}:${target.port}` };
  const known = new Set(snapshot.clusters.flatMap((c) => (c.name === undefined ? [] : [c.name])));
  const { listener, how } = selectListener(snapshot.listeners, resolvedAddress, target.port);
  if (!listener) {
    return { verdict: 'error', error: 'no listener for the destination and no virtualOutbound listener in the snapshot', evidence };
  }
  evidence.listener = listener.name;
  evidence.listenerMatch = how;
  const facts = connectionFacts(listener, target, resolvedAddress);
  evidence.connection = facts;
  const pick = selectFilterChain(listener, facts);
  evidence.filterChainSteps = pick.steps;
  if (!pick.chain) {
    // Envoy closes a connection no filter chain accepts.
    evidence.filterChain = '(none)';
    return { verdict: 'blocked', signal: 'tcp-close', cluster: '(no filter chain)', evidence };
  }
  evidence.filterChain = chainLabel(pick.chain, listener, pick.usedDefault);
  const term = terminalFilter(pick.chain);
  evidence.filter = term.name;
  if (term.kind === 'tcp') {
    const cluster = clusterOfAction(term.config);
    if (!cluster) return { verdict: 'error', error: 'tcp_proxy without a cluster', evidence };
    evidence.cluster = cluster;
    return verdictForCluster(cluster, evidence, known);
  }
  if (term.kind === 'other') {
    return { verdict: 'error', error: `filter chain ends in ${term.name ?? 'nothing'}, which the evaluator does not model`, evidence };
  }
  // HTTP connection manager: a non-HTTP client (tcp:// probe) on an HTTP chain never gets a response.
  if (target.scheme === 'tcp') {
    return {
      verdict: 'error',
      error: 'a raw TCP probe reached an HTTP connection manager; the outcome depends on the client bytes',
      evidence,
    };
  }
  const rcName = term.config?.rds?.route_config_name;
  const rc = rcName !== undefined ? snapshot.routes.find((r) => r.name === rcName) : term.config?.route_config;
  evidence.routeConfig = rcName ?? '(inline)';
  if (!rc) return { verdict: 'error', error: `route config ${rcName} missing from the RDS snapshot`, evidence };
  const host = hostHeader(target);
  evidence.hostHeader = host;
  const { vhost, how: vhHow } = selectVirtualHost(rc, host);
  if (!vhost) {
    // Envoy answers 404 (NR) itself; not a policy outcome the suite classifies.
    return { verdict: 'error', error: `no virtual host for ${host} in route config ${rc.name}: Envoy would answer 404`, evidence };
  }
  evidence.virtualHost = vhost.name;
  evidence.virtualHostMatch = vhHow;
  const path = target.path ?? '/';
  const route = (vhost.routes ?? []).find((r) => routeMatches(r.match ?? {}, path));
  if (!route)
    return { verdict: 'error', error: `no route in virtual host ${vhost.name} matches ${path}: Envoy would answer 404`, evidence };
  evidence.route = route.name ?? '(unnamed)';
  if (route.direct_response) {
    const status = Number(route.direct_response.status);
    evidence.directResponse = status;
    if (status === 502) return { verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502', evidence };
    return { verdict: 'error', error: `direct response ${status}`, evidence };
  }
  const cluster = clusterOfAction(route.route);
  if (!cluster) return { verdict: 'error', error: `route ${route.name} has no cluster (redirect or cluster_header)`, evidence };
  evidence.cluster = cluster;
  return verdictForCluster(cluster, evidence, known);
}
