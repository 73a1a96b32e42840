// The kind lane's Kubernetes steps on a real cluster (kwok: etcd, kube-apiserver and controllers of the
// pinned versions, kwok as the kubelet of one fake Node; Istio's objects rendered by the real istioctl and
// applied by the shared module): namespaces, client Pods (Running and Ready once kwok runs them, as kind's
// kubelet would), a catalogue scenario's objects at each generation, and the sync barrier's generation
// marker in the mesh config. What needs a real kubelet and istiod (exec, logs, sidecars) is tested against
// SimCluster elsewhere.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../catalogue/load.ts';
import { ClientNodeK8s } from '../../k8s/client.ts';
import { installIstio, modeOf, readMeshConfig } from '../../k8s/istio.ts';
import { GENERATION_ANNOTATION, istioOperatorFor, RUN_LABEL } from '../../k8s/manifests.ts';
import { createIfAbsent } from '../../k8s/workloads.ts';
import { findIstioctlBuildSync } from '../../tools/pilot-locate.ts';
import { KwokCluster } from '../../cluster/kwok/cluster.ts';
import { kwokClusterMissingMessage } from '../../cluster/kwok/requirements.ts';
import { runContext } from './context.ts';
import { LiveRunner } from './live-runner.ts';
import { applyScenarioObjects, deleteScenarioObjects } from './phases/scenario.ts';
import { markGeneration } from './phases/sync.ts';
import {
  applyNamespaces,
  CLIENT_HASH_ANNOTATION,
  clientFor,
  controlClient,
  ensureClients,
  namespaceManifests,
} from './phases/workloads.ts';
import type { TraceEntry } from './runner.ts';
import { newRunState } from './state.ts';

const istioctl = findIstioctlBuildSync();
const missing =
  kwokClusterMissingMessage() ??
  (!istioctl ? 'istioctl of the pinned build is not built (egress-conformance tools install istioctl-build)' : '');

