// Where would Envoy send this connection? A pure walk over a sidecar's xDS config (as istiod sent it):
// listener (original destination) → filter chain → HCM route or TCP proxy → cluster. The Envoy rules of
// each step are where that step is: listener-select.ts, filter-chain.ts, route-match.ts.
import type { Observation, Scheme } from '../../model/types.ts';
import { chainLabel, selectFilterChain, terminalFilter } from './filter-chain.ts';
import { connectionFacts, selectListener } from './listener-select.ts';
import { clusterOfAction, hostHeader, routeMatches, selectVirtualHost } from './route-match.ts';
import type { XdsCluster, XdsListener, XdsRouteConfiguration } from './xds-types.ts';

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
