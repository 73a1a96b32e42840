// The three answers the fuzzer compares for one probe — the oracle's expectation, the lane's observation
// (the TypeScript evaluator on istiod's xDS) and Istio's simulator on the same xDS — reduced to one shape:
// verdict, cluster, listener and signal, and past the sidecar the hops (proxy, cluster, TLS) where two sides
// followed the call.
import { formatHop } from '../model/hops.ts';
import type { Expectation, Hop, Observation, ProbeTarget } from '../model/types.ts';
import { hostHeader } from '../probes/url.ts';
import { sameHops } from '../report/results.ts';
import { xdsPath } from '../report/xds-path.ts';
import type { SimCall, SimResult } from '../tools/simulator.ts';
import { ALLOW_ANY_DFP_CLUSTER } from './outcome.ts';

/**
 * How the client experiences the call: forwarded to a cluster, an HTTP 502 from the route's catch-all, the
 * connection closed (BlackHoleCluster, no filter chain), no listener for the port (virtualOutbound decides),
 * or `dfp`: the mesh's ALLOW_ANY_DYNAMIC_DNS catch-all (AllowAnyDynamicDNSCluster) took it. A DYNAMIC_DNS
 * entry's own forward-proxy cluster is that entry's cluster, `forwarded`, as the outcome categories count it
 * (its route): the cluster's name alone decides, so the model, which sees no CDS, and the xDS sides read one
 * call alike. `http-503`: an HTTP route to a cluster the sidecar lacks (Envoy's router
 * answers 503 with the NC flag, where a tcp_proxy closes the connection); `http-404`: a gateway no route of which
 * takes the request. Two answers with the same verdict and cluster can still differ here.
 */
export type Signal = 'forwarded' | 'http-502' | 'http-503' | 'http-404' | 'http-local' | 'tcp-close' | 'no-listener' | 'dfp';

export interface Answer {
  verdict: 'allowed' | 'blocked' | 'error';
  cluster?: string;
  listener?: string;
  signal?: Signal;
  /**
   * The call proxy by proxy (sidecar, then each gateway): the model gives them when routing is in play, the
   * lane when it followed the call; the simulator judges the sidecar only and gives none.
   */
  hops?: Hop[];
  /** Why there is no verdict (error), in words. */
  error?: string;
}

const VIRTUAL_OUTBOUND = 'virtualOutbound';

/**
 * The one reading of a signal every side goes through (oracle, lane, simulator, and the corpus when it
 * re-derives stored answers): `blocked` is how that side saw a blocked call end.
 */
export function signalOf(
  verdict: Answer['verdict'],
  listener: string | undefined,
  cluster: string | undefined,
  blocked: Signal | undefined,
): Signal | undefined {
  if (verdict === 'error') return undefined;
  if (listener === VIRTUAL_OUTBOUND) return 'no-listener';
  if (cluster === ALLOW_ANY_DFP_CLUSTER) return 'dfp';
  if (verdict === 'blocked') return blocked ?? 'tcp-close';
  return 'forwarded';
}

export function fromOracle(e: Expectation): Answer {
  return {
    verdict: e.verdict,
    cluster: e.cluster,
    listener: e.listener,
    signal: signalOf(e.verdict, e.listener, e.cluster, e.signal),
    ...(e.hops ? { hops: e.hops } : {}),
  };
}

/**
 * The lane's observation as an answer. (A call routed to a cluster the sidecar does not have is already a
 * blocked call there: the evaluator says so, with Envoy's 503 or close.)
 */
export function fromObservation(o: Observation): Answer {
  const ev = o.evidence as Record<string, unknown>;
  const listener = typeof ev.listener === 'string' ? ev.listener : undefined;
  // A lane that does not say how a blocked call showed itself leaves the signal uncompared.
  const unsaid =
    !listener || (o.verdict === 'blocked' && !o.signal && listener !== VIRTUAL_OUTBOUND && o.cluster !== ALLOW_ANY_DFP_CLUSTER);
  const signal = unsaid ? o.signal : signalOf(o.verdict, listener, o.cluster, o.signal);
  return {
    verdict: o.verdict,
    ...(o.cluster ? { cluster: o.cluster } : {}),
    ...(listener ? { listener } : {}),
    ...(signal ? { signal } : {}),
    ...(o.hops ? { hops: o.hops } : {}),
    ...(o.error ? { error: o.error } : {}),
  };
}

