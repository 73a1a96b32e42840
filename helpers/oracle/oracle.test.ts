// One or more tests per rule of the egress semantics, each naming the Istio source it rests on.
import { describe, expect, it } from 'vitest';
import { expectProbe } from './index.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import type { PolicyMode, ResourceSet } from '../model/types.ts';

const V = '1.30.3';

function res(yaml: string): ResourceSet {
  return loadYamlText(yaml, 'test.yaml', emptyResources());
}

function oracle(r: ResourceSet, from: string, to: string, opts: { policy?: PolicyMode; v?: string; labels?: Record<string, string> } = {}) {
  return expectProbe(
    r,
    { from: { namespace: from, ...(opts.labels ? { labels: opts.labels } : {}) }, to: parseProbeUrl(to) },
    {
      istioVersion: opts.v ?? V,
      ...(opts.policy ? { policy: opts.policy } : {}),
    },
  );
}

const se = (o: {
  name?: string;
  ns?: string;
  hosts?: string[];
  ports?: string;
  exportTo?: string[];
  addresses?: string[];
  resolution?: string;
  endpoints?: string;
  extraMeta?: string;
}) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${o.name ?? 'se'}
  namespace: ${o.ns ?? 'frontend'}
${o.extraMeta ?? ''}
spec:
  hosts: ${JSON.stringify(o.hosts ?? ['db.example.com'])}
  ${o.exportTo ? `exportTo: ${JSON.stringify(o.exportTo)}` : ''}
  ${o.addresses ? `addresses: ${JSON.stringify(o.addresses)}` : ''}
  ports: ${o.ports ?? '[{number: 5432, name: tcp-pg, protocol: TCP}]'}
  resolution: ${o.resolution ?? 'DNS'}
  ${o.endpoints ? `endpoints: ${o.endpoints}` : ''}
---
`;

const sidecar = (o: { name?: string; ns?: string; spec: string; meta?: string }) => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: ${o.name ?? 'sc'}
  namespace: ${o.ns ?? 'default'}
${o.meta ?? ''}
spec:
${o.spec}
---
`;

const iop = (meshConfig: string) => `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
${meshConfig}
---
`;

