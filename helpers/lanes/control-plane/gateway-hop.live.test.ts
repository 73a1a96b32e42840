// The gateway hop on the real stack: the catalogue's gateway, TLS-origination and routing scenarios applied
// on the control-plane lane (kwok cluster, istioctl install with the egress gateway, the pinned istiod); each
// probe that pins a path is observed hop by hop, and Istio's simulator, run on each proxy's own xDS with the
// call that proxy receives, must pick the same cluster at every hop. Skipped, with the reason, when a pinned
// binary is not built.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../catalogue/load.ts';
import { ClientNodeK8s } from '../../k8s/client.ts';
import { formatHop } from '../../model/hops.ts';
import { findSimulatorSync, Simulator } from '../../tools/simulator.ts';
import { PINNED_PILOT } from '../../tools/pilot-discovery.ts';
import { findPilotDiscoverySync } from '../../tools/pilot-locate.ts';
import { hostHeader } from '../../probes/url.ts';
import { GatewayHop } from './gateway-hop.ts';
import type { Arrival } from './hop-eval.ts';
import { arrivalCall, simulateHop } from './hop-referee.ts';
import { ControlPlaneLane } from './lane.ts';
import { controlPlaneMissing } from './requirements.ts';

const missing =
  controlPlaneMissing() ??
  (findSimulatorSync() ? undefined : "Istio's simulator is not built (egress-conformance tools install simulator)");
const scenarios = loadCatalogue().filter((s) => s.probes.some((p) => p.via));

describe.skipIf(!!missing)(`gateway hops on the real istiod${missing ? ` — skipped: ${missing}` : ''}`, () => {
  const lane = new ControlPlaneLane({ binary: findPilotDiscoverySync() });
  let sim: Simulator;
  let gateways: GatewayHop;

  beforeAll(async () => {
    await lane.setup();
    sim = new Simulator(findSimulatorSync()!);
    gateways = new GatewayHop(new ClientNodeK8s(lane.apiServer!.kubeconfigFile), lane.istiodProcess!, PINNED_PILOT.istioVersion);
  }, 600_000);
  afterAll(async () => {
    await sim?.close();
    await lane.teardown();
  });

  for (const s of scenarios) {
    it(`${s.name}: every pinned path, hop by hop, with the simulator agreeing on each hop`, async () => {
      const h = await lane.applyScenario(s.name, 'REGISTRY_ONLY', s.resources);
      gateways.reset();
      for (const p of s.probes.filter((x) => x.via?.REGISTRY_ONLY)) {
        const o = await lane.observe(h, p);
        const label = `${p.from.namespace} → ${p.to.raw}`;
        expect(
          (o.hops ?? []).map((x) => formatHop(x, true)),
          label,
        ).toEqual(p.via!.REGISTRY_ONLY!.map((x) => formatHop({ kind: x.proxy === 'sidecar' ? 'sidecar' : 'gateway', ...x }, true)));
        const { snapshot } = await lane.snapshotFor(p);
        const dialled = String(o.evidence.destination ?? '').replace(/:\d+$/, '');
        const t = p.to;
        const first = await simulateHop(sim, snapshot, {
          address: dialled,
          port: t.port,
          protocol: t.scheme === 'tcp' ? 'tcp' : 'http',
          tls: t.scheme === 'https' ? 'tls' : 'plaintext',
          ...(t.scheme === 'https' ? { sni: t.host } : {}),
          ...(t.scheme === 'tcp' ? {} : { hostHeader: hostHeader({ ...t }), path: t.path || '/' }),
        });
        expect(first.cluster, `simulator on the sidecar, ${label}: ${first.error ?? ''}`).toBe(o.hops?.[0]?.cluster);
        const gw = o.evidence.gateway as { arrival?: Arrival } | undefined;
        if (o.hops?.[1]) {
          const pod = (await gateways.gatewayFor(o.hops[0]!.cluster))!.gw;
          const second = await simulateHop(sim, await gateways.snapshotOf(pod), arrivalCall(gw!.arrival!));
          expect(second.cluster, `simulator on the gateway, ${label}: ${second.error ?? ''}`).toBe(o.hops[1].cluster);
        }
      }
    }, 120_000);
  }
});
