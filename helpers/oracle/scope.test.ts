// The sidecar scope's services per host and the Pods a ServiceEntry selects. Each test names the Istio source
// (pinned build, fixtures/versions.json controlPlane) and the fixture that found the rule.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FIXTURES_DIR } from '../catalogue/load.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import type { PolicyMode, ProbeSource, ResourceSet } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';
import { creationSeconds } from './order.ts';
import { CLIENT_POD_LABELS } from './policy.ts';
import { canMerge } from './scope.ts';

const V = PINNED.controlPlane.istioVersion;
const res = (yaml: string): ResourceSet => loadYamlText(yaml, 'test.yaml', emptyResources());
const ask = (r: ResourceSet, from: ProbeSource, to: string, policy: PolicyMode, workloads?: ProbeSource[]) =>
  expectProbe(r, { from, to: parseProbeUrl(to) }, { istioVersion: V, policy, ...(workloads ? { workloads } : {}) });

describe('same host, same namespace (pilot/pkg/model/sidecar.go appendSidecarServices, canMergeServices)', () => {
  const se = (name: string, ts: string, extra: string, ports: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: frontend, creationTimestamp: "${ts}"${extra}}
spec: {hosts: [a.example.com], ports: ${ports}, resolution: NONE}
---
`;
  const portless = (labels: string) => se('z', '2026-01-01T00:00:00Z', labels, '[]');
  const tcp80 = se('a', '2026-01-01T00:00:05Z', '', '[{number: 81, name: p81, protocol: TCP}]');
  const from = { namespace: 'frontend' };

  it('an older entry that cannot be merged keeps the host: the later one still builds the listener but gets no cluster (fuzz-s2-501)', () => {
    const r = res(portless(', labels: {networking.istio.io/enable-autoallocate-ip: "false"}') + tcp80);
    const got = ask(r, from, 'http://b.example.com:81/', 'ALLOW_ANY');
    expect(got).toMatchObject({ verdict: 'blocked', cluster: 'outbound|81||a.example.com', rule: 'se.unmerged-no-cluster' });
    expect(got.reason).toContain('cannot merge');
  });

  it('mergeable entries (same resolution, labels, selector, exportTo) pool their ports: the cluster exists', () => {
    const r = res(portless('') + tcp80);
    expect(ask(r, from, 'http://b.example.com:81/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|81||a.example.com',
    });
  });

  it('the older entry with the port keeps it whatever the later one is', () => {
    const r = res(
      se('a', '2026-01-01T00:00:00Z', '', '[{number: 81, name: p81, protocol: TCP}]') +
        se('z', '2026-01-01T00:00:05Z', ', labels: {x: y}', '[]'),
    );
    expect(ask(r, from, 'tcp://b.example.com:81', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|81||a.example.com',
    });
  });

  it('entries created in the same second: the oracle takes load order and says that istiod does not fix it', () => {
    const same = (name: string, extra: string, ports: string) => se(name, '2026-01-01T00:00:00Z', extra, ports);
    const r = res(same('z', ', labels: {x: y}', '[]') + same('a', '', '[{number: 81, name: p81, protocol: TCP}]'));
    expect(ask(r, from, 'tcp://b.example.com:81', 'ALLOW_ANY').reason).toContain('same second');
  });
});

describe('Pods a ServiceEntry workloadSelector matches (serviceentry/conversion.go, cluster_builder.go buildCluster)', () => {
  const dnsRr = (selector: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec: {hosts: [a.example.com], ports: [{number: 81, name: p81, protocol: TCP}], resolution: DNS_ROUND_ROBIN, workloadSelector: {labels: ${selector}}}
---
`;
  const curl = { namespace: 'default', labels: { app: 'curl' } };

  it('a client Pod of its namespace that matches is an endpoint, so the cluster is built (fuzz-s1-367)', () => {
    const r = res(dnsRr('{app: curl}'));
    expect(ask(r, curl, 'tcp://a.example.com:81', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|81||a.example.com',
    });
    // Another probe source's Pod counts too: endpoints belong to the service, not to the caller.
    expect(ask(r, { namespace: 'frontend' }, 'tcp://a.example.com:81', 'ALLOW_ANY', [curl])).toMatchObject({ verdict: 'allowed' });
  });

  it('no matching Pod in its namespace: no endpoints, no cluster, the call fails (fuzz-s1-239)', () => {
    const r = res(dnsRr('{app: curl}'));
    expect(ask(r, { namespace: 'default' }, 'tcp://a.example.com:81', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
      rule: 'se.dns-cluster-not-built',
    });
    expect(ask(r, { namespace: 'frontend', labels: { app: 'curl' } }, 'tcp://a.example.com:81', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
    });
  });

  it("a selector on the labels every client Pod carries matches an unlabelled source's Pod", () => {
    const r = res(dnsRr('{app: egress-client}'));
    expect(ask(r, { namespace: 'default' }, 'tcp://a.example.com:81', 'ALLOW_ANY')).toMatchObject({ verdict: 'allowed' });
  });
});

