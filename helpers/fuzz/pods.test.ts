// The Pods a scenario has on the control-plane lane, as the model is told them: the corpus answers of
// master-2026-08-27 s6-4, s9-6, s13-6, s15-1 and s17-7 were taken with these Pods, which the model had not
// been told of (it saw the probe's own source only, so DNS entries with selectors looked endpoint-less).
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { scenarioPods } from './pods.ts';

describe('scenario Pods', () => {
  it("are each client namespace's plain client, one per workload selector, one per probe source", () => {
    const r = loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec: {hosts: [b.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS, workloadSelector: {labels: {app: db}}}
`,
      'se.yaml',
      emptyResources(),
    );
    const pods = scenarioPods(r, [
      { from: 'payments', to: 'tcp://b.example.com:5432' },
      { from: { namespace: 'frontend', labels: { app: 'curl' } }, to: 'tcp://b.example.com:5432' },
    ]);
    expect(pods).toEqual(
      expect.arrayContaining([
        { namespace: 'frontend' },
        { namespace: 'default' },
        { namespace: 'egress-control' },
        { namespace: 'default', labels: { app: 'db' } },
        { namespace: 'payments' },
        { namespace: 'frontend', labels: { app: 'curl' } },
      ]),
    );
    expect(pods).toHaveLength(6);
  });
});
