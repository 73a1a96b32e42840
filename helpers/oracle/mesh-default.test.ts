// The mesh-wide default, checked on the real istiod: with no outboundTrafficPolicy istiod is ALLOW_ANY;
// with `outboundTrafficPolicy: {}` (present, no mode) it is REGISTRY_ONLY, the enum's zero value.
// The oracle must say the same for an IstioOperator written either way.
import { describe, expect, it } from 'vitest';
import { Istiod, PROBE_IDENTITY } from '../lanes/control-plane/istiod.ts';
import { findPilotDiscoverySync, PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { expectProbe } from './index.ts';

const binary = findPilotDiscoverySync();

async function istiodCatchAll(mesh: Record<string, unknown>): Promise<string> {
  const i = await Istiod.start({ binary: binary!, istioVersion: PINNED_PILOT.istioVersion, namespaces: ['istio-system', 'default'], mesh: { ingressControllerMode: 'OFF', ...mesh } });
  try {
    const snap = await i.snapshot(PROBE_IDENTITY(PINNED_PILOT.istioVersion), { timeoutMs: 10_000 });
    const vo = snap.listeners.find((l) => l.name === 'virtualOutbound');
    const chain = vo?.filter_chains?.find((c: { name?: string }) => c.name === 'virtualOutbound-catchall-tcp');
    return chain?.filters?.[0]?.typed_config?.cluster ?? 'not found';
  } finally {
    await i.stop();
  }
}

function oracleCatchAll(meshConfigYaml: string): string {
  const r = loadYamlText(`apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  meshConfig: ${meshConfigYaml}\n`, 'iop.yaml', emptyResources());
  return expectProbe(r, { from: { namespace: 'default' }, to: parseProbeUrl('tcp://x.example.com:7000') }, { istioVersion: PINNED_PILOT.istioVersion }).cluster;
}

describe('mesh default policy', () => {
  it('oracle: no outboundTrafficPolicy is ALLOW_ANY; present without mode is REGISTRY_ONLY', () => {
    expect(oracleCatchAll('{}')).toBe('PassthroughCluster');
    expect(oracleCatchAll('{outboundTrafficPolicy: {}}')).toBe('BlackHoleCluster');
    expect(oracleCatchAll('{outboundTrafficPolicy: {mode: ALLOW_ANY}}')).toBe('PassthroughCluster');
  });

  it.skipIf(!binary)('istiod agrees', async () => {
    expect(await istiodCatchAll({})).toBe('PassthroughCluster');
    expect(await istiodCatchAll({ outboundTrafficPolicy: {} })).toBe('BlackHoleCluster');
  });
});
