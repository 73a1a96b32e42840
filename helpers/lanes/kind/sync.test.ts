// The sync barrier: its readers on the shapes istiod and Envoy print, and the barrier itself against
// SimCluster (a sidecar that lags is waited for; one that never syncs is named in the error).
import { describe, expect, it } from 'vitest';
import { GENERATION_ANNOTATION, RUN_LABEL } from '../../k8s/manifests.ts';
import { StepError } from '../../model/errors.ts';
import { runContext } from './context.ts';
import { LiveRunner } from './live-runner.ts';
import { configzMismatch, durationMillis, markerTimeout, passthroughTimeout, syncBarrier, syncFor, unacked } from './phases/sync.ts';
import type { K8sObject } from './runner.ts';
import { SimCluster } from './testdata/sim-cluster.ts';
import { GATEWAY_NAMESPACE, GATEWAY_POD } from './testdata/sim-gateway.ts';

const se = (name: string, generation: number, runId = 'sync-1'): K8sObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: 'frontend', labels: { [RUN_LABEL]: runId }, annotations: { [GENERATION_ANNOTATION]: String(generation) } },
  spec: { hosts: [`${name}.example.com`], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' },
});

describe('sync barrier readers', () => {
  it('the marker: 10 s plus the generation in ms, read back from Envoy’s JSON durations', () => {
    expect(markerTimeout(1)).toBe('10.001s');
    expect(markerTimeout(1234)).toBe('11.234s');
    expect(durationMillis('11.234s')).toBe(11_234);
    expect(durationMillis('10s')).toBe(10_000);
    expect(durationMillis('10.5s')).toBe(10_500);
    expect(durationMillis('bogus')).toBeUndefined();
  });

  it('PassthroughCluster’s connect_timeout, from a filtered or a whole config_dump', () => {
    const filtered = JSON.stringify({
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
          version_info: '2026-11-29T18:40:01Z/7',
          cluster: {
            '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
            name: 'PassthroughCluster',
            type: 'ORIGINAL_DST',
            connect_timeout: '10.007s',
          },
        },
      ],
    });
    expect(passthroughTimeout(filtered)).toBe('10.007s');
    const whole = JSON.stringify({
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
          bootstrap: { node: { id: 'sidecar~10.244.0.9~egress-client.frontend~frontend.svc.cluster.local' } },
        },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
          version_info: '2026-11-29T18:40:01Z/7',
          static_clusters: [{ cluster: { name: 'prometheus_stats', connect_timeout: '0.250s' } }],
          dynamic_active_clusters: [
            { cluster: { name: 'BlackHoleCluster', connect_timeout: '10.007s' } },
            { cluster: { name: 'PassthroughCluster', connect_timeout: '10.007s' } },
          ],
        },
      ],
    });
    expect(passthroughTimeout(whole)).toBe('10.007s');
    expect(passthroughTimeout(JSON.stringify({ configs: [] }))).toBeUndefined();
  });

  it('istiod’s store against the scenario: missing, stale, left over, other runs ignored', () => {
    const configz = JSON.stringify([
      {
        kind: 'ServiceEntry',
        apiVersion: 'networking.istio.io/v1',
        metadata: { ...se('db', 2).metadata, resourceVersion: '812' },
        spec: {},
      },
      { kind: 'ServiceEntry', apiVersion: 'networking.istio.io/v1', metadata: se('old', 1).metadata, spec: {} },
      { kind: 'ServiceEntry', apiVersion: 'networking.istio.io/v1', metadata: se('theirs', 9, 'other-run').metadata, spec: {} },
      { kind: 'Gateway', apiVersion: 'networking.istio.io/v1', metadata: { name: 'gw', namespace: 'istio-system' }, spec: {} },
    ]);
    expect(configzMismatch(configz, 'sync-1', [se('db', 2)], 2)).toEqual(['ServiceEntry frontend/old still present']);
    expect(configzMismatch(configz, 'sync-1', [se('db', 3), se('api', 3)], 3)).toEqual([
      'ServiceEntry frontend/db at generation 2',
      'ServiceEntry frontend/api missing',
      'ServiceEntry frontend/old still present',
    ]);
    expect(configzMismatch('[]', 'sync-1', [], 4)).toEqual([]);
  });

  it("a scenario's Gateway, VirtualService and DestinationRule are held to the same rule as its entries", () => {
    const of = (kind: string, name: string, gen: number): K8sObject => ({
      kind,
      apiVersion: 'networking.istio.io/v1',
      metadata: { ...se(name, gen).metadata, namespace: 'istio-system' },
      spec: {},
    });
    const scenario = [se('db', 5), of('Gateway', 'gw', 5), of('VirtualService', 'vs', 5), of('DestinationRule', 'dr', 5)];
    const configz = (items: object[]) => JSON.stringify(items);
    expect(configzMismatch(configz(scenario), 'sync-1', scenario, 5)).toEqual([]);
    expect(configzMismatch(configz([scenario[0]!, scenario[1]!]), 'sync-1', scenario, 5)).toEqual([
      'VirtualService istio-system/vs missing',
      'DestinationRule istio-system/dr missing',
    ]);
    expect(configzMismatch(configz([...scenario, of('VirtualService', 'old', 4)]), 'sync-1', scenario, 5)).toEqual([
      'VirtualService istio-system/old still present',
    ]);
  });

  it('a proxy’s entry in /debug/syncz and what it has not ACKed', () => {
    const syncz = JSON.stringify([
      {
        cluster_id: 'Kubernetes',
        proxy: 'egress-client.frontend',
        proxy_type: 'sidecar',
        cluster_sent: 'n1',
        cluster_acked: 'n1',
        listener_sent: 'n2',
        listener_acked: 'n0',
        route_sent: 'n3',
        route_acked: 'n3',
        endpoint_sent: 'n4',
        endpoint_acked: 'n4',
      },
      { proxy: 'sidecar~10.244.0.10~egress-client.default~default.svc.cluster.local', cluster_sent: 'm1', cluster_acked: 'm1' },
    ]);
    const front = syncFor(syncz, { namespace: 'frontend', name: 'egress-client', labels: {} })!;
    expect(unacked(front)).toEqual(['listener']);
    expect(unacked(syncFor(syncz, { namespace: 'default', name: 'egress-client', labels: {} })!)).toEqual([]);
    expect(syncFor(syncz, { namespace: 'frontend', name: 'egress-client-1a2b3c4d', labels: {} })).toBeUndefined();
    // A prefix of another proxy's ID is not that proxy.
    expect(
      syncFor(JSON.stringify([{ proxy: 'egress-client.frontend-2' }]), { namespace: 'frontend', name: 'egress-client', labels: {} }),
    ).toBeUndefined();
  });
});