describe.skipIf(!!missing)(`kind lane Kubernetes phases on a real API server${missing ? ` — skipped: ${missing}` : ''}`, () => {
  let dir = '';
  let cluster: KwokCluster;
  let k8s: ClientNodeK8s;
  let runner: LiveRunner;
  const trace: TraceEntry[] = [];
  const state = newRunState();
  let ctx: ReturnType<typeof runContext>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iec-kind-k8s-'));
    cluster = await KwokCluster.create({ dir: join(dir, 'cluster') });
    k8s = new ClientNodeK8s(cluster.kubeconfig);
    await installIstio(k8s, istioctl!, istioOperatorFor('ALLOW_ANY'), join(dir, 'istio'));
    ctx = runContext({ runId: 'kapi-1', workDir: join(dir, 'work'), timeouts: { pods: 15_000, deployment: 15_000 } });
    runner = new LiveRunner({ ctx, k8s: () => k8s, pollMs: 50, onTrace: (e) => trace.push(e) });
  }, 180_000);

  afterAll(async () => {
    await cluster?.delete();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('namespaces: injection labels before any client, the run label, server-side applied', async () => {
    await applyNamespaces(runner, namespaceManifests(ctx, ['team-a']));
    const labels = async (name: string) => (await k8s.get({ apiVersion: 'v1', kind: 'Namespace', name }))?.metadata.labels ?? {};
    expect(await labels('frontend')).toMatchObject({ 'istio-injection': 'enabled', [RUN_LABEL]: 'kapi-1' });
    expect(await labels('team-a')).toMatchObject({ 'istio-injection': 'enabled' });
    expect(await labels('egress-control')).toMatchObject({ 'istio-injection': 'disabled' });
    expect(await labels('default')).toMatchObject({ 'istio-injection': 'enabled' });
    expect(
      trace.filter((e) => e.op === 'apply').map((e) => (e as { object: { metadata: { name: string } } }).object.metadata.name),
    ).toEqual(['frontend', 'default', 'egress-control', 'team-a']);
  });

  it("clients: the fixture Pod is accepted, ready once kwok runs it, recreated when the proxy defaults change; the API server's refusal in an injected namespace is reported", async () => {
    const control = controlClient();
    const ref = { apiVersion: 'v1', kind: 'Pod', namespace: control.namespace, name: control.name };
    await ensureClients(runner, ctx, [control], false, 'proxy-a');
    const first = await k8s.get(ref);
    expect(
      (first?.spec as { containers: { name: string; image: string }[] } | undefined)?.containers.map((c) => [c.name, c.image]),
    ).toEqual([
      ['curl', ctx.versions.images.curl],
      ['psql', ctx.versions.images.postgres],
    ]);
    expect(first?.metadata.labels).toMatchObject({ app: 'egress-client', [RUN_LABEL]: 'kapi-1' });
    // The same client again: kept as it is.
    await ensureClients(runner, ctx, [control], false, 'proxy-a');
    expect((await k8s.get(ref))?.metadata.uid).toBe(first?.metadata.uid);
    // Other proxy defaults: deleted, gone, created anew.
    await ensureClients(runner, ctx, [control], true, 'proxy-b');
    const second = await k8s.get(ref);
    expect(second?.metadata.uid).not.toBe(first?.metadata.uid);
    expect(second?.metadata.annotations?.[CLIENT_HASH_ANNOTATION]).not.toBe(first?.metadata.annotations?.[CLIENT_HASH_ANNOTATION]);
    // In an injected namespace the API server calls Istio's injector webhook (rendered by istioctl); with no
    // istiod behind it here, the API server's refusal is what the step reports.
    const err = await ensureClients(runner, ctx, [clientFor({ namespace: 'frontend' })], false, 'proxy-b').catch((e) => e);
    expect(String(err.body ?? err.message)).toMatch(/failed calling webhook \\?"namespace\.sidecar-injector\.istio\.io/);
  }, 60_000);

  it("scenario objects: a catalogue scenario at each generation, this run's leftovers removed, deleted and gone on clear", async () => {
    const scenarios = loadCatalogue();
    const course = scenarios.find((s) => s.name === 'course-db-serviceentry')!;
    const other = scenarios.find((s) => s.resources.sidecars.length > 0)!;
    await createIfAbsent(k8s, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
    const first = await applyScenarioObjects(runner, ctx, state, course.name, 'REGISTRY_ONLY', course.resources);
    const [applied] = first;
    if (!applied) throw new Error('applyScenarioObjects applied nothing for course-db-serviceentry');
    const se = await k8s.get({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      namespace: 'frontend',
      name: applied.metadata.name,
    });
    expect(se?.metadata.labels).toMatchObject({ [RUN_LABEL]: 'kapi-1' });
    expect(se?.metadata.annotations).toMatchObject({ [GENERATION_ANNOTATION]: String(state.generation) });
    // Another scenario applied over it (an interrupted clear): the run's earlier objects go.
    const second = await applyScenarioObjects(runner, ctx, state, other.name, 'REGISTRY_ONLY', other.resources);
    const ours = async () =>
      [
        ...(await k8s.list('networking.istio.io/v1', 'ServiceEntry', undefined, `${RUN_LABEL}=kapi-1`)),
        ...(await k8s.list('networking.istio.io/v1', 'Sidecar', undefined, `${RUN_LABEL}=kapi-1`)),
      ]
        .map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name} @${o.metadata.annotations?.[GENERATION_ANNOTATION]}`)
        .sort();
    expect(await ours()).toEqual(second.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name} @2`).sort());
    await deleteScenarioObjects(runner, ctx, state, 'clear', second);
    expect(await ours()).toEqual([]);
    // The lane's record of what is applied (for cleanup on a surviving cluster) follows: nothing left.
    expect(first.length).toBeGreaterThan(0);
    expect([...state.scenarioObjects.keys()]).toEqual([]);
  }, 60_000);

  it('the generation marker goes into the mesh config istioctl rendered, the rest of it kept', async () => {
    const before = (await readMeshConfig(k8s))!;
    await markGeneration(runner, 7);
    const after = (await readMeshConfig(k8s))!;
    expect(after.connectTimeout).toBe('10.007s');
    expect(modeOf(after)).toBe('ALLOW_ANY');
    expect({ ...after, connectTimeout: undefined }).toEqual({ ...before, connectTimeout: undefined });
    await markGeneration(runner, 8);
    expect((await readMeshConfig(k8s))!.connectTimeout).toBe('10.008s');
  });
});
