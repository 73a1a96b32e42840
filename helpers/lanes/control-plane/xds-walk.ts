// The part of a walk through one proxy's xDS that the sidecar evaluator (the call as the client makes it)
// and the hop evaluator (the call as the previous proxy sends it) share: from the listener that took the
// connection, through its filter chain and, for HTTP, its route, to the verdict at the cluster. Each step
// writes what it found into the evidence, in the order the steps are taken.
import type { Observation } from '../../model/types.ts';
import { chainLabel, selectFilterChain, terminalFilter } from './filter-chain.ts';
import type { ConnectionFacts } from './listener-select.ts';
import { clusterOfAction, routeFacts, routeMatches, selectVirtualHost } from './route-match.ts';
import type { ConfigSnapshot, HttpConnectionManager, XdsFilterChain, XdsListener } from './xds-types.ts';

export interface WalkOptions {
  /**
   * What an HTTP connection manager on the chain would read: the request, or why it reads none. Asked once
   * the chain is picked, whatever the chain ends in, so it may note what it sees of the chain in the evidence.
   */
  requestAt: (chain: XdsFilterChain) => { host: string; path: string } | { unreadable: string; closes?: boolean };
  /** Why the chosen chain's TLS handshake fails for this connection, if it does (then the connection is closed). */
  handshakeFails?: (chain: XdsFilterChain) => string | undefined;
  /** Also note the chosen route's timeout and retries (routeFacts). */
  routeFacts?: boolean;
}

/** Where the proxy of `snapshot` sends a connection that `listener` took, seen as `facts`. */
export function walkFromListener(
  snapshot: ConfigSnapshot,
  listener: XdsListener,
  facts: ConnectionFacts,
  evidence: Record<string, unknown>,
  opts: WalkOptions,
): Observation {
  const known = new Set(snapshot.clusters.flatMap((c) => (c.name === undefined ? [] : [c.name])));
  evidence.connection = facts;
  const pick = selectFilterChain(listener, facts);
  evidence.filterChainSteps = pick.steps;
  if (!pick.chain) {
    // Envoy closes a connection no filter chain accepts.
    evidence.filterChain = '(none)';
    return { verdict: 'blocked', signal: 'tcp-close', cluster: '(no filter chain)', evidence };
  }
  evidence.filterChain = chainLabel(pick.chain, listener, pick.usedDefault);
  const handshake = opts.handshakeFails?.(pick.chain);
  if (handshake) {
    evidence.handshake = handshake;
    return { verdict: 'blocked', signal: 'tcp-close', cluster: '(handshake failed)', evidence };
  }
  const request = opts.requestAt(pick.chain);
  const term = terminalFilter(pick.chain);
  evidence.filter = term.name;
  if (term.kind === 'tcp') {
    const cluster = clusterOfAction(term.config);
    if (!cluster) return { verdict: 'error', error: 'tcp_proxy without a cluster', evidence };
    return verdictForCluster(cluster, evidence, known);
  }
  if (term.kind === 'other') {
    return { verdict: 'error', error: `filter chain ends in ${term.name ?? 'nothing'}, which the evaluator does not model`, evidence };
  }
  if ('unreadable' in request) {
    if (!request.closes) return { verdict: 'error', error: request.unreadable, evidence };
    evidence.protocolError = request.unreadable;
    return { verdict: 'blocked', signal: 'tcp-close', cluster: '(protocol error)', evidence };
  }
  return routeRequest(snapshot, term.config, request, evidence, known, opts);
}

/** envoy.config.route.v3.RedirectAction.RedirectResponseCode, as the decoder spells it. */
const REDIRECT_STATUS: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/** An HTTP connection manager's answer to a request: route config → virtual host → route → cluster. */
function routeRequest(
  snapshot: ConfigSnapshot,
  hcm: HttpConnectionManager | undefined,
  request: { host: string; path: string },
  evidence: Record<string, unknown>,
  known: Set<string>,
  opts: WalkOptions,
): Observation {
  // Envoy's own 404 (no virtual host or route, flag NR) stops the call where it is. At a gateway istiod gives a
  // server no VirtualService routes a virtual host `blackhole:PORT` with no routes ("Empty route list will cause
  // Envoy to 404 NR any requests", pilot/pkg/networking/core/gateway.go buildGatewayHTTPRouteConfig); at a
  // sidecar a route config of one service's address listener has that service's virtual host only, without the
  // catch-all of the 0.0.0.0 routes (corpus master-2026-08-27 s230-165#9).
  const notFound = (error: string): Observation => {
    evidence.notFound = error;
    return { verdict: 'blocked', cluster: '(no route)', signal: 'http-404', evidence };
  };
  const rcName = hcm?.rds?.route_config_name;
  const rc = rcName !== undefined ? snapshot.routes.find((r) => r.name === rcName) : hcm?.route_config;
  evidence.routeConfig = rcName ?? '(inline)';
  if (!rc) return { verdict: 'error', error: `route config ${rcName} missing from the RDS snapshot`, evidence };
  evidence.hostHeader = request.host;
  const { vhost, how } = selectVirtualHost(rc, request.host);
  if (!vhost) {
    // Envoy answers 404 (NR) itself.
    return notFound(`no virtual host for ${request.host} in route config ${rc.name}: Envoy would answer 404`);
  }
  evidence.virtualHost = vhost.name;
  evidence.virtualHostMatch = how;
  const route = (vhost.routes ?? []).find((r) => routeMatches(r.match ?? {}, request));
  if (!route) return notFound(`no route in virtual host ${vhost.name} matches ${request.path}: Envoy would answer 404`);
  evidence.route = route.name ?? '(unnamed)';
  if (opts.routeFacts) {
    const facts = routeFacts(route.route);
    if (facts.length) evidence.routeFacts = facts;
  }
  // A route that answers itself: nothing leaves the proxy. A 502 is what the blocking catch-all answers, and a
  // client cannot tell the two apart.
  if (route.direct_response) {
    const status = Number(route.direct_response.status);
    evidence.directResponse = status;
    if (status === 502) return { verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502', evidence };
    return { verdict: 'blocked', cluster: '(direct response)', signal: 'http-local', evidence };
  }
  if (route.redirect) {
    // RedirectAction.response_code: MOVED_PERMANENTLY (301) unless set.
    const code = route.redirect.response_code;
    evidence.redirect = { ...route.redirect, status: REDIRECT_STATUS[String(code ?? 'MOVED_PERMANENTLY')] ?? code };
    return { verdict: 'blocked', cluster: '(redirect)', signal: 'http-local', evidence };
  }
  const cluster = clusterOfAction(route.route);
  if (!cluster) return { verdict: 'error', error: `route ${route.name} names no cluster (cluster_header is not followed)`, evidence };
  return verdictForCluster(cluster, evidence, known);
}

/**
 * The call's fate at the cluster a route or tcp_proxy chose. A cluster the proxy was not sent is a call that
 * does not get out: the router answers 503 (cluster_not_found_response_code, flag NC), tcp_proxy closes.
 */
function verdictForCluster(cluster: string, evidence: Record<string, unknown>, known: Set<string>): Observation {
  evidence.cluster = cluster;
  if (cluster === 'BlackHoleCluster') return { verdict: 'blocked', cluster, signal: 'tcp-close', evidence };
  if (!known.has(cluster)) {
    evidence.clusterNotFound = `route points at cluster ${cluster}, which is not in the CDS snapshot`;
    return { verdict: 'blocked', cluster, signal: evidence.virtualHost ? 'http-503' : 'tcp-close', evidence };
  }
  return { verdict: 'allowed', cluster, evidence };
}
