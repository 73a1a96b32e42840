// Reading a live lab's cluster back: objects as the API server returns them (server metadata,
// last-applied annotation, status) become the resources the oracle explains with; an object Istio's
// validation would refuse and the kinds the oracle does not model are named in notes.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { K8sObject, K8sOps } from '../k8s/client.ts';
import { readClusterResources } from './cluster.ts';
import { expectProbe } from '../oracle/index.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { LAB_ISTIO_VERSION } from './version.ts';

function served(kind: string, namespace: string, name: string, spec: object, created: string): K8sObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind,
    metadata: {
      name,
      namespace,
      uid: 'u',
      resourceVersion: '7',
      creationTimestamp: created,
      managedFields: [{ manager: 'kubectl' }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    },
    spec,
    status: { addresses: [{ value: '240.240.0.1', host: 'db.example.com' }] },
  };
}

function fakeCluster(objects: K8sObject[], mesh: object | undefined): K8sOps {
  const notImplemented = async () => {
    throw new Error('not used by readClusterResources');
  };
  return {
    get: async (ref) =>
      ref.kind === 'ConfigMap' && mesh
        ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: stringify(mesh) } }
        : undefined,
    list: async (_api, kind) => {
      if (kind === 'WorkloadEntry') throw Object.assign(new Error('the server could not find the requested resource'), { code: 404 });
      return objects.filter((o) => o.kind === kind);
    },
    create: notImplemented,
    apply: notImplemented,
    delete: notImplemented,
    listPods: notImplemented,
    setPodStatus: notImplemented,
    exec: notImplemented,
    logs: notImplemented,
  } as K8sOps;
}

const DB = { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' };

describe('readClusterResources', () => {
  it('reads the mesh config from ConfigMap istio and the entries and Sidecars as written, oldest first', async () => {
    const k8s = fakeCluster(
      [
        served('Sidecar', 'default', 'default', { egress: [{ hosts: ['./*'] }] }, '2026-11-29T10:00:05Z'),
        served('ServiceEntry', 'frontend', 'external-db', { ...DB, exportTo: ['.'] }, '2026-11-29T10:00:01Z'),
      ],
      { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' }, defaultServiceExportTo: ['*'] },
    );
    const { resources, notes } = await readClusterResources(k8s);
    expect(notes).toEqual([]);
    expect(resources.mesh.outboundTrafficPolicy).toBe('REGISTRY_ONLY');
    expect(resources.serviceEntries.map((s) => `${s.namespace}/${s.name}`)).toEqual(['frontend/external-db']);
    expect(resources.sidecars.map((s) => `${s.namespace}/${s.name}`)).toEqual(['default/default']);
    expect(resources.serviceEntries[0]?.manifest).not.toHaveProperty('status');
    expect((resources.serviceEntries[0]?.manifest.metadata as Record<string, unknown> | undefined)?.creationTimestamp).toBe(
      '2026-11-29T10:00:01Z',
    );
    const probe = { from: { namespace: 'default' }, to: parseProbeUrl('tcp://db.example.com:5432') };
    expect(expectProbe(resources, probe, { istioVersion: LAB_ISTIO_VERSION })).toMatchObject({ verdict: 'blocked' });
  });

  it("a mesh config without outboundTrafficPolicy is Istio's default ALLOW_ANY", async () => {
    const { resources } = await readClusterResources(fakeCluster([], { accessLogFile: '/dev/stdout' }));
    expect(resources.mesh.outboundTrafficPolicy).toBeUndefined();
    const probe = { from: { namespace: 'default' }, to: parseProbeUrl('https://unlisted.example.com/') };
    expect(expectProbe(resources, probe, { istioVersion: LAB_ISTIO_VERSION })).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
    });
  });

  it('names an object Istio would refuse, and reads routing kinds into the state, instead of failing or dropping them silently', async () => {
    const k8s = fakeCluster(
      [
        served(
          'ServiceEntry',
          'default',
          'star',
          { hosts: ['*'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] },
          '2026-11-29T10:00:01Z',
        ),
        served('ServiceEntry', 'default', 'ok', DB, '2026-11-29T10:00:02Z'),
        served('VirtualService', 'default', 'api', { hosts: ['api.example.com'] }, '2026-11-29T10:00:03Z'),
        served(
          'VirtualService',
          'default',
          'timeout',
          { hosts: ['api.example.com'], http: [{ timeout: '3s', route: [{ destination: { host: 'api.example.com' } }] }] },
          '2026-11-29T10:00:04Z',
        ),
      ],
      { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } },
    );
    const { resources, notes } = await readClusterResources(k8s);
    expect(resources.serviceEntries.map((s) => s.name)).toEqual(['ok']);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^ServiceEntry default\/star is in the cluster but Istio's validation refuses it/);
    // A VirtualService without routes is refused by Istio's validation (named); a valid one joins the state.
    expect(notes[1]).toMatch(/^VirtualService default\/api is in the cluster but Istio's validation refuses it/);
    expect(resources.routing?.map((r) => `${r.kind} ${r.namespace}/${r.name}`)).toEqual(['VirtualService default/timeout']);
  });
});