describe('Sidecar workloadSelector on the client Pod labels (push_context.go getSidecarScope)', () => {
  it('a Sidecar selecting the label every client Pod carries applies to an unlabelled source', () => {
    const r = res(`
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: all-clients, namespace: default}
spec: {workloadSelector: {labels: {egress-conformance.io/client: "true"}}, outboundTrafficPolicy: {mode: REGISTRY_ONLY}}
`);
    expect(ask(r, { namespace: 'default' }, 'tcp://x.example.net:7000', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
      rule: 'sidecar.registry-only',
    });
  });

  it('CLIENT_POD_LABELS are the labels of fixtures/workloads/client.yaml', () => {
    const pod = parse(readFileSync(join(FIXTURES_DIR, 'workloads', 'client.yaml'), 'utf8')) as {
      metadata: { labels: Record<string, string> };
    };
    expect(CLIENT_POD_LABELS).toEqual(pod.metadata.labels);
  });
});

// canMergeServices field by field (pilot/pkg/model/sidecar.go): each differing field alone makes two same-host
// entries of one namespace unmergeable; the order of exportTo values, and a repeated one, do not.
describe('canMerge and creationSeconds, field by field', () => {
  const entry = (meta: string, spec: string) =>
    res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: x, namespace: frontend${meta}}
spec: {hosts: [a.example.com], ports: [{number: 81, name: p81, protocol: TCP}], resolution: NONE${spec}}
`).serviceEntries[0]!;
  const base = entry('', '');

  it('merges equal entries, and exportTo lists that hold the same namespaces in another order', () => {
    expect(canMerge(base, entry('', ''))).toBe(true);
    expect(canMerge(entry('', ', exportTo: [".", "default"]'), entry('', ', exportTo: ["default", "."]'))).toBe(true);
    expect(canMerge(entry(', labels: {a: "1", b: "2"}', ''), entry(', labels: {b: "2", a: "1"}', ''))).toBe(true);
  });

  it('refuses a different resolution, labels, label value, workloadSelector or exportTo', () => {
    expect(
      canMerge(
        base,
        res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: x, namespace: frontend}
spec: {hosts: [a.example.com], ports: [{number: 81, name: p81, protocol: TCP}], resolution: DNS}
`).serviceEntries[0]!,
      ),
    ).toBe(false);
    expect(canMerge(base, entry(', labels: {a: "1"}', ''))).toBe(false);
    expect(canMerge(entry(', labels: {a: "1"}', ''), base)).toBe(false);
    expect(canMerge(entry(', labels: {a: "1"}', ''), entry(', labels: {a: "2"}', ''))).toBe(false);
    expect(canMerge(entry(', labels: {a: "1"}', ''), entry(', labels: {b: "1"}', ''))).toBe(false);
    expect(canMerge(base, entry('', ', workloadSelector: {labels: {app: curl}}'))).toBe(false);
    expect(canMerge(entry('', ', exportTo: ["."]'), entry('', ', exportTo: [".", "default"]'))).toBe(false);
    expect(canMerge(entry('', ', exportTo: ["."]'), entry('', ', exportTo: ["default"]'))).toBe(false);
  });

  it('reads creation time in whole seconds from a string or a Date, and 0 when absent or unreadable', () => {
    expect(creationSeconds({ metadata: { creationTimestamp: '2026-01-01T00:00:05.900Z' } })).toBe(
      Date.parse('2026-01-01T00:00:05Z') / 1000,
    );
    expect(creationSeconds({ metadata: { creationTimestamp: new Date('2026-01-01T00:00:07.400Z') } })).toBe(
      Date.parse('2026-01-01T00:00:07Z') / 1000,
    );
    expect(creationSeconds({ metadata: { creationTimestamp: 'yesterday' } })).toBe(0);
    expect(creationSeconds({ metadata: {} })).toBe(0);
    expect(creationSeconds({})).toBe(0);
  });
});

describe('same host, same namespace, three entries (sidecar.go appendSidecarServices)', () => {
  const se = (name: string, ts: string, labels: string, ports: number[]) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: frontend, creationTimestamp: "${ts}"${labels}}
spec: {hosts: [a.example.com], ports: [${ports.map((p) => `{number: ${p}, name: p${p}, protocol: TCP}`).join(', ')}], resolution: NONE}
---
`;
  const r = res(
    se('z', '2026-01-01T00:00:00Z', '', [81]) +
      se('m', '2026-01-01T00:00:03Z', '', [82]) +
      se('u', '2026-01-01T00:00:06Z', ', labels: {team: x}', [81, 82, 83]),
  );
  const from = { namespace: 'frontend' };
  const at = (port: number) => ask(r, from, `tcp://a.example.com:${port}`, 'ALLOW_ANY');

  it('a mergeable later entry adds its ports; an unmergeable one loses only the ports the kept service lacks', () => {
    expect(at(81)).toMatchObject({ verdict: 'allowed', cluster: 'outbound|81||a.example.com' });
    expect(at(82)).toMatchObject({ verdict: 'allowed', cluster: 'outbound|82||a.example.com' });
    expect(at(83)).toMatchObject({ verdict: 'blocked', cluster: 'outbound|83||a.example.com', rule: 'se.unmerged-no-cluster' });
    expect(at(83).reason).toContain('istiod keeps frontend/z for a.example.com and drops u');
    expect(at(83).reason).not.toContain('same second');
  });
});
