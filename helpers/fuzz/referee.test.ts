// The referee reads every side's answer through one signalOf, so a call means the same to the model (no CDS),
// the lane (istiod's xDS) and the simulator. The case that once split them: a DYNAMIC_DNS entry's own
// dynamic-forward-proxy cluster, which the xDS sides called `dfp` from its CDS type while the model said
// `forwarded` (corpus master-2026-08-27 s1-8, s3-2, s8-2, …: 14 probes, all listed as model disagreements).
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import type { Observation } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { differences } from './disagreement.ts';
import { categoryOfExpectation, categoryOfObservation } from './outcome.ts';
import { fromObservation, fromOracle, fromSimulator, sameAnswer, signalOf } from './referee.ts';

const V = PINNED.controlPlane.istioVersion;
const DFP_TYPE = { name: 'envoy.clusters.dynamic_forward_proxy' };

/** What the lane's evaluator reports for an HTTP call routed through a virtual host, with the CDS it saw. */
function laneSaw(cluster: string, port: number, virtualHost: string): Observation {
  return {
    verdict: 'allowed',
    cluster,
    evidence: { listener: `0.0.0.0_${port}`, listenerMatch: 'wildcard', routeConfig: String(port), virtualHost, cluster },
    xds: {
      snapshot: { listeners: [], routes: [], clusters: [{ name: cluster, cluster_type: DFP_TYPE }] },
      address: '203.0.113.94',
      resolvedBy: 'external-dns',
    },
  };
}

describe('referee signal', () => {
  it("a DYNAMIC_DNS entry's own forward-proxy cluster is `forwarded` on every side; `dfp` is the mesh's catch-all", () => {
    const entry = loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend}
spec: {hosts: ["*.example.org"], ports: [{number: 80, name: p80, protocol: HTTP}], resolution: DYNAMIC_DNS}
`,
      'dfp.yaml',
      emptyResources(),
    );
    const probe = { from: { namespace: 'frontend' }, to: parseProbeUrl('http://deep.w.example.org:80/') };
    const oracle = expectProbe(entry, probe, { istioVersion: V, policy: 'REGISTRY_ONLY' });
    expect(oracle.cluster).toBe('outbound|80||*.example.org');
    const lane = laneSaw('outbound|80||*.example.org', 80, '*.example.org:80');
    const simulator = { listener: '0.0.0.0_80', routeConfig: '80', virtualHost: '*.example.org:80', cluster: 'outbound|80||*.example.org' };
    const simulatorClusters = new Set(['outbound|80||*.example.org']);
    for (const a of [fromOracle(oracle), fromObservation(lane), fromSimulator(simulator, simulatorClusters)])
      expect(a.signal).toBe('forwarded');
    // With the CDS type deciding (as before), the xDS sides said `dfp` and all three answers disagreed with the model.
    expect(differences({ oracle, lane, simulator, simulatorClusters })).toEqual([]);
    expect([categoryOfObservation(lane), categoryOfExpectation(oracle)]).toEqual(['route', 'route']);

    // The mesh's ALLOW_ANY_DYNAMIC_DNS catch-all is `dfp` on every side, and never `forwarded`.
    const anyProbe = { from: { namespace: 'frontend' }, to: parseProbeUrl('http://unknown.example.net:80/') };
    const anyOracle = expectProbe(entry, anyProbe, { istioVersion: V, policy: 'ALLOW_ANY_DYNAMIC_DNS' });
    expect(anyOracle.cluster).toBe('AllowAnyDynamicDNSCluster');
    const anyLane = laneSaw('AllowAnyDynamicDNSCluster', 80, 'allow_any');
    const anySim = { listener: '0.0.0.0_80', routeConfig: '80', virtualHost: 'allow_any', cluster: 'AllowAnyDynamicDNSCluster' };
    for (const a of [fromOracle(anyOracle), fromObservation(anyLane), fromSimulator(anySim)]) expect(a.signal).toBe('dfp');
    expect(categoryOfObservation(anyLane)).toBe('dfp');
  });

  it('is one function of verdict, listener, cluster and how a blocked call ended', () => {
    expect(signalOf('allowed', 'virtualOutbound', 'PassthroughCluster', undefined)).toBe('no-listener');
    expect(signalOf('allowed', '0.0.0.0_80', 'outbound|80||*.example.org', undefined)).toBe('forwarded');
    expect(signalOf('allowed', '0.0.0.0_80', 'AllowAnyDynamicDNSCluster', undefined)).toBe('dfp');
    expect(signalOf('blocked', '0.0.0.0_80', 'BlackHoleCluster', 'http-502')).toBe('http-502');
    expect(signalOf('blocked', '0.0.0.0_80', 'BlackHoleCluster', undefined)).toBe('tcp-close');
    expect(signalOf('error', '0.0.0.0_80', undefined, undefined)).toBeUndefined();
  });
});

describe('referee listener', () => {
  it("names an auto-allocated address's listener by its port: the address is istiod's history, not a rule (corpus s1-9#3, s5-6#0)", () => {
    const at = (listener: string, cluster = 'outbound|8080||x.wild.example.com') => ({
      verdict: 'allowed' as const,
      cluster,
      listener,
      signal: 'forwarded' as const,
    });
    // The model's stand-in 240.240.1.1 against the address istiod's allocator gave after 16 earlier entries.
    expect(sameAnswer(at('240.240.1.1_8080'), at('240.240.0.17_8080'))).toBe(true);
    // Another port, another owner, or an address outside the range still differ.
    expect(sameAnswer(at('240.240.1.1_8080'), at('240.240.0.17_9000'))).toBe(false);
    expect(sameAnswer(at('240.240.1.1_8080'), at('240.240.0.17_8080', 'outbound|8080||api.example.net'))).toBe(false);
    expect(sameAnswer(at('240.240.1.1_8080'), at('0.0.0.0_8080'))).toBe(false);
    expect(sameAnswer(at('192.0.2.10_8080'), at('192.0.2.11_8080'))).toBe(false);
  });

  it("names a selected Pod's address listener by its port: the lane's scheduler gives the address (corpus s88-4#0, s83-10#0)", () => {
    const at = (listener: string, cluster = 'outbound|9000||*.example.org') => ({ verdict: 'allowed' as const, cluster, listener });
    // The model's stand-in against the address the kwok Pod got (helpers/cluster/kwok/config.ts POD_CIDR).
    expect(sameAnswer(at('10.244.0.200_9000'), at('10.244.0.12_9000'))).toBe(true);
    expect(sameAnswer(at('10.244.0.200_9000'), at('10.244.0.12_8080'))).toBe(false);
    expect(sameAnswer(at('10.244.0.200_9000'), at('10.244.0.12_9000', 'outbound|9000||a.example.com'))).toBe(false);
    expect(sameAnswer(at('10.244.0.200_9000'), at('240.240.0.12_9000'))).toBe(false);
  });
});

describe("the simulator's no virtual host or route", () => {
  it("is Envoy's own 404: blocked, as the evaluator reads it (pilot/pkg/simulation/traffic.go ErrNoVirtualHost, ErrNoRoute)", () => {
    for (const error of ['no virtual host matched', 'no route matched'])
      expect(fromSimulator({ listener: '198.51.100.7_5432', error } as Parameters<typeof fromSimulator>[0])).toMatchObject({
        verdict: 'blocked',
        cluster: '(no route)',
        signal: 'http-404',
      });
    expect(fromSimulator({ listener: '0.0.0.0_80', error: 'something else' } as Parameters<typeof fromSimulator>[0]).verdict).toBe('error');
  });
});
