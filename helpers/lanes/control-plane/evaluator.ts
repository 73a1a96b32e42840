// Where would Envoy send this connection? A pure walk over a sidecar's xDS config (as istiod sent it):
// listener (original destination) → filter chain → HCM route or TCP proxy → cluster. The Envoy rules of
// each step are where that step is: listener-select.ts, filter-chain.ts, route-match.ts; the walk past the
// listener is xds-walk.ts, which the hop evaluator shares.
import type { Observation, Scheme } from '../../model/types.ts';
import { clientTls, connectionFacts, selectListener } from './listener-select.ts';
import { hostHeader } from '../../probes/url.ts';
import { walkFromListener } from './xds-walk.ts';
import type { ConfigSnapshot } from './xds-types.ts';

export interface EvalTarget {
  scheme: Scheme;
  host: string;
  port: number;
  isIp: boolean;
  /** The URL's name ended in a dot: the Host header keeps it, SNI drops it (ProbeTarget.absolute). */
  absolute?: true;
  /** Request path for HTTP route matching; `/` when absent. */
  path?: string;
}

/**
 * Evaluates a probe against a sidecar's config. `resolvedAddress` is where the client connects
 * (the IP literal itself, or what DNS — or Istio's DNS proxy — answered for the host).
 */
export function evaluate(snapshot: ConfigSnapshot, target: EvalTarget, resolvedAddress: string): Observation {
  const evidence: Record<string, unknown> = { destination: `${resolvedAddress}:${target.port}` };
  const { listener, how } = selectListener(snapshot.listeners, resolvedAddress, target.port);
  if (!listener) {
    return { verdict: 'error', error: 'no listener for the destination and no virtualOutbound listener in the snapshot', evidence };
  }
  evidence.listener = listener.name;
  evidence.listenerMatch = how;
  const request = { host: hostHeader(target), path: target.path ?? '/' };
  const wire = { ip: resolvedAddress, port: target.port, tls: clientTls(target), ...(target.scheme === 'http' ? { http: request } : {}) };
  return walkFromListener(snapshot, listener, connectionFacts(listener, wire), evidence, {
    // A non-HTTP client (tcp:// probe) on an HTTP chain never gets a response.
    requestAt: () =>
      target.scheme === 'tcp'
        ? { unreadable: 'a raw TCP probe reached an HTTP connection manager; the outcome depends on the client bytes' }
        : request,
  });
}
