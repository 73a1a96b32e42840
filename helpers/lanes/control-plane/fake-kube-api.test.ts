import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyJsonPatch, FakeKubeApi, matchesLabelSelector, parseKubePath } from './fake-kube-api.ts';

describe('fake kube API pieces', () => {
  it('parses namespaced, cluster-scoped and status paths', () => {
    expect(parseKubePath('/api/v1/namespaces')).toMatchObject({ groupVersion: 'api/v1', resource: 'namespaces' });
    expect(parseKubePath('/api/v1/namespaces/default')).toMatchObject({ resource: 'namespaces', name: 'default' });
    expect(parseKubePath('/apis/networking.istio.io/v1/namespaces/ns/serviceentries/x/status'))
      .toMatchObject({ apiVersion: 'networking.istio.io/v1', namespace: 'ns', resource: 'serviceentries', name: 'x', subresource: 'status' });
  });

  it('label selectors with equality terms', () => {
    expect(matchesLabelSelector({ a: 'b' }, 'a=b')).toBe(true);
    expect(matchesLabelSelector({ a: 'b' }, 'a!=b')).toBe(false);
    expect(matchesLabelSelector({}, '!a')).toBe(true);
    expect(matchesLabelSelector({ a: 'x' }, 'a')).toBe(true);
  });

  it('JSON patch as the IP autoallocator sends it', () => {
    const se: Record<string, any> = { spec: {} };
    // First variant fails without status (replace on a missing parent), the second adds it.
    expect(applyJsonPatch(structuredClone(se), [{ op: 'test', path: '/status/addresses', value: null }, { op: 'replace', path: '/status/addresses', value: [] }])).toBe(false);
    const ok = applyJsonPatch(se, [
      { op: 'test', path: '/status', value: null },
      { op: 'add', path: '/status', value: {} },
      { op: 'add', path: '/status/addresses', value: [{ value: '240.240.0.1', host: 'a' }] },
    ]);
    expect(ok).toBe(true);
    expect(se.status.addresses[0].value).toBe('240.240.0.1');
  });
});

describe('FakeKubeApi over HTTP (loopback)', () => {
  const api = new FakeKubeApi();
  beforeAll(async () => {
    await api.start();
    api.ensureNamespace('frontend');
  });
  afterAll(() => api.stop());

  it('lists seeded namespaces and 404s unknown objects', async () => {
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const list = await (await fetch(`${api.url}/api/v1/namespaces`)).json();
    expect(list.kind).toBe('NamespaceList');
    expect(list.items.map((n: any) => n.metadata.name)).toContain('frontend');
    expect((await fetch(`${api.url}/api/v1/namespaces/frontend/configmaps/nope`)).status).toBe(404);
  });

  it('create then get round-trips, conflicts on a second create', async () => {
    const body = JSON.stringify({ metadata: { name: 'cm' }, data: { k: 'v' } });
    const post = () => fetch(`${api.url}/api/v1/namespaces/frontend/configmaps`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect((await post()).status).toBe(201);
    expect((await post()).status).toBe(409);
    const got = await (await fetch(`${api.url}/api/v1/namespaces/frontend/configmaps/cm`)).json();
    expect(got.data).toEqual({ k: 'v' });
    expect(got.metadata.resourceVersion).toBeDefined();
  });
});
