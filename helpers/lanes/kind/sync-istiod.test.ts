// The sync barrier against the real istiod of the pinned build, on a kwok cluster. Its first condition:
// its /debug/configz (what `pilot-discovery request GET /debug/configz` prints in a kind cluster) is
// compared with a catalogue scenario applied by the kind lane's phase at each generation, until istiod's
// store holds exactly this run's objects; and its /debug/syncz for a connected sidecar (an ADS client
// with the client Pod's identity, as pilot-agent would connect) found by the Pod's name and namespace,
// everything sent ACKed; the debug endpoints on the monitoring port; and the generation marker, written
// by the kind lane's phase into ConfigMap istio, pushed by istiod as PassthroughCluster's connect timeout.
// The same readers the kind lane polls (phases/sync.ts); only Envoy's own config_dump is not run here.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../catalogue/load.ts';
import { ClientNodeK8s } from '../../k8s/client.ts';
import { installIstio } from '../../k8s/istio.ts';
import { istioOperatorFor, namespaceObjects } from '../../k8s/manifests.ts';
import { ensureNamespaces } from '../../k8s/workloads.ts';
import { PINNED_PILOT } from '../../tools/pilot-discovery.ts';
import { findIstioctlBuildSync, findPilotDiscoverySync } from '../../tools/pilot-locate.ts';
import { KwokCluster } from '../../cluster/kwok/cluster.ts';
import { kwokClusterMissingMessage } from '../../cluster/kwok/requirements.ts';
import { AdsClient, fetchSnapshot } from '../control-plane/ads-client.ts';
import { Istiod } from '../control-plane/istiod.ts';
import { runContext } from './context.ts';
import { LiveRunner } from './live-runner.ts';
import { applyScenarioObjects } from './phases/scenario.ts';
import { configzMismatch, markerMillis, markGeneration, syncFor, unacked } from './phases/sync.ts';
import type { K8sObject } from './runner.ts';
import { newRunState } from './state.ts';

const istioctl = findIstioctlBuildSync();
const pilot = findPilotDiscoverySync();
const missing =
  kwokClusterMissingMessage() ??
  (!istioctl
    ? 'istioctl of the pinned build is not built (egress-conformance tools install istioctl-build)'
    : !pilot
      ? 'pilot-discovery of the pinned build is not built (egress-conformance tools install pilot-discovery)'
      : '');

