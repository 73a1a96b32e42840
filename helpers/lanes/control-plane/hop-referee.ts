// Istio's simulator as referee of each hop: the call a proxy receives, as simulation.Call, run on that proxy's
// own xDS. A gateway receives what the sidecar sent it (Arrival): Istio mTLS is the simulator's `mtls`
// (its listener check requiresMTLS, pilot/pkg/simulation/traffic.go), other TLS `tls`, with the SNI sent.
import type { SimCall, SimResult, Simulator } from '../../tools/simulator.ts';
import type { XdsSnapshot } from './xds-types.ts';
import type { Arrival } from './hop-eval.ts';

export function arrivalCall(a: Arrival): SimCall {
  const tls: SimCall['tls'] = !a.tls ? 'plaintext' : a.tls.by === 'proxy' && a.tls.mutual ? 'mtls' : 'tls';
  return {
    address: a.ip,
    port: a.port,
    protocol: a.http ? 'http' : 'tcp',
    tls,
    // An empty SNI would be filled from the Host header by Call.FillDefaults.
    ...(a.tls ? { sni: a.tls.sni ?? 'no-sni.invalid' } : {}),
    ...(a.http ? { hostHeader: a.http.host, path: a.http.path } : {}),
  };
}

export interface HopVerdict {
  cluster?: string;
  /** The simulator's own words when it matched no cluster. */
  error?: string;
  result: SimResult;
}

/** The simulator's cluster for a call on a proxy's snapshot. */
export async function simulateHop(sim: Simulator, snapshot: XdsSnapshot, call: SimCall): Promise<HopVerdict> {
  const { results } = await sim.run(snapshot, [call]);
  const r = results[0] ?? {};
  return { ...(r.cluster ? { cluster: r.cluster } : {}), ...(r.error ? { error: r.error } : {}), result: r };
}
