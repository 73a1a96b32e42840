// The kind lane's second hop: the egress gateway's own access log. When the client sidecar's line names a
// cluster of the gateway's Service (`outbound|PORT|SUBSET|istio-egressgateway.istio-system.svc.cluster.local`),
// the call is looked up again in the gateway Pod's istio-proxy log (same TEXT format, access-log.ts): its line
// is the one whose :authority is the probe's Host (HTTP, also inside the sidecar's mTLS, which the gateway
// terminates) or whose REQUESTED_SERVER_NAME is the SNI the gateway was reached with (TLS passthrough, or the
// SNI a DestinationRule set on the sidecar's leg). That line's UPSTREAM_CLUSTER_RAW is the gateway's choice.
// What TLS the gateway originates is not in its access log; the hop carries it only when the caller knows it.
import { type AccessLogEntry, clusterOf } from './probes/access-log.ts';
import type { Hop, Observation, ProbeTarget } from '../../model/types.ts';

const GATEWAY_CLUSTER = /^outbound\|\d+\|[^|]*\|([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/;

/** The gateway workload (`NAMESPACE/APP`) a sidecar cluster sends to, when it is one of `gateways`. */
export function gatewayOfCluster(cluster: string | undefined, gateways: readonly string[]): string | undefined {
  const m = cluster ? GATEWAY_CLUSTER.exec(cluster) : null;
  if (!m) return undefined;
  const workload = `${m[2]}/${m[1]}`;
  return gateways.includes(workload) ? workload : undefined;
}

function hostOf(target: ProbeTarget): string {
  const dflt = target.scheme === 'https' ? 443 : 80;
  return target.port === dflt ? target.host : `${target.host}:${target.port}`;
}

export interface GatewayReading {
  hop?: Hop;
  lines: string[];
  problem?: string;
  /** The gateway answered the request itself with Envoy's 404: no route of it took the request. */
  noRoute?: boolean;
}

/**
 * Envoy's own 404 for a request no route takes: response flag NR, details route_not_found, no upstream (Envoy's
 * StreamInfo response flags). istiod gives a gateway server nothing routes the virtual host blackhole:PORT
 * without routes (gateway.go), so every request to it ends so. A server's 404 has a cluster and via_upstream.
 */
function isNoRoute(e: AccessLogEntry): boolean {
  return e.responseCode === 404 && (e.responseFlags.split(',').includes('NR') || e.responseCodeDetails === 'route_not_found');
}

/** The gateway's line(s) for a probe, among the entries it logged since the probe started. */
export function gatewayHop(entries: AccessLogEntry[], workload: string, target: ProbeTarget, sni?: string): GatewayReading {
  const host = hostOf(target);
  // HTTP is read by its :authority (also inside the sidecar's mTLS, which the gateway terminates); anything
  // else by the SNI the gateway was reached with.
  const mine = entries.filter((e) =>
    target.scheme === 'http' ? e.authority === host || e.authority === target.host : e.requestedServerName === (sni ?? target.host),
  );
  const lines = mine.map((e) => e.line);
  const clusters = [...new Set(mine.map((e) => clusterOf(e) ?? `(none: route ${e.routeName}, ${e.responseCodeDetails})`))];
  if (mine.length === 0) return { lines, problem: `no line for ${host} in the access log of gateway ${workload}` };
  if (clusters.length > 1) return { lines, problem: `gateway ${workload} lines for ${host} disagree: ${clusters.join(', ')}` };
  const cluster = clusterOf(mine[0]!);
  if (!cluster && mine.every(isNoRoute)) return { hop: { kind: 'gateway', proxy: workload, cluster: '(no route)' }, lines, noRoute: true };
  if (!cluster)
    return { lines, problem: `gateway ${workload} answered ${mine[0]!.responseCode} (${mine[0]!.responseCodeDetails}) without a cluster` };
  return { hop: { kind: 'gateway', proxy: workload, cluster }, lines };
}

/**
 * The sidecar's observation with its hops: the sidecar's own, then the gateway's when the sidecar sent the
 * call there. A gateway line that is missing makes the probe an error (the call did not reach the gateway, or
 * it did not log it), never a pass.
 */
export function withGatewayHop(
  first: Observation,
  sidecarProxy: string,
  gatewayEntries: (workload: string) => AccessLogEntry[],
  gateways: readonly string[],
  target: ProbeTarget,
  sni?: string,
): Observation {
  if (!first.cluster) return first;
  const hops: Hop[] = [{ kind: 'sidecar', proxy: sidecarProxy, cluster: first.cluster }];
  const gw = gatewayOfCluster(first.cluster, gateways);
  // A 404 the client classified as the gateway's own is followed too: the gateway's line must confirm it.
  const gatewayOwn404 = first.verdict === 'blocked' && first.signal === 'http-404';
  if (!gw || (first.verdict !== 'allowed' && !gatewayOwn404)) return { ...first, hops };
  const reading = gatewayHop(gatewayEntries(gw), gw, target, sni);
  const evidence = { ...first.evidence, gatewayAccessLog: reading.lines };
  if (!reading.hop) return { ...first, hops, verdict: 'error', error: reading.problem, evidence };
  if (reading.noRoute || gatewayOwn404) {
    // The client saw a 404 (as istio-envoy's, or relayed by its sidecar as envoy's) and the gateway logged its own
    // NR 404 for it: blocked at the gateway, as the model says (oracle/gateway-hop.ts). Any other pairing is no verdict.
    if (reading.noRoute && first.evidence.status === 404) {
      const { error: _e, ...rest } = first;
      return { ...rest, verdict: 'blocked', signal: 'http-404', hops: [...hops, reading.hop], evidence };
    }
    const error = reading.noRoute
      ? `gateway ${gw} logged a 404 of its own (NR), but the client saw HTTP ${String(first.evidence.status ?? '(none)')}`
      : `the client saw the gateway's own 404, but gateway ${gw} logged the call to ${reading.hop.cluster}`;
    return { ...first, hops, verdict: 'error', error, evidence };
  }
  const blocked = reading.hop.cluster === 'BlackHoleCluster';
  return {
    ...first,
    ...(blocked ? { verdict: 'blocked' as const, signal: 'http-502' as const } : {}),
    hops: [...hops, reading.hop],
    evidence,
  };
}
