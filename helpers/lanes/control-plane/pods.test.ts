// Which Pods a scenario has: the plain client of each client namespace, one per workload selector of its
// Sidecars and ServiceEntries (in their namespace), and the caller's probe sources, each once.
import { describe, expect, it } from 'vitest';
import { clientFor } from '../../k8s/manifests.ts';
import type { K8sObject, K8sOps } from '../../k8s/client.ts';
import { ClientPods, NO_RESOURCES, sourcesFor } from './pods.ts';
import { resources, se, sidecar } from './testdata/resources.ts';

const names = (r: Parameters<typeof sourcesFor>[0], extra: Parameters<typeof sourcesFor>[1] = []) =>
  sourcesFor(r, extra).map((s) => `${clientFor(s).namespace}/${clientFor(s).name}`);

describe('a scenario’s client Pods', () => {
  it('an empty scenario has the plain clients alone', () => {
    expect(names(NO_RESOURCES)).toEqual(['frontend/egress-client', 'default/egress-client', 'egress-control/egress-client']);
  });

  it('adds one Pod per workload selector, in the selecting resource’s namespace, and the caller’s sources, without duplicates', () => {
    const web = sidecar('web', 'default', ['./*'], { workloadSelector: { app: 'web' } });
    const db = se('db', 'team-a', ['db.example.com'], [{ number: 5432, name: 'tcp', protocol: 'TCP' }], {
      workloadSelector: { app: 'db' },
    });
    const got = names(resources([db], [web]), [{ namespace: 'default', labels: { app: 'web' } }, { namespace: 'team-b' }]);
    expect(got).toHaveLength(6);
    expect(got).toContain(`default/${clientFor({ namespace: 'default', labels: { app: 'web' } }).name}`);
    expect(got).toContain(`team-a/${clientFor({ namespace: 'team-a', labels: { app: 'db' } }).name}`);
    expect(got).toContain('team-b/egress-client');
  });
});

describe('client Pods read from the watch cache', () => {
  // The one way a cache read could mislead the sync: a Pod it force-deleted still listed for a moment. A
  // stand-in API whose cached list lags by one delete shows it; a real cluster cannot be made to lag on cue.
  function laggingApi() {
    const pods = new Map<string, K8sObject>();
    let lagging: K8sObject[] = [];
    let uid = 0;
    const creates: string[] = [];
    const api = {
      creates,
      async listPods(_ns: string | undefined, _sel?: string, opts: { cached?: boolean } = {}) {
        return opts.cached ? [...pods.values(), ...lagging] : [...pods.values()];
      },
      async create(o: K8sObject) {
        const made = structuredClone(o);
        made.metadata.uid = `uid-${++uid}`;
        made.status = { phase: 'Running', podIP: `10.244.0.${uid}`, conditions: [{ type: 'Ready', status: 'True' }] };
        pods.set(`${o.metadata.namespace}/${o.metadata.name}`, made);
        creates.push(`${o.metadata.namespace}/${o.metadata.name}`);
        return made;
      },
      async delete(ref: { namespace?: string; name: string }) {
        const k = `${ref.namespace}/${ref.name}`;
        const gone = pods.get(k);
        pods.delete(k);
        if (gone) lagging = [gone];
        return !!gone;
      },
      async apply() {},
      async get() {
        return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } };
      },
    };
    return api;
  }

  it('makes again a Pod it deleted that the cache still lists', async () => {
    const api = laggingApi();
    const pods = new ClientPods(api as unknown as K8sOps, 'run-1');
    const web = { namespace: 'default', labels: { app: 'web' } };
    await pods.sync([web, { namespace: 'frontend' }], 1000);
    await pods.sync([{ namespace: 'frontend' }], 1000);
    const [again] = await pods.sync([web], 1000);
    const name = `default/${clientFor(web).name}`;
    expect(api.creates.filter((c) => c === name)).toHaveLength(2);
    expect(again?.ip).toBe('10.244.0.3');
  });
});