describe('§1 policy: mesh mode, Sidecar override and precedence (pkg/config/mesh/mesh.go, pilot/pkg/model/sidecar.go, push_context.go)', () => {
  it('defaults to ALLOW_ANY when nothing sets the mode (DefaultMeshConfig)', () => {
    const e = oracle(emptyResources(), 'default', 'tcp://x.example.com:9999');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster', policy: 'ALLOW_ANY', listener: 'virtualOutbound' });
  });

  it('REGISTRY_ONLY from the IstioOperator blocks unknown hosts at TCP level', () => {
    const r = res(iop('    outboundTrafficPolicy: {mode: REGISTRY_ONLY}'));
    expect(oracle(r, 'default', 'tcp://x.example.com:9999')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      signal: 'tcp-close',
    });
  });

  it('--policy overrides the IstioOperator mode', () => {
    const r = res(iop('    outboundTrafficPolicy: {mode: REGISTRY_ONLY}'));
    expect(oracle(r, 'default', 'tcp://x.example.com:9999', { policy: 'ALLOW_ANY' }).verdict).toBe('allowed');
  });

  it('a namespace Sidecar overrides the mesh mode in both directions', () => {
    const allow = res(sidecar({ spec: '  outboundTrafficPolicy: {mode: ALLOW_ANY}' }));
    expect(oracle(allow, 'default', 'tcp://x.example.com:1', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
    expect(oracle(allow, 'frontend', 'tcp://x.example.com:1', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
    const block = res(sidecar({ spec: '  outboundTrafficPolicy: {mode: REGISTRY_ONLY}' }));
    expect(oracle(block, 'default', 'tcp://x.example.com:1', { policy: 'ALLOW_ANY' }).verdict).toBe('blocked');
  });

  it('outboundTrafficPolicy without mode means REGISTRY_ONLY, the enum zero value', () => {
    const r = res(sidecar({ spec: '  outboundTrafficPolicy: {}' }));
    expect(oracle(r, 'default', 'tcp://x.example.com:1', { policy: 'ALLOW_ANY' })).toMatchObject({
      verdict: 'blocked',
      policy: 'REGISTRY_ONLY',
    });
  });

  it('a workloadSelector Sidecar wins over the namespace-wide one for the workloads it selects', () => {
    const r = res(
      sidecar({ name: 'ns-wide', spec: '  outboundTrafficPolicy: {mode: REGISTRY_ONLY}' }) +
        sidecar({ name: 'curl-only', spec: '  workloadSelector: {labels: {app: curl}}\n  outboundTrafficPolicy: {mode: ALLOW_ANY}' }),
    );
    expect(oracle(r, 'default', 'tcp://x.example.com:1', { labels: { app: curl() } }).verdict).toBe('allowed');
    expect(oracle(r, 'default', 'tcp://x.example.com:1', { labels: { app: 'other' } }).verdict).toBe('blocked');
  });

  it('the root-namespace Sidecar applies only where the namespace has none', () => {
    const r = res(
      sidecar({ name: 'root', ns: 'istio-system', spec: '  outboundTrafficPolicy: {mode: REGISTRY_ONLY}' }) +
        sidecar({ name: 'own', ns: 'frontend', spec: '  egress: [{hosts: ["./*"]}]' }),
    );
    expect(oracle(r, 'default', 'tcp://x.example.com:1', { policy: 'ALLOW_ANY' }).verdict).toBe('blocked');
    // No merging: frontend's own Sidecar has no outboundTrafficPolicy, so the mesh value applies.
    expect(oracle(r, 'frontend', 'tcp://x.example.com:1', { policy: 'ALLOW_ANY' }).verdict).toBe('allowed');
  });

  it('an egressProxy in an ALLOW_ANY Sidecar takes unknown traffic instead of PassthroughCluster', () => {
    // The proxy must be a service the workload sees, or its cluster does not exist (fuzz-findings.test.ts).
    const r = res(
      se({ name: 'proxy', ns: 'default', hosts: ['proxy.example.com'], ports: '[{number: 3128, name: tcp, protocol: TCP}]' }) +
        sidecar({ spec: '  outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: proxy.example.com, port: {number: 3128}}}' }),
    );
    expect(oracle(r, 'default', 'tcp://x.example.com:1', { policy: 'REGISTRY_ONLY' })).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|3128||proxy.example.com',
    });
    expect(oracle(r, 'frontend', 'tcp://x.example.com:1', { policy: 'ALLOW_ANY' }).cluster).toBe('PassthroughCluster');
  });

  it('meshConfig.rootNamespace moves the fallback Sidecar', () => {
    const r = res(
      iop('    rootNamespace: mesh-root') +
        sidecar({ name: 'root', ns: 'mesh-root', spec: '  outboundTrafficPolicy: {mode: REGISTRY_ONLY}' }) +
        sidecar({ name: 'old-root', ns: 'istio-system', spec: '  outboundTrafficPolicy: {mode: ALLOW_ANY}' }),
    );
    expect(oracle(r, 'default', 'tcp://x.example.com:1').verdict).toBe('blocked');
  });

  it('of two selector-less Sidecars in a namespace the oldest applies (creationTimestamp, then name)', () => {
    const r = res(
      sidecar({
        name: 'b-older',
        spec: '  outboundTrafficPolicy: {mode: REGISTRY_ONLY}',
        meta: '  creationTimestamp: "2024-01-01T00:00:00Z"',
      }) +
        sidecar({
          name: 'a-newer',
          spec: '  outboundTrafficPolicy: {mode: ALLOW_ANY}',
          meta: '  creationTimestamp: "2025-01-01T00:00:00Z"',
        }),
    );
    expect(oracle(r, 'default', 'tcp://x.example.com:1').verdict).toBe('blocked');
  });
});

function curl(): string {
  return 'curl';
}

describe('§2 visibility: exportTo and defaultServiceExportTo (pilot/pkg/model/push_context.go initServiceRegistry)', () => {
  it('no exportTo: exported everywhere by the default ["*"]', () => {
    const r = res(se({}));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|5432||db.example.com');
  });

  it('"." keeps it in its own namespace', () => {
    const r = res(se({ exportTo: ['.'] }));
    expect(oracle(r, 'frontend', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
  });

  it('a namespace name exports to that namespace only; the own namespace needs "." or its name', () => {
    const r = res(se({ exportTo: ['default'] }));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
    expect(oracle(r, 'frontend', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
    const own = res(se({ exportTo: ['frontend'] }));
    expect(oracle(own, 'frontend', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
  });

  it('"~" hides it from everyone', () => {
    const r = res(se({ exportTo: ['~'] }));
    expect(oracle(r, 'frontend', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
  });

  it('several names combine as a union', () => {
    const r = res(se({ exportTo: ['.', 'default'] }));
    for (const ns of ['frontend', 'default'])
      expect(oracle(r, ns, 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
    expect(oracle(r, 'other', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
  });

  it('defaultServiceExportTo ["."] makes entries without exportTo private', () => {
    const r = res(iop('    defaultServiceExportTo: ["."]') + se({}));
    expect(oracle(r, 'frontend', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
  });

  it('defaultServiceExportTo naming namespaces: honoured from 1.30.3 (commit 99f2f4f55d5), exported nowhere up to 1.30.2', () => {
    const r = res(iop('    defaultServiceExportTo: ["default"]') + se({}));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.30.3' }).verdict).toBe('allowed');
    expect(oracle(r, 'frontend', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.30.3' }).verdict).toBe('blocked');
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.30.2' }).verdict).toBe('blocked');
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.28.0' }).verdict).toBe('blocked');
  });

  it('defaultServiceExportTo with both "." and "*": "." won up to 1.30.2, "*" wins from 1.30.3', () => {
    const r = res(iop('    defaultServiceExportTo: [".", "*"]') + se({}));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.30.2' }).verdict).toBe('blocked');
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.30.3' }).verdict).toBe('allowed');
  });

  it('defaultServiceExportTo ["frontend", "default"] on 1.30.3 covers both namespaces', () => {
    const r = res(iop('    defaultServiceExportTo: ["frontend", "default"]') + se({ ns: 'infra' }));
    for (const ns of ['frontend', 'default'])
      expect(oracle(r, ns, 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
    expect(oracle(r, 'infra', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
  });

  it('an explicit exportTo ignores the mesh default', () => {
    const r = res(iop('    defaultServiceExportTo: ["~"]') + se({ exportTo: ['*'] }));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
  });
});

describe('§2 imports: Sidecar egress hosts (pilot/pkg/model/sidecar.go selectServices, hostClassification)', () => {
  it('a service exported to all but not imported is unknown: the policy decides', () => {
    const r = res(se({ exportTo: ['*'] }) + sidecar({ spec: '  egress: [{hosts: ["./*", "istio-system/*"]}]' }));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' })).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'ALLOW_ANY' }).cluster).toBe('PassthroughCluster');
    expect(oracle(r, 'frontend', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
  });

  it('ns/host imports by the namespace the ServiceEntry lives in, with wildcard dnsNames', () => {
    const good = res(se({}) + sidecar({ spec: '  egress: [{hosts: ["frontend/*.example.com"]}]' }));
    expect(oracle(good, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
    const wrongNs = res(se({}) + sidecar({ spec: '  egress: [{hosts: ["default/db.example.com"]}]' }));
    expect(oracle(wrongNs, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
    const any = res(se({}) + sidecar({ spec: '  egress: [{hosts: ["*/db.example.com"]}]' }));
    expect(oracle(any, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
  });

  it('an exact import does not pull in a wildcard ServiceEntry host (SubsetOf is one-way)', () => {
    const r = res(
      se({ hosts: ['*.example.com'], ports: '[{number: 443, name: tls, protocol: TLS}]', resolution: 'NONE' }) +
        sidecar({ spec: '  egress: [{hosts: ["*/api.example.com"]}]' }),
    );
    expect(oracle(r, 'default', 'https://api.example.com/', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
  });

  it('"." in the root-namespace Sidecar means the workload\'s own namespace', () => {
    const r = res(se({ ns: 'default' }) + sidecar({ ns: 'istio-system', spec: '  egress: [{hosts: ["./*"]}]' }));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
  });

  it('a Sidecar without egress imports */*', () => {
    const r = res(se({}) + sidecar({ spec: '  outboundTrafficPolicy: {mode: REGISTRY_ONLY}' }));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432').verdict).toBe('allowed');
  });

  it('"~/*" imports nothing on 1.30; from 1.31 it excludes everything even beside other hosts (commit 4c3c712eed2)', () => {
    const r = res(se({ ns: 'default' }) + sidecar({ spec: '  egress: [{hosts: ["./*", "~/*"]}]' }));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.30.3' }).verdict).toBe('allowed');
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.31.0' }).verdict).toBe('blocked');
  });

  it('an egress listener with a port imports for that port only', () => {
    const r = res(
      se({
        ns: 'default',
        hosts: ['api.example.com'],
        ports: '[{number: 80, name: http, protocol: HTTP}, {number: 443, name: tls, protocol: TLS}]',
      }) +
        sidecar({
          spec: '  egress:\n  - port: {number: 80, protocol: HTTP, name: http}\n    hosts: ["./api.example.com"]\n  - hosts: ["istio-system/*"]',
        }),
    );
    expect(oracle(r, 'default', 'http://api.example.com/', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
    expect(oracle(r, 'default', 'https://api.example.com/', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
  });
});

describe('§3 HTTP ports: routes, virtual hosts and the catch-all (pilot/pkg/networking/core/httproute.go)', () => {
  const api = se({ ns: 'default', hosts: ['api.example.com'], ports: '[{number: 80, name: http, protocol: HTTP}]' });

  it('a declared host reaches its cluster under both policies', () => {
    for (const policy of ['ALLOW_ANY', 'REGISTRY_ONLY'] as const) {
      expect(oracle(res(api), 'frontend', 'http://api.example.com/', { policy })).toMatchObject({
        verdict: 'allowed',
        cluster: 'outbound|80||api.example.com',
        listener: '0.0.0.0_80',
      });
    }
  });

  it('an unknown host on that port hits the catch-all: allow_any passes, block_all answers 502', () => {
    expect(oracle(res(api), 'frontend', 'http://other.example.com/', { policy: 'ALLOW_ANY' }).cluster).toBe('PassthroughCluster');
    expect(oracle(res(api), 'frontend', 'http://other.example.com/', { policy: 'REGISTRY_ONLY' })).toMatchObject({
      verdict: 'blocked',
      signal: 'http-502',
    });
  });

  it('with no HTTP service on the port, HTTP to an unknown host is closed at TCP level, not 502', () => {
    expect(oracle(res(api), 'frontend', 'http://other.example.com:8080/', { policy: 'REGISTRY_ONLY' })).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
      listener: 'virtualOutbound',
    });
  });

  it('virtual hosts match wildcard hosts, exact first', () => {
    const r = res(
      se({
        ns: 'default',
        name: 'wild',
        hosts: ['*.example.com'],
        ports: '[{number: 80, name: http, protocol: HTTP}]',
        resolution: 'NONE',
      }) + api,
    );
    expect(oracle(r, 'frontend', 'http://x.example.com/', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|80||*.example.com');
    expect(oracle(r, 'frontend', 'http://api.example.com/', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|80||api.example.com');
    expect(oracle(r, 'frontend', 'http://example.com/', { policy: 'REGISTRY_ONLY' }).signal).toBe('http-502');
  });

  it('non-HTTP bytes on an HTTP port take the default chain to the policy cluster', () => {
    expect(oracle(res(api), 'frontend', 'https://api.example.com:80/', { policy: 'REGISTRY_ONLY' })).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
      listener: '0.0.0.0_80',
    });
    expect(oracle(res(api), 'frontend', 'tcp://api.example.com:80', { policy: 'ALLOW_ANY' }).cluster).toBe('PassthroughCluster');
  });

  it('an unset protocol is sniffed: HTTP gets a route with the catch-all, other bytes the entry', () => {
    const r = res(se({ ports: '[{number: 5432, name: pg}]' }));
    expect(oracle(r, 'frontend', 'http://unknown.example.com:5432/', { policy: 'REGISTRY_ONLY' }).signal).toBe('http-502');
    expect(oracle(r, 'frontend', 'tcp://unknown.example.com:5432', { policy: 'REGISTRY_ONLY' }).cluster).toBe(
      'outbound|5432||db.example.com',
    );
    expect(oracle(r, 'frontend', 'http://db.example.com:5432/', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|5432||db.example.com');
  });
});

describe('§3 TLS ports: SNI chains and the default chain (pilot/pkg/networking/core/tls.go)', () => {
  const tls = se({ ns: 'default', hosts: ['api.example.com'], ports: '[{number: 443, name: tls, protocol: TLS}]' });

  it('a matching SNI reaches the entry under both policies', () => {
    expect(oracle(res(tls), 'frontend', 'https://api.example.com/', { policy: 'REGISTRY_ONLY' }).cluster).toBe(
      'outbound|443||api.example.com',
    );
  });

  it('no SNI match, no TLS, or an IP literal (no SNI) falls to the policy', () => {
    for (const to of ['https://other.example.com/', 'http://api.example.com:443/', 'https://192.0.2.7/']) {
      expect(oracle(res(tls), 'frontend', to, { policy: 'REGISTRY_ONLY' })).toMatchObject({
        verdict: 'blocked',
        signal: 'tcp-close',
        listener: '0.0.0.0_443',
      });
      expect(oracle(res(tls), 'frontend', to, { policy: 'ALLOW_ANY' }).cluster).toBe('PassthroughCluster');
    }
  });

  it('wildcard SNI hosts match subdomains, the longest wildcard first', () => {
    const r = res(
      se({ ns: 'default', name: 'w1', hosts: ['*.example.com'], ports: '[{number: 443, name: tls, protocol: TLS}]', resolution: 'NONE' }) +
        se({
          ns: 'default',
          name: 'w2',
          hosts: ['*.api.example.com'],
          ports: '[{number: 443, name: tls, protocol: TLS}]',
          resolution: 'NONE',
        }),
    );
    expect(oracle(r, 'frontend', 'https://v1.api.example.com/', { policy: 'REGISTRY_ONLY' }).cluster).toBe(
      'outbound|443||*.api.example.com',
    );
    expect(oracle(r, 'frontend', 'https://db.example.com/', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|443||*.example.com');
  });
});

describe('§3 TCP ports: match-all capture and addresses (pilot/pkg/networking/core/listener.go, mergeTCPFilterChains)', () => {
  it('a TCP entry without addresses captures every connection to its port, under both policies', () => {
    for (const policy of ['ALLOW_ANY', 'REGISTRY_ONLY'] as const) {
      expect(oracle(res(se({})), 'default', 'tcp://unlisted.example.com:5432', { policy })).toMatchObject({
        verdict: 'allowed',
        cluster: 'outbound|5432||db.example.com',
        listener: '0.0.0.0_5432',
      });
      expect(oracle(res(se({})), 'default', 'tcp://203.0.113.9:5432', { policy }).cluster).toBe('outbound|5432||db.example.com');
    }
  });

  it('with an address only that destination matches; hostnames resolve elsewhere and fall to the policy', () => {
    const r = res(se({ addresses: ['192.0.2.10'] }));
    expect(oracle(r, 'default', 'tcp://192.0.2.10:5432', { policy: 'REGISTRY_ONLY' })).toMatchObject({
      cluster: 'outbound|5432||db.example.com',
      listener: '192.0.2.10_5432',
    });
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
    expect(oracle(r, 'default', 'tcp://192.0.2.11:5432', { policy: 'ALLOW_ANY' }).cluster).toBe('PassthroughCluster');
  });

  it('a CIDR address matches destinations inside the range only', () => {
    const r = res(se({ addresses: ['192.0.2.0/24'], resolution: 'NONE' }));
    expect(oracle(r, 'default', 'tcp://192.0.2.77:5432', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|5432||db.example.com');
    expect(oracle(r, 'default', 'tcp://198.51.100.1:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('blocked');
  });

  it('two TCP entries on one port: the first processed keeps the port (creation time, then hostname)', () => {
    const r = res(se({ name: 'zz', hosts: ['b.example.com'] }) + se({ name: 'aa', hosts: ['a.example.com'] }));
    const e = oracle(r, 'default', 'tcp://b.example.com:5432', { policy: 'REGISTRY_ONLY' });
    expect(e.cluster).toBe('outbound|5432||a.example.com');
    expect(e.reason).toMatch(/lost the port/);
    const dated = res(
      se({ name: 'zz', hosts: ['b.example.com'], extraMeta: '  creationTimestamp: "2024-01-01T00:00:00Z"' }) +
        se({ name: 'aa', hosts: ['a.example.com'], extraMeta: '  creationTimestamp: "2025-01-01T00:00:00Z"' }),
    );
    expect(oracle(dated, 'default', 'tcp://a.example.com:5432', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|5432||b.example.com');
  });

  it('entries exported to the namespace by name are processed before public ones', () => {
    const r = res(
      se({ name: 'public', hosts: ['a.example.com'], exportTo: ['*'] }) +
        se({ name: 'named', hosts: ['z.example.com'], exportTo: ['default'] }),
    );
    expect(oracle(r, 'default', 'tcp://q.example.com:5432', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|5432||z.example.com');
  });

  it('a TLS entry and a TCP entry share a port: SNI matches go to TLS, the rest to the TCP entry', () => {
    const r = res(
      se({ name: 'tls', hosts: ['api.example.com'], ports: '[{number: 443, name: tls, protocol: TLS}]' }) +
        se({ name: 'tcp', hosts: ['raw.example.com'], ports: '[{number: 443, name: tcp, protocol: TCP}]' }),
    );
    expect(oracle(r, 'default', 'https://api.example.com/', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|443||api.example.com');
    expect(oracle(r, 'default', 'https://other.example.com/', { policy: 'REGISTRY_ONLY' }).cluster).toBe('outbound|443||raw.example.com');
  });

  it('an HTTP and a TCP entry share a port: HTTP is routed by Host, other bytes go to the TCP entry', () => {
    const r = res(
      se({ name: 'http', hosts: ['api.example.com'], ports: '[{number: 8080, name: http, protocol: HTTP}]' }) +
        se({ name: 'tcp', hosts: ['raw.example.com'], ports: '[{number: 8080, name: tcp, protocol: TCP}]' }),
    );
    expect(oracle(r, 'default', 'http://other.example.com:8080/', { policy: 'REGISTRY_ONLY' }).signal).toBe('http-502');
    expect(oracle(r, 'default', 'tcp://other.example.com:8080', { policy: 'REGISTRY_ONLY' }).cluster).toBe(
      'outbound|8080||raw.example.com',
    );
  });

  it('an unset-protocol entry after an HTTP one on the same port: its TCP chain is dropped (both pinned istiod builds)', () => {
    const r = res(
      se({
        name: 'http',
        hosts: ['api.example.com'],
        ports: '[{number: 8080, name: http, protocol: HTTP}]',
        extraMeta: '  creationTimestamp: "2024-01-01T00:00:00Z"',
      }) +
        se({
          name: 'sniffed',
          hosts: ['raw.example.com'],
          ports: '[{number: 8080, name: p}]',
          extraMeta: '  creationTimestamp: "2025-01-01T00:00:00Z"',
        }),
    );
    expect(oracle(r, 'default', 'tcp://raw.example.com:8080', { policy: 'REGISTRY_ONLY', v: '1.30.3' }).verdict).toBe('blocked');
    expect(oracle(r, 'default', 'tcp://raw.example.com:8080', { policy: 'REGISTRY_ONLY', v: '1.32.0-alpha.eed52ebb66ad' }).verdict).toBe(
      'blocked',
    );
  });

  it('UDP ports are not captured: no listener, the policy decides for TCP probes on them', () => {
    const r = res(se({ ports: '[{number: 5432, name: udp, protocol: UDP}]' }));
    expect(oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).listener).toBe('virtualOutbound');
  });

  it("resolution is named in the reason: DNS connects to the entry's host, not the dialled one", () => {
    expect(oracle(res(se({})), 'default', 'tcp://unlisted.example.com:5432').reason).toMatch(/resolved address, not to the dialled one/);
    expect(oracle(res(se({ resolution: 'NONE' })), 'default', 'tcp://unlisted.example.com:5432').reason).not.toMatch(/resolved address/);
  });

  it('location does not change reachability', () => {
    const internal = res(se({}).replace('resolution: DNS', 'resolution: DNS\n  location: MESH_INTERNAL'));
    expect(oracle(internal, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' }).verdict).toBe('allowed');
  });
});

describe('§5 DNS capture and auto-allocated addresses (model/service.go nodeUsesAutoallocatedIPs)', () => {
  const dns = iop('    defaultConfig:\n      proxyMetadata:\n        ISTIO_META_DNS_CAPTURE: "true"');

  it('from 1.25 a TCP entry binds its auto address, so other hosts on the port fall to the policy', () => {
    const r = res(dns + se({}));
    const own = oracle(r, 'default', 'tcp://db.example.com:5432', { policy: 'REGISTRY_ONLY' });
    expect(own.cluster).toBe('outbound|5432||db.example.com');
    expect(own.listener).toMatch(/^240\.240\.\d+\.\d+_5432$/);
    expect(oracle(r, 'default', 'tcp://unlisted.example.com:5432', { policy: 'REGISTRY_ONLY' })).toMatchObject({
      verdict: 'blocked',
      listener: 'virtualOutbound',
    });
  });

  it('before 1.25 (no auto-allocation by default) the entry still captures the whole port', () => {
    const r = res(dns + se({}));
    expect(oracle(r, 'default', 'tcp://unlisted.example.com:5432', { policy: 'REGISTRY_ONLY', v: '1.24.0' }).cluster).toBe(
      'outbound|5432||db.example.com',
    );
  });

  it('resolution NONE and wildcard hosts get no auto address', () => {
    const r = res(dns + se({ resolution: 'NONE' }));
    expect(oracle(r, 'default', 'tcp://unlisted.example.com:5432', { policy: 'REGISTRY_ONLY' }).cluster).toBe(
      'outbound|5432||db.example.com',
    );
  });

  it('without DNS capture the wildcard listener stays', () => {
    expect(oracle(res(se({})), 'default', 'tcp://unlisted.example.com:5432', { policy: 'REGISTRY_ONLY' }).listener).toBe('0.0.0.0_5432');
  });
});
