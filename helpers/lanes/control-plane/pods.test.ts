// Which Pods a scenario has: the plain client of each client namespace, one per workload selector of its
// Sidecars and ServiceEntries (in their namespace), and the caller's probe sources, each once.
import { describe, expect, it } from 'vitest';
import { clientFor } from '../../k8s/manifests.ts';
import { NO_RESOURCES, sourcesFor } from './pods.ts';
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