/**
 * The probe as simulation.Call: curl over http is plaintext HTTP/1.1; over https it is TLS with SNI (none
 * for an IP literal, RFC 6066) and ALPN h2/http1.1 (the simulator offers http/1.1 for HTTP over TLS);
 * tcp:// is opaque bytes. `address` is where the lane dialled (its evidence), so both see one destination.
 */
export function simCall(t: ProbeTarget, address: string): SimCall {
  if (t.scheme === 'tcp') return { address, port: t.port, protocol: 'tcp', tls: 'plaintext' };
  if (t.scheme === 'http')
    return { address, port: t.port, protocol: 'http', tls: 'plaintext', hostHeader: hostHeader(t), path: t.path || '/' };
  // An empty SNI would be filled from the Host header by Call.FillDefaults; a placeholder that matches no
  // server name keeps an IP literal SNI-less in effect.
  return {
    address,
    port: t.port,
    protocol: 'http',
    tls: 'tls',
    sni: t.isIp ? 'no-sni.invalid' : t.host,
    hostHeader: hostHeader(t),
    path: t.path || '/',
  };
}

const NO_FILTER_CHAIN = 'no filter chains matched';
// pilot/pkg/simulation/traffic.go ErrNoVirtualHost, ErrNoRoute: where Envoy answers 404 itself (flag NR).
const NOT_FOUND = new Set(['no virtual host matched', 'no route matched']);

/**
 * simulation.Result → answer, by the same reading the evaluator applies to Envoy: BlackHoleCluster and a
 * 502 direct response block; no filter chain means Envoy closes the connection; no virtual host or route is
 * Envoy's own 404; a cluster CDS does not carry fails the call (Simulation.Run does not look it up; Envoy does).
 * Any other simulator error is an error answer, which disagrees with every answer (a TLS or raw-TCP call reaching an HTTP connection manager is
 * one: neither the oracle nor the evaluator model it).
 */
export function fromSimulator(r: SimResult, knownClusters?: ReadonlySet<string>): Answer {
  const listener = r.listener || undefined;
  const at = listener ? { listener } : {};
  if (r.error === NO_FILTER_CHAIN)
    return { verdict: 'blocked', cluster: '(no filter chain)', ...at, signal: signalOf('blocked', listener, undefined, 'tcp-close') };
  if (r.error && NOT_FOUND.has(r.error))
    return { verdict: 'blocked', cluster: '(no route)', ...at, signal: signalOf('blocked', listener, undefined, 'http-404') };
  if (r.error) return { verdict: 'error', ...at, error: `simulator: ${r.error}` };
  if (r.directResponse)
    return r.directResponse === 502
      ? { verdict: 'blocked', cluster: 'BlackHoleCluster', ...at, signal: signalOf('blocked', listener, undefined, 'http-502') }
      : { verdict: 'blocked', cluster: '(direct response)', ...at, signal: signalOf('blocked', listener, undefined, 'http-local') };
  if (!r.cluster) return { verdict: 'error', ...at, error: 'simulator matched no cluster' };
  const blocked = r.cluster === 'BlackHoleCluster' || (knownClusters !== undefined && !knownClusters.has(r.cluster));
  const verdict = blocked ? 'blocked' : 'allowed';
  const miss: Signal = r.cluster !== 'BlackHoleCluster' && r.virtualHost ? 'http-503' : 'tcp-close';
  return { verdict, cluster: r.cluster, ...at, signal: signalOf(verdict, listener, r.cluster, miss) as Signal };
}

/**
 * Two answers agree only when both have a verdict and agree on verdict, cluster, listener, signal and hops. An
 * error on either side is a disagreement, two errors included: an answer nobody could give proves nothing.
 * A listener one side does not report (a lane that saw no xDS) is not compared, nor the signals only a
 * listener tells (no listener, forwarded).
 */
