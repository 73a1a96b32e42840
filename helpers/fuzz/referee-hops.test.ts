// The referee compares the hops past the sidecar (proxy, cluster, TLS) where the model and the lane both
// followed the call: two answers with the same verdict and first cluster differ when the gateway's cluster or
// the TLS a proxy originates differ (fixtures/egress/gateway-mutual.yaml: the sidecar → gateway leg in Istio
// mTLS, the gateway's own cluster out to edition.example.com).
import { describe, expect, it } from 'vitest';
import { loadResourceFiles } from '../istio/load.ts';
import type { Hop, Observation } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { differences } from './disagreement.ts';
import { describeAnswer, fromObservation, fromOracle, sameAnswer } from './referee.ts';

const V = PINNED.controlPlane.istioVersion;
const GW443 = 'outbound|443|edition|istio-egressgateway.istio-system.svc.cluster.local';
const OUT80 = 'outbound|80||edition.example.com';

/** What the control-plane lane reports for a call it followed into the gateway (helpers/lanes/control-plane/gateway-hop.ts). */
function laneFollowed(hops: Hop[]): Observation {
  return {
    verdict: 'allowed',
    cluster: GW443,
    hops,
    evidence: { listener: '0.0.0.0_80', routeConfig: '80', virtualHost: 'edition.example.com:80', cluster: GW443 },
  };
}

const sidecar = (tls?: Hop['tls']): Hop => ({
  kind: 'sidecar',
  proxy: 'default/curl-7c9d', // the lane names the Pod; the model writes `default/sidecar`: not compared
  cluster: GW443,
  listener: '0.0.0.0_80',
  ...(tls ? { tls } : {}),
});
const gateway = (cluster = OUT80): Hop => ({ kind: 'gateway', proxy: 'istio-system/istio-egressgateway', cluster });
const MUTUAL = { mode: 'ISTIO_MUTUAL' as const, sni: 'edition.example.com' };

describe('referee hops', () => {
  const resources = loadResourceFiles(['fixtures/egress/edition-se.yaml', 'fixtures/egress/gateway-mutual.yaml']);
  const probe = { from: { namespace: 'default' }, to: parseProbeUrl('http://edition.example.com/', 'test') };
  const oracle = expectProbe(resources, probe, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it('agree when proxies, clusters and TLS match hop by hop (the sidecar whatever its Pod is called)', () => {
    expect(oracle.hops?.map((h) => h.cluster)).toEqual([GW443, OUT80]);
    const lane = laneFollowed([sidecar(MUTUAL), gateway()]);
    expect(differences({ oracle, lane })).toEqual([]);
  });

  it("differ when the gateway's cluster differs, though verdict and first cluster agree", () => {
    const lane = laneFollowed([sidecar(MUTUAL), gateway('outbound|443||edition.example.com')]);
    expect(sameAnswer(fromOracle(oracle), fromObservation(lane))).toBe(false);
    const [d] = differences({ oracle, lane });
    expect(d).toMatch(
      /via sidecar .* → istio-system\/istio-egressgateway outbound\|80\|\|edition\.example\.com ≠ lane .*outbound\|443\|\|edition/,
    );
  });

  it('differ when the TLS a hop originates differs (no ISTIO_MUTUAL on the sidecar → gateway leg)', () => {
    const lane = laneFollowed([sidecar(), gateway()]);
    expect(differences({ oracle, lane })).toHaveLength(1);
    const sniOnly = laneFollowed([sidecar({ mode: 'ISTIO_MUTUAL', sni: 'outbound_.443_.edition_.edition.example.com' }), gateway()]);
    expect(differences({ oracle, lane: sniOnly })).toHaveLength(1);
  });

  it('differ when one side stops at the sidecar and the other goes through the gateway', () => {
    const lane = laneFollowed([sidecar(MUTUAL)]);
    expect(sameAnswer(fromOracle(oracle), fromObservation(lane))).toBe(false);
  });

  it("hold the simulator, which reads the sidecar's xDS alone, to the sidecar's part of a call followed further (fuzz seed 11 path 10)", () => {
    const simulator = { listener: '0.0.0.0_80', routeConfig: '80', virtualHost: 'edition.example.com:80', cluster: GW443 };
    const simulatorClusters = new Set([GW443]);
    const through = laneFollowed([sidecar(MUTUAL), gateway()]);
    expect(differences({ oracle, lane: through, simulator, simulatorClusters })).toEqual([]);
    // The gateway refused the call: the lane and the simulator still agree on what the sidecar did.
    const refused: Observation = { ...laneFollowed([sidecar(MUTUAL), gateway('(none)')]), verdict: 'blocked', signal: 'http-503' };
    expect(differences({ oracle, lane: refused, simulator, simulatorClusters })).toEqual([
      expect.stringMatching(/^oracle allowed .* ≠ lane blocked .*http-503/),
    ]);
    // A sidecar that chose another cluster is still a disagreement with the simulator.
    const other = { ...simulator, cluster: 'outbound|80||edition.example.com' };
    expect(differences({ oracle, lane: through, simulator: other, simulatorClusters: new Set([other.cluster]) })).toHaveLength(2);
  });

  it('leave hops uncompared when one side did not follow the call', () => {
    const { hops: _, ...firstOnly } = laneFollowed([]);
    expect(differences({ oracle, lane: firstOnly })).toEqual([]);
    expect(describeAnswer(fromObservation(firstOnly))).not.toMatch(/via/);
    expect(describeAnswer(fromOracle(oracle))).toMatch(/via sidecar .* tls:ISTIO_MUTUAL:edition\.example\.com → istio-system/);
  });
});
