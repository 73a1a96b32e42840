// The Kubernetes half both lanes share, on a real cluster (kwok: etcd, kube-apiserver, controllers of the
// pinned versions) with Istio rendered by the real istioctl. What needs a real kubelet (exec, logs) is the
// kind lane's alone and is not claimed here.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KwokCluster } from '../cluster/kwok/cluster.ts';
import { kwokClusterMissingMessage } from '../cluster/kwok/requirements.ts';
import { findIstioctlBuildSync } from '../tools/pilot-locate.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { pollUntil } from '../process/poll.ts';
import { ClientNodeK8s, type K8sObject } from './client.ts';
import { installIstio, modeOf, readMeshConfig, renderIstioOperator, writeMeshConfig } from './istio.ts';
import { clientFor, clientPodManifest, istioOperatorFor, namespaceObjects, RUN_LABEL, scenarioObjects } from './manifests.ts';
import { ensureNamespaces, syncScenarioObjects } from './workloads.ts';

const istioctl = findIstioctlBuildSync();
const missing =
  kwokClusterMissingMessage() ??
  (!istioctl ? 'istioctl of the pinned build is not built (egress-conformance tools install istioctl-build)' : '');

const SCENARIO = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: external-db, namespace: frontend }
spec:
  hosts: [db.example.com]
  ports: [{ number: 5432, name: tcp-postgres, protocol: TCP }]
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: default }
spec:
  egress: [{ hosts: ["./*"] }]