describe.skipIf(!!missing)(
  `sync barrier: istiod's config store, read from the real istiod${missing ? ` — skipped: ${missing}` : ''}`,
  () => {
    let dir = '';
    let cluster: KwokCluster;
    let istiod: Istiod;
    let k8s: ClientNodeK8s;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'iec-kind-istiod-'));
      cluster = await KwokCluster.create({ dir: join(dir, 'cluster') });
      k8s = new ClientNodeK8s(cluster.kubeconfig);
      await installIstio(k8s, istioctl!, istioOperatorFor('REGISTRY_ONLY'), join(dir, 'istio'));
      await ensureNamespaces(k8s, namespaceObjects([], { inject: false, runId: 'istiod-1' }), { serviceAccount: false });
      istiod = await Istiod.start({
        binary: pilot!,
        kubeconfig: cluster.kubeconfig,
        dir: join(dir, 'istiod'),
        istioVersion: PINNED_PILOT.istioVersion,
      });
    }, 240_000);

    afterAll(async () => {
      await istiod?.stop();
      await cluster?.delete();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** Polls istiod's /debug/configz until it matches (bounded); returns the mismatches seen on the way. */
    async function untilMatches(objects: K8sObject[], generation: number): Promise<string[][]> {
      const seen: string[][] = [];
      const deadline = Date.now() + 30_000;
      for (;;) {
        const m = configzMismatch(JSON.stringify(await istiod.debug('/debug/configz')), 'istiod-1', objects, generation);
        seen.push(m);
        if (m.length === 0 || Date.now() > deadline) return seen;
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    it('istiod holds exactly the scenario applied at each generation, earlier objects of the run gone', async () => {
      const ctx = runContext({ runId: 'istiod-1', workDir: join(dir, 'work') });
      const runner = new LiveRunner({ ctx, k8s: () => k8s, pollMs: 50 });
      const state = newRunState();
      const scenarios = loadCatalogue();
      const course = scenarios.find((s) => s.name === 'course-db-serviceentry')!;
      const withSidecar = scenarios.find((s) => s.resources.sidecars.length > 0 && s.name !== course.name)!;

      const first = await applyScenarioObjects(runner, ctx, state, course.name, 'REGISTRY_ONLY', course.resources);
      const one = await untilMatches(first, 1);
      expect(one.at(-1)).toEqual([]);

      const second = await applyScenarioObjects(runner, ctx, state, withSidecar.name, 'REGISTRY_ONLY', withSidecar.resources);
      // Right after the apply, generation 1's picture no longer matches generation 2 (istiod catches up).
      expect(configzMismatch(JSON.stringify(await istiod.debug('/debug/configz')), 'istiod-1', second, 1).length).toBeGreaterThan(0);
      const two = await untilMatches(second, 2);
      expect(two.at(-1)).toEqual([]);
      // What the barrier would have said had istiod lagged: named objects, never an empty complaint.
      expect(configzMismatch(JSON.stringify(await istiod.debug('/debug/configz')), 'istiod-1', first, 1)).toEqual(
        expect.arrayContaining([expect.stringMatching(/ (missing|at generation 2|still present)$/)]),
      );

      // A scenario through the egress gateway: its Gateway, VirtualServices and DestinationRules are in the
      // store the barrier reads, at this generation, like its entries.
      const routed = scenarios.find((s) => (s.resources.routing?.length ?? 0) > 0)!;
      const third = await applyScenarioObjects(runner, ctx, state, routed.name, 'REGISTRY_ONLY', routed.resources);
      expect(third.map((o) => o.kind)).toEqual(expect.arrayContaining(['VirtualService']));
      const three = await untilMatches(third, 3);
      expect(three.at(-1)).toEqual([]);
    }, 120_000);

    it('/debug/syncz lists a connected sidecar by its Pod, every type it was sent ACKed', async () => {
      const client = { namespace: 'frontend', name: 'egress-client', labels: {} };
      const ads = new AdsClient(istiod.addresses.grpc, {
        namespace: 'frontend',
        ip: '10.244.0.9',
        podName: 'egress-client',
        labels: {},
        istioVersion: PINNED_PILOT.istioVersion,
      });
      try {
        await ads.fetch();
        let entry;
        const deadline = Date.now() + 20_000;
        do {
          entry = syncFor(JSON.stringify(await istiod.debug('/debug/syncz')), client);
          if (entry && unacked(entry).length === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        } while (Date.now() < deadline);
        // The proxy's ID, not its node id: what syncFor matches.
        expect(entry?.proxy).toBe('egress-client.frontend');
        expect(entry?.cluster_sent).toBeTruthy();
        expect(unacked(entry!)).toEqual([]);
        expect(
          syncFor(JSON.stringify(await istiod.debug('/debug/syncz')), { namespace: 'default', name: 'egress-client', labels: {} }),
        ).toBeUndefined();
      } finally {
        ads.close();
      }
    }, 60_000);

    it('the debug endpoints are served on the monitoring port, the one `pilot-discovery request` asks (15014 in a pod)', async () => {
      const res = await fetch(`http://${istiod.addresses.monitoring}/debug/configz`);
      expect(res.status).toBe(200);
      expect(Array.isArray(await res.json())).toBe(true);
    });

    it("the generation marker written by the kind lane reaches every sidecar as PassthroughCluster's connect timeout", async () => {
      const ctx = runContext({ runId: 'istiod-1', workDir: join(dir, 'work') });
      const runner = new LiveRunner({ ctx, k8s: () => k8s, pollMs: 50 });
      const identity = {
        namespace: 'default',
        ip: '10.244.0.10',
        podName: 'egress-client',
        labels: {},
        istioVersion: PINNED_PILOT.istioVersion,
      };
      for (const generation of [5, 6]) {
        await markGeneration(runner, generation);
        let ms: number | undefined;
        const deadline = Date.now() + 30_000;
        do {
          const snap = await fetchSnapshot(istiod.addresses.grpc, identity);
          const ct = snap.clusters.find((c) => c.name === 'PassthroughCluster')?.connect_timeout as
            | { seconds?: string | number; nanos?: number }
            | undefined;
          ms = ct ? Number(ct.seconds ?? 0) * 1000 + Math.round((ct.nanos ?? 0) / 1e6) : undefined;
          if (ms === markerMillis(generation)) break;
          await new Promise((r) => setTimeout(r, 200));
        } while (Date.now() < deadline);
        expect(ms).toBe(markerMillis(generation));
      }
    }, 90_000);
  },
);