describe('sync barrier', () => {
  const clients = [
    { namespace: 'frontend', name: 'egress-client', labels: {} },
    { namespace: 'default', name: 'egress-client', labels: {} },
  ];

  async function cluster(opts: { syncLag?: number; neverSync?: string[]; egressGateway?: boolean }) {
    const sim = new SimCluster({ meshMode: () => 'REGISTRY_ONLY', ...opts });
    for (const c of clients)
      await sim.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: c.name, namespace: c.namespace },
        spec: { containers: [{ name: 'curl' }] },
      });
    await sim.apply(se('db', 1));
    const ctx = runContext({ runId: 'sync-1', workDir: '/tmp/sync-1', timeouts: { sync: 2_000 } });
    return { sim, ctx, runner: new LiveRunner({ ctx, k8s: () => sim, pollMs: 5 }) };
  }

  it('marks the generation in the mesh config and waits for every sidecar to apply it', async () => {
    const { sim, ctx, runner } = await cluster({ syncLag: 3 });
    const ev = await syncBarrier(runner, ctx, { generation: 1, objects: [se('db', 1)], clients });
    expect(sim.meshConnectTimeout()).toBe('10.001s');
    expect(ev).toMatchObject({ generation: 1, marker: '10.001s' });
    expect(ev.proxies['frontend/egress-client']).toMatchObject({
      passthroughConnectTimeout: '10.001s',
      syncz: { cluster_sent: 'a1b2c3d4', cluster_acked: 'a1b2c3d4' },
    });
    // The lagging sidecars were asked until they had it.
    expect(sim.calls.filter((c) => c.op === 'exec' && c.container === 'istio-proxy').length).toBeGreaterThanOrEqual(8);
    // The marker went in after istiod had the scenario.
    const configz = sim.calls.findIndex((c) => c.op === 'exec' && c.argv?.[3] === '/debug/configz');
    const mark = sim.calls.findIndex((c) => c.op === 'apply' && c.name === 'istio');
    expect(configz).toBeGreaterThanOrEqual(0);
    expect(configz).toBeLessThan(mark);
  });

  it('names the sidecar that does not sync, and what it has', async () => {
    const { ctx, runner } = await cluster({ neverSync: ['default/egress-client'] });
    const err = await syncBarrier(runner, ctx, { generation: 1, objects: [se('db', 1)], clients }).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(
      /^sync barrier: the sidecar of default\/egress-client did not get generation 1 within 2 s: its PassthroughCluster connect_timeout is 10s \(generation 0\), not 10\.001s$/,
    );
  });

  it("a scenario with routing waits for the install's gateway too (its BlackHoleCluster carries the marker), and names it when it lags", async () => {
    const vs: K8sObject = { ...se('edition', 1), kind: 'VirtualService', spec: { hosts: ['edition.example.com'] } };
    const { sim, ctx, runner } = await cluster({ egressGateway: true, syncLag: 2 });
    await sim.apply(vs);
    const ev = await syncBarrier(runner, ctx, { generation: 1, objects: [se('db', 1), vs], clients });
    expect(ev.proxies[`${GATEWAY_NAMESPACE}/${GATEWAY_POD}`]).toMatchObject({ passthroughConnectTimeout: '10.001s' });
    const asked = sim.calls.filter((c) => c.op === 'exec' && c.name === GATEWAY_POD && c.container === 'istio-proxy');
    expect(asked.length).toBeGreaterThanOrEqual(3);
    expect(asked.every((c) => c.argv?.join(' ').includes('name_regex=BlackHoleCluster'))).toBe(true);
    // Without routing in the scenario, the gateway is not waited for.
    const plain = await cluster({ egressGateway: true });
    const ev2 = await syncBarrier(plain.runner, plain.ctx, { generation: 1, objects: [se('db', 1)], clients });
    expect(Object.keys(ev2.proxies)).toEqual(['frontend/egress-client', 'default/egress-client']);

    const stuck = await cluster({ egressGateway: true, neverSync: [`${GATEWAY_NAMESPACE}/${GATEWAY_POD}`] });
    await stuck.sim.apply(vs);
    const err = await syncBarrier(stuck.runner, stuck.ctx, { generation: 1, objects: [se('db', 1), vs], clients }).catch((e) => e);
    expect(err.message).toMatch(
      /^sync barrier: the gateway istio-system\/istio-egressgateway-\S+ did not get generation 1 within 2 s: its BlackHoleCluster connect_timeout is 10s \(generation 0\), not 10\.001s$/,
    );
  });

  it('waits for istiod’s store first, and says what it lacks', async () => {
    const { ctx, runner } = await cluster({});
    const err = await syncBarrier(runner, ctx, { generation: 2, objects: [se('db', 2)], clients }).catch((e) => e);
    expect(err.message).toMatch(
      /timed out after 2 s waiting for istiod's config store .*: istiod-\S+: ServiceEntry frontend\/db at generation 1/,
    );
  });
});