`;

describe.skipIf(!!missing)(`shared Kubernetes half on a real API server${missing ? ` — skipped: ${missing}` : ''}`, () => {
  let dir = '';
  let cluster: KwokCluster;
  let k8s: ClientNodeK8s;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iec-k8s-test-'));
    cluster = await KwokCluster.create({ dir });
    k8s = new ClientNodeK8s(cluster.kubeconfig);
  }, 120_000);

  afterAll(async () => {
    await cluster?.delete();
    await rm(dir, { recursive: true, force: true });
  });

  it('renders the IstioOperator with istioctl and installs it; the mode reads back from ConfigMap istio', async () => {
    const objects = await renderIstioOperator(istioctl!, istioOperatorFor('REGISTRY_ONLY'), join(dir, 'istio'));
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name)).toContain(
      'serviceentries.networking.istio.io',
    );
    expect(await installIstio(k8s, istioctl!, istioOperatorFor('REGISTRY_ONLY'), join(dir, 'istio'))).toBe('REGISTRY_ONLY');
    const mesh = await readMeshConfig(k8s);
    expect(mesh).toMatchObject({ accessLogFile: '/dev/stdout', outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } });
  });

  it('a second install under the other policy changes ConfigMap istio in place', async () => {
    expect(await installIstio(k8s, istioctl!, istioOperatorFor('ALLOW_ANY', { defaultServiceExportTo: ['.'] }), join(dir, 'istio'))).toBe(
      'ALLOW_ANY',
    );
    expect(await readMeshConfig(k8s)).toMatchObject({ defaultServiceExportTo: ['.'], outboundTrafficPolicy: { mode: 'ALLOW_ANY' } });
  });

  it('modeOf follows the mesh default and the enum zero value', async () => {
    await writeMeshConfig(k8s, { outboundTrafficPolicy: {} });
    expect(modeOf((await readMeshConfig(k8s))!)).toBe('REGISTRY_ONLY');
    await writeMeshConfig(k8s, {});
    expect(modeOf((await readMeshConfig(k8s))!)).toBe('ALLOW_ANY');
  });

  it('creates the client namespaces with their default ServiceAccount, and a client Pod', async () => {
    await ensureNamespaces(k8s, namespaceObjects(['team-a'], { inject: false, runId: 'r1' }), { serviceAccount: true });
    for (const ns of ['frontend', 'default', 'egress-control', 'team-a']) {
      expect(await k8s.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns, name: 'default' })).toBeDefined();
    }
    const frontend = await k8s.get({ apiVersion: 'v1', kind: 'Namespace', name: 'frontend' });
    expect(frontend?.metadata.labels).toMatchObject({ [RUN_LABEL]: 'r1' });
    expect(frontend?.metadata.labels?.['istio-injection']).toBeUndefined();
    const pod = clientPodManifest(clientFor({ namespace: 'team-a', labels: { app: 'web' } }), { curl: 'curl:x', postgres: 'pg:x' }, 'r1');
    await k8s.create(pod);
    // The scheduler places it on the fake Node; kwok makes it Running with an IP of the Node's podCIDR.
    let live: K8sObject | undefined;
    await pollUntil(
      async () => {
        [live] = await k8s.listPods('team-a', 'app=web');
        return (live?.status as { phase?: string } | undefined)?.phase === 'Running';
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    expect(live?.metadata.name).toBe(pod.metadata.name);
    expect((live?.status as { podIP?: string } | undefined)?.podIP).toMatch(/^10\.244\.0\./);
  });

  it("istioctl's warnings on stdout never reach the YAML parser (a deprecated proxyMetadata key, #18 item 5)", async () => {
    const operator = istioOperatorFor('ALLOW_ANY', { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } });
    const objects = await renderIstioOperator(istioctl!, operator, join(dir, 'istio-warn'));
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio');
    expect(String((cm?.data as Record<string, string> | undefined)?.mesh)).toMatch(/ISTIO_META_DNS_AUTO_ALLOCATE/);
  });

  it("syncs a scenario: applies its objects, then removes only this run's objects that left", async () => {
    const resources = loadYamlText(SCENARIO, 'scenario.yaml', emptyResources());
    await syncScenarioObjects(k8s, scenarioObjects(resources, 'r1', 1), 'r1');
    const se = await k8s.get({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', namespace: 'frontend', name: 'external-db' });
    expect(se?.metadata.annotations).toMatchObject({ 'egress-conformance.io/generation': '1' });
    // Another run's object (or the user's) is never touched.
    await k8s.create({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: 'theirs', namespace: 'frontend', labels: { [RUN_LABEL]: 'other' } },
      spec: { egress: [{ hosts: ['*/*'] }] },
    });
    const removed = await syncScenarioObjects(k8s, [], 'r1');
    expect(removed.sort()).toEqual(['ServiceEntry/frontend/external-db', 'Sidecar/default/default']);
    expect(await k8s.list('networking.istio.io/v1', 'Sidecar')).toEqual([
      expect.objectContaining({ metadata: expect.objectContaining({ name: 'theirs' }) }),
    ]);
  });

  it('creates objects that declare creation times in that order, a second apart on the API server, even one kept from before', async () => {
    const entry = (name: string, created?: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: frontend${created ? `, creationTimestamp: "${created}"` : ''} }
spec: { hosts: [same.example.com], ports: [{ number: 81, name: p, protocol: TCP }], resolution: NONE }
`;
    const created = async (name: string) =>
      Date.parse(
        String(
          (await k8s.get({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', namespace: 'frontend', name }))?.metadata
            .creationTimestamp,
        ),
      );
    // `z` exists from an earlier scenario; now it is declared the newer of the two, so it must be made again.
    await syncScenarioObjects(k8s, scenarioObjects(loadYamlText(entry('z'), 'a.yaml', emptyResources()), 'r2', 1), 'r2');
    const text = `${entry('z', '2026-01-01T00:00:09Z')}---${entry('a', '2026-01-01T00:00:01Z')}`;
    const objects = scenarioObjects(loadYamlText(text, 'b.yaml', emptyResources()), 'r2', 2);
    expect(objects[0]?.metadata.annotations).toMatchObject({ 'egress-conformance.io/declared-creation': '2026-01-01T00:00:09Z' });
    await syncScenarioObjects(k8s, objects, 'r2');
    expect(await created('z')).toBeGreaterThan(await created('a'));
    // Without declared times (or all in one second): applied in place, in the order given.
    await syncScenarioObjects(k8s, [], 'r2');
  }, 30_000);

  it('the API server refuses what its CRD schema refuses, with the reason', async () => {
    const bad = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'bad', namespace: 'default' },
      spec: { hosts: 'not-a-list' },
    };
    await expect(k8s.create(bad)).rejects.toThrow(/hosts/);
  });
});