export function sameAnswer(a: Answer, b: Answer): boolean {
  if (a.verdict === 'error' || b.verdict === 'error') return false;
  if (a.verdict !== b.verdict || a.cluster !== b.cluster) return false;
  // Past the first hop: the same proxies, clusters and TLS, in order, where both sides followed the call (as a
  // case's pinned `via` is judged, report/results.ts). A sidecar is the probe's source whatever its Pod's name.
  if (a.hops && b.hops && !sameHops(a.hops, b.hops)) return false;
  if (a.listener !== undefined && b.listener !== undefined) return sameListener(a.listener, b.listener) && sameSignal(a.signal, b.signal);
  // A side that saw no listener (a lane without xDS) can still tell an HTTP status from a closed connection.
  const seen = (x: Signal | undefined) =>
    x === 'http-502' || x === 'http-503' || x === 'http-404' || x === 'http-local' || x === 'tcp-close' ? x : undefined;
  return sameSignal(seen(a.signal), seen(b.signal));
}

/** istiod's auto-allocation range (pilot/pkg/features/pilot.go PILOT_IP_AUTOALLOCATE_IPV4_PREFIX default). */
const AUTO_ALLOCATED = /^240\.240\.\d{1,3}\.\d{1,3}_(\d+)$/;
/** The lane's Pod range (helpers/cluster/kwok/config.ts POD_CIDR, 10.244.0.0/24). */
const POD_ADDRESS = /^10\.244\.0\.\d{1,3}_(\d+)$/;

/**
 * One listener on both sides. A listener on an auto-allocated address is named by its port alone: istiod's
 * allocator hands out the next free address after the last one it gave (pilot/pkg/controllers/ipallocate/
 * ipallocate.go prefixUse.allocateNext), so the value depends on every ServiceEntry the cluster has seen,
 * and the model gives a stand-in (helpers/oracle/expect.ts autoAddress). Which entry owns it is still
 * compared, by the cluster; a listener on any other address, or none, still differs.
 */
function sameListener(a: string, b: string): boolean {
  if (a === b) return true;
  const [pa, pb] = [AUTO_ALLOCATED.exec(a), AUTO_ALLOCATED.exec(b)];
  if (pa !== null && pb !== null) return pa[1] === pb[1];
  // A listener on a selected Pod's address (a resolution-NONE entry's instance, listener.go): the lane's
  // scheduler gives the address, the model a stand-in (helpers/oracle/expect.ts instanceAddresses).
  const [qa, qb] = [POD_ADDRESS.exec(a), POD_ADDRESS.exec(b)];
  return qa !== null && qb !== null && qa[1] === qb[1];
}

function sameSignal(a: Signal | undefined, b: Signal | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

export function describeAnswer(a: Answer): string {
  if (a.verdict === 'error') return `error (${a.error ?? 'no verdict'})`;
  const extra = [a.signal && a.signal !== 'forwarded' ? a.signal : undefined, a.listener ? `at ${a.listener}` : undefined].filter(Boolean);
  const text = `${a.verdict} ${a.cluster ?? ''}${extra.length ? ` [${extra.join(', ')}]` : ''}`.replace(/ +/g, ' ').trim();
  return `${text}${hopsText(a.hops)}`;
}

/**
 * ` via HOP → HOP` when the hops say more than the cluster does (a gateway, or TLS originated), in the pinned
 * form (the sidecar written `sidecar`), so that two answers differing only there read differently.
 */
function hopsText(hops: Hop[] | undefined): string {
  if (!hops || (hops.length < 2 && !hops[0]?.tls)) return '';
  return ` via ${hops.map((h) => formatHop(h, true)).join(' → ')}`;
}

/** The xDS path the lane followed, from where it dialled (helpers/report/xds-path.ts). */
export function lanePath(o: Observation): string {
  return xdsPath(o, { dial: true });
}

export function simPath(r: SimResult): string {
  return [
    r.listener && `listener ${r.listener}`,
    r.filterChain !== undefined && r.listener ? `chain ${r.filterChain || '(unnamed)'}` : undefined,
    r.routeConfig && `route ${r.routeConfig}`,
    r.virtualHost && `virtual host ${r.virtualHost}`,
    r.directResponse && `direct response ${r.directResponse}`,
    r.cluster && `cluster ${r.cluster}`,
    r.error && `error: ${r.error}`,
  ]
    .filter(Boolean)
    .join(' → ');
}
