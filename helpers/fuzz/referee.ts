// The three answers the fuzzer compares for one probe — the oracle's expectation, the lane's observation
// (the TypeScript evaluator on istiod's xDS) and Istio's simulator on the same xDS — reduced to one shape.
import type { Expectation, Observation, ProbeTarget } from '../model/types.ts';
import type { SimCall, SimResult } from '../tools/simulator.ts';

export interface Answer {
  verdict: 'allowed' | 'blocked' | 'error';
  cluster?: string;
  /** Why there is no verdict (error), in words. */
  error?: string;
}

export function fromOracle(e: Expectation): Answer {
  return { verdict: e.verdict, cluster: e.cluster };
}

/** The evaluator's words for a route or tcp_proxy naming a cluster CDS does not carry. */
const MISSING_CLUSTER = /^route points at cluster (\S+), which is not in the CDS snapshot$/;

/**
 * The lane's observation as an answer. A call routed to a cluster the sidecar does not have is, by Envoy's
 * documented behaviour, a call that does not get out (tcp_proxy closes the connection; the router answers
 * 503 with the NC flag): the evaluator reports it as an error it does not classify, the referee reads it as
 * blocked through that cluster.
 */
export function fromObservation(o: Observation): Answer {
  const m = o.verdict === 'error' ? MISSING_CLUSTER.exec(o.error ?? '') : null;
  if (m) return { verdict: 'blocked', cluster: m[1] };
  return { verdict: o.verdict, ...(o.cluster ? { cluster: o.cluster } : {}), ...(o.error ? { error: o.error } : {}) };
}

/** The Host header curl sends (the port only when it is not the scheme's default). */
function hostHeader(t: ProbeTarget): string {
  const dflt = t.scheme === 'https' ? 443 : 80;
  return t.port === dflt ? t.host : `${t.host}:${t.port}`;
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

/**
 * simulation.Result → answer, by the same reading the evaluator applies to Envoy: BlackHoleCluster and a
 * 502 direct response block; no filter chain means Envoy closes the connection (blocked, as the evaluator
 * reports it); a TLS or raw-TCP call reaching an HTTP connection manager is a protocol error Envoy answers
 * by closing, which neither the oracle nor the evaluator model as a verdict.
 */
export function fromSimulator(r: SimResult, knownClusters?: Set<string>): Answer {
  if (r.error === NO_FILTER_CHAIN) return { verdict: 'blocked', cluster: '(no filter chain)' };
  if (r.error) return { verdict: 'error', error: `simulator: ${r.error}` };
  if (r.directResponse)
    return r.directResponse === 502
      ? { verdict: 'blocked', cluster: 'BlackHoleCluster' }
      : { verdict: 'error', error: `direct response ${r.directResponse}` };
  if (!r.cluster) return { verdict: 'error', error: 'simulator matched no cluster' };
  if (r.cluster === 'BlackHoleCluster') return { verdict: 'blocked', cluster: r.cluster };
  // Simulation.Run does not look the cluster up in CDS; Envoy does (see fromObservation).
  if (knownClusters && !knownClusters.has(r.cluster)) return { verdict: 'blocked', cluster: r.cluster };
  return { verdict: 'allowed', cluster: r.cluster };
}

export function sameAnswer(a: Answer, b: Answer): boolean {
  return a.verdict === b.verdict && (a.verdict === 'error' || a.cluster === b.cluster);
}

export function describeAnswer(a: Answer): string {
  return a.verdict === 'error' ? `error (${a.error ?? 'no verdict'})` : `${a.verdict} ${a.cluster ?? ''}`.trim();
}

/** The xDS path the lane followed: listener → chain → route config → virtual host → cluster. */
export function xdsPath(o: Observation): string {
  const e = o.evidence as Record<string, unknown>;
  const parts = [
    e.destination ? `dial ${String(e.destination)}` : undefined,
    e.listener ? `listener ${String(e.listener)}${e.listenerMatch ? ` (${String(e.listenerMatch)})` : ''}` : undefined,
    e.filterChain ? `chain ${String(e.filterChain)}` : undefined,
    e.routeConfig ? `route ${String(e.routeConfig)}` : undefined,
    e.virtualHost ? `virtual host ${String(e.virtualHost)}` : undefined,
    e.directResponse ? `direct response ${String(e.directResponse)}` : undefined,
    e.cluster ? `cluster ${String(e.cluster)}` : o.cluster ? `cluster ${o.cluster}` : undefined,
  ].filter(Boolean);
  return parts.join(' → ');
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
