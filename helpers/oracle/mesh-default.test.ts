// The mesh-wide default, checked on the real istiod: with no outboundTrafficPolicy istiod is ALLOW_ANY;
// with `outboundTrafficPolicy: {}` (present, no mode) it is REGISTRY_ONLY, the enum's zero value.
// istiod reads the mesh from ConfigMap istio on the lane's real API server.
// The oracle must say the same for an IstioOperator written either way.
import { describe, expect, it } from 'vitest';
import pRetry from 'p-retry';
import { afterAll } from 'vitest';
import { ClientNodeK8s } from '../k8s/client.ts';
import { writeMeshConfig } from '../k8s/istio.ts';
import { ControlPlaneLane } from '../lanes/control-plane/lane.ts';
import { isTcpProxy } from '../lanes/control-plane/xds-types.ts';
import { PROBE_IDENTITY } from '../lanes/control-plane/istiod.ts';
import { markerMillis, markerOf, markerTimeout } from '../k8s/marker.ts';
import { controlPlaneMissing } from '../lanes/control-plane/requirements.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { expectProbe } from './index.ts';

const runnable = !controlPlaneMissing();
let lane: ControlPlaneLane | undefined;
let generation = 1000;

/** Writes ConfigMap istio's mesh as given (plus a marker) and reads the catch-all cluster istiod then pushes. */
async function istiodCatchAll(mesh: Record<string, unknown>): Promise<string> {
  if (!lane) {
    lane = new ControlPlaneLane();
    await lane.setup();
  }
  const gen = ++generation;
  await writeMeshConfig(new ClientNodeK8s(lane.apiServer!.kubeconfigFile), { ...mesh, connectTimeout: markerTimeout(gen) });
  const istiod = lane.istiodProcess!;
  return pRetry(
    async () => {
      const snap = await istiod.snapshot(PROBE_IDENTITY(PINNED_PILOT.istioVersion), { timeoutMs: 10_000 });
      if (markerOf(snap.clusters.find((c) => c.name === 'PassthroughCluster')) !== markerMillis(gen))
        throw new Error('mesh not pushed yet');
      const vo = snap.listeners.find((l) => l.name === 'virtualOutbound');
      const chain = vo?.filter_chains?.find((c: { name?: string }) => c.name === 'virtualOutbound-catchall-tcp');
      const tc = chain?.filters?.[0]?.typed_config;
      return String((isTcpProxy(tc) ? tc.cluster : undefined) ?? 'not found');
    },
    { retries: 200, minTimeout: 20, maxTimeout: 200, maxRetryTime: 20_000 },
  );
}

afterAll(async () => {
  await lane?.teardown();
});

function oracleCatchAll(meshConfigYaml: string): string {
  const r = loadYamlText(
    `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  meshConfig: ${meshConfigYaml}\n`,
    'iop.yaml',
    emptyResources(),
  );
  return expectProbe(
    r,
    { from: { namespace: 'default' }, to: parseProbeUrl('tcp://x.example.com:7000') },
    { istioVersion: PINNED_PILOT.istioVersion },
  ).cluster;
}

describe('mesh default policy', () => {
  it('oracle: no outboundTrafficPolicy is ALLOW_ANY; present without mode is REGISTRY_ONLY', () => {
    expect(oracleCatchAll('{}')).toBe('PassthroughCluster');
    expect(oracleCatchAll('{outboundTrafficPolicy: {}}')).toBe('BlackHoleCluster');
    expect(oracleCatchAll('{outboundTrafficPolicy: {mode: ALLOW_ANY}}')).toBe('PassthroughCluster');
  });

  it.skipIf(!runnable)(
    'istiod agrees (mesh written to ConfigMap istio as given)',
    async () => {
      expect(await istiodCatchAll({})).toBe('PassthroughCluster');
      expect(await istiodCatchAll({ outboundTrafficPolicy: {} })).toBe('BlackHoleCluster');
      // A stack start and two pushes: a minute was not enough on a loaded 2-core machine.
    },
    180_000,
  );
});
