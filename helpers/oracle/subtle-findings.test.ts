// Rules found by reading Istio's source for cases the fuzzer's generator does not produce, each confirmed on
// the real istiod (`egress-conformance expect`) and pinned by a fixture in fixtures/rules/.
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const V = PINNED.controlPlane.istioVersion;

const entries = (...docs: string[]) => loadYamlText(docs.join('\n---\n'), 'subtle.yaml', emptyResources());
const se = (name: string, spec: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: default}
spec: ${spec}
`;
const ask = (r: ReturnType<typeof entries>, to: string, policy: 'ALLOW_ANY' | 'REGISTRY_ONLY' = 'REGISTRY_ONLY') =>
  expectProbe(r, { from: { namespace: 'default' }, to: parseProbeUrl(to) }, { istioVersion: V, policy });

describe('a CIDR on 0.0.0.0 is no prefix: its chain matches every destination (listener.go toFilterChainMatch)', () => {
  // pilot/pkg/networking/core/listener.go: a CIDR service binds the wildcard listener with a CIDR chain, but
  // filterChainOpts.toFilterChainMatch leaves out a prefix range whose address is 0.0.0.0, and
  // filterChainMatchEqual (cidrSet) skips it when checking conflicts. Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/unspecified-cidr.yaml.
  it('0.0.0.0/1 takes a destination outside 0.0.0.0/1 too', () => {
    const r = entries(
      se(
        'half',
        '{hosts: [half.example.com], addresses: [0.0.0.0/1], ports: [{number: 6000, name: tcp, protocol: TCP}], resolution: NONE}',
      ),
    );
    const e = ask(r, 'tcp://203.0.113.5:6000');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|6000||half.example.com' });
    expect(e.rules).toContain('listener.unspecified-cidr');
  });

  it('0.0.0.0/0 conflicts with an address-less TCP entry of the port: the first processed keeps the chain', () => {
    const r = entries(
      se(
        'any-db',
        '{hosts: [any-db.example.com], addresses: [0.0.0.0/0], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: NONE}',
      ),
      se('a-pg', '{hosts: [a-pg.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: NONE}'),
    );
    // istiod: listener 0.0.0.0_5432 → filter_chains[0] → outbound|5432||a-pg.example.com (a-pg sorts first by host).
    expect(ask(r, 'tcp://203.0.113.5:5432')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||a-pg.example.com' });
  });

  it('an address 0.0.0.0 is the wildcard listener itself; a real CIDR keeps its prefix', () => {
    const r = entries(
      se('zero', '{hosts: [zero.example.com], addresses: [0.0.0.0], ports: [{number: 7000, name: tcp, protocol: TCP}], resolution: NONE}'),
      se('net', '{hosts: [net.example.com], addresses: [10.0.0.0/8], ports: [{number: 7001, name: tcp, protocol: TCP}], resolution: NONE}'),
    );
    expect(ask(r, 'tcp://203.0.113.5:7000')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|7000||zero.example.com',
      listener: '0.0.0.0_7000',
    });
    expect(ask(r, 'tcp://203.0.113.5:7001')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(ask(r, 'tcp://203.0.113.5:7001').rules).not.toContain('listener.unspecified-cidr');
  });
});

describe('an unset-protocol entry after an HTTP_PROXY one replaces its listener entry (listener.go AutoOverHTTP)', () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListener: an HTTP_PROXY port builds an HTTP chain
  // without ALPN match and the entry keeps protocol HTTP_PROXY (IsHTTP), so a later Auto port is AutoOverHTTP and
  // overrides the entry with its TCP and sniffed HTTP chains; after a plain HTTP entry it exits early. Checked on
  // istiod eed52ebb66ad (2026-12-03), fixtures/rules/sniffed-after-http-proxy.yaml.
  const r = (first: string) =>
    entries(
      se('a-proxy', `{hosts: [a-proxy.example.com], ports: [{number: 3128, name: proxy, protocol: ${first}}], resolution: DNS}`),
      se('b-sniff', '{hosts: [b-sniff.example.com], ports: [{number: 3128, name: sniff}], resolution: NONE}'),
    );
  it("non-HTTP traffic takes the sniffed entry's match-all chain", () => {
    const e = ask(r('HTTP_PROXY'), 'tcp://203.0.113.5:3128');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|3128||b-sniff.example.com' });
    expect(e.rules).toContain('listener.sniffed-over-http-proxy');
  });
  it("plain HTTP still takes route 3128, the HTTP_PROXY entry's virtual host or the catch-all", () => {
    expect(ask(r('HTTP_PROXY'), 'http://a-proxy.example.com:3128/')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|3128||a-proxy.example.com',
    });
    expect(ask(r('HTTP_PROXY'), 'http://unknown.example.com:3128/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
  it('after a plain HTTP entry the sniffed entry loses its TCP chain', () => {
    const e = ask(r('HTTP'), 'tcp://203.0.113.5:3128');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(e.rules).toContain('listener.sniffed-after-http');
  });
});

describe('a later HTTP_PROXY entry replaces the chains earlier entries left on the port (listener.go NoConflict)', () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListener builds an HTTP_PROXY port's chains before
  // any conflict check and stores them as a new entry, so a TCP entry's match-all chain is gone; a TCP entry after
  // it merges a match-all chain equal to the HTTP chain's empty match and is dropped. Either way a raw TCP call
  // meets an HTTP connection manager, which istiod's lane reports as an error ("depends on the client bytes"):
  // checked on istiod eed52ebb66ad (2026-12-03). The model says so aloud, and keeps the SNI chain of a TLS entry.
  const r = (a: string, b: string) =>
    entries(
      se('a', `{hosts: [a.example.com], ports: [{number: 3129, name: p, protocol: ${a}}], resolution: NONE}`),
      se('b', `{hosts: [b.example.com], ports: [{number: 3129, name: p, protocol: ${b}}], resolution: NONE}`),
    );
  it.each([
    ['TCP', 'HTTP_PROXY'],
    ['HTTP_PROXY', 'TCP'],
  ])('%s then %s: a raw TCP call is not modelled, it takes no TCP chain', (a, b) => {
    const e = ask(r(a, b), 'tcp://203.0.113.5:3129');
    expect(e.notModelled).toEqual(['a non-HTTP call on an HTTP_PROXY port (an HTTP connection manager takes it)']);
    expect(e.cluster).not.toMatch(/^outbound/);
    expect(ask(r(a, b), 'http://b.example.com:3129/').notModelled).toBeUndefined();
  });
  it('a TLS entry keeps its SNI chain beside the HTTP_PROXY one', () => {
    const e = ask(r('HTTP_PROXY', 'TLS'), 'https://b.example.com:3129/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|3129||b.example.com' });
    expect(e.notModelled).toBeUndefined();
  });
});

describe("a DNS entry's subset keeps only the endpoints its labels select (cluster_builder.go buildSubsetCluster)", () => {
  // cluster_builder.go: a STRICT_DNS/LOGICAL_DNS subset cluster's endpoints are filtered by the subset's labels and
  // buildCluster drops such a cluster without endpoints; serviceentry/conversion.go gives an entry without endpoints
  // one endpoint, its host, with no labels. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/dns-subset-labels.yaml.
  const scenario = (entry: string, subset: string) =>
    entries(
      se('s', entry),
      `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: s, namespace: default}
spec: {host: s.example.com, subsets: [${subset}]}
`,
      `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: s, namespace: default}
spec: {hosts: [s.example.com], http: [{route: [{destination: {host: s.example.com, subset: v1}}]}]}
`,
    );
  const dns = '{hosts: [s.example.com], ports: [{number: 8081, name: http, protocol: HTTP}], resolution: DNS}';
  it('a labelled subset of a DNS entry without endpoints has no cluster: 503', () => {
    const e = ask(scenario(dns, '{name: v1, labels: {version: v1}}'), 'http://s.example.com:8081/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|8081|v1|s.example.com', signal: 'http-503' });
    expect(e.reason).toContain('has one endpoint, its host, without labels');
  });
  it('a subset without labels, a PASSTHROUGH subset, or endpoints carrying the labels keep it', () => {
    expect(ask(scenario(dns, '{name: v1}'), 'http://s.example.com:8081/').verdict).toBe('allowed');
    expect(
      ask(
        scenario(dns, '{name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}'),
        'http://s.example.com:8081/',
      ).verdict,
    ).toBe('allowed');
    const labelled =
      '{hosts: [s.example.com], ports: [{number: 8081, name: http, protocol: HTTP}], resolution: DNS, endpoints: [{address: backend.example.org, labels: {version: v1}}]}';
    expect(ask(scenario(labelled, '{name: v1, labels: {version: v1}}'), 'http://s.example.com:8081/').verdict).toBe('allowed');
    expect(ask(scenario(labelled, '{name: v1, labels: {version: v2}}'), 'http://s.example.com:8081/').verdict).toBe('blocked');
  });
  it("the rule's own PASSTHROUGH load balancer makes the subset ORIGINAL_DST too (applyDestinationRule)", () => {
    const r = entries(
      se('s', dns),
      `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: s, namespace: default}
spec: {host: s.example.com, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}, subsets: [{name: v1, labels: {version: v1}}]}
`,
      `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: s, namespace: default}
spec: {hosts: [s.example.com], http: [{route: [{destination: {host: s.example.com, subset: v1}}]}]}
`,
    );
    expect(ask(r, 'http://s.example.com:8081/').verdict).toBe('allowed');
  });
  it('resolution NONE (ORIGINAL_DST) needs no endpoints', () => {
    const none = '{hosts: [s.example.com], ports: [{number: 8081, name: http, protocol: HTTP}], resolution: NONE}';
    expect(ask(scenario(none, '{name: v1, labels: {version: v1}}'), 'http://s.example.com:8081/').verdict).toBe('allowed');
  });
});

describe('meshConfig.defaultDestinationRuleExportTo ["."] makes a DestinationRule without exportTo private (push_context.go setDestinationRules)', () => {
  // push_context.go setDestinationRules: `exportToSet.IsEmpty() && ps.exportToDefaults.destinationRule.Contains(
  // visibility.Private)` → isPrivateOnly. Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/default-destination-rule-export.yaml.
  const r = (meshDefault: string) =>
    loadYamlText(
      `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec: {meshConfig: {defaultDestinationRuleExportTo: ${meshDefault}}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: pay, namespace: frontend}
spec: {hosts: [pay.example.com], ports: [{number: 8080, name: http, protocol: HTTP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pay, namespace: frontend}
spec: {host: pay.example.com, subsets: [{name: v1}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pay, namespace: default}
spec: {hosts: [pay.example.com], exportTo: ["*"], http: [{route: [{destination: {host: pay.example.com, subset: v1}}]}]}
`,
      'dr.yaml',
      emptyResources(),
    );
  const from = (ns: string, meshDefault: string) =>
    expectProbe(
      r(meshDefault),
      { from: { namespace: ns }, to: parseProbeUrl('http://pay.example.com:8080/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );
  it("another namespace loses the subset, the rule's own keeps it", () => {
    expect(from('default', '["."]')).toMatchObject({ verdict: 'blocked', cluster: 'outbound|8080|v1|pay.example.com', signal: 'http-503' });
    expect(from('frontend', '["."]')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080|v1|pay.example.com' });
  });
  it('`*`, or `.` beside `*` (only `.` counts)', () => {
    expect(from('default', '["*"]').verdict).toBe('allowed');
    expect(from('default', '[".", "*"]').verdict).toBe('blocked');
  });
});

describe("a DestinationRule's workloadSelector picks the workloads it applies to (sidecar.go SidecarScope.DestinationRule)", () => {
  // sidecar.go SidecarScope.DestinationRule: the first entry of the proxy's namespace whose selector the proxy's
  // labels hold, else the last entry without a selector; a rule with a selector and one without stand apart.
  // Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/destination-rule-selector.yaml.
  const dr = (name: string, selector: string, subset: string) => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: default}
spec: {host: api.example.com, ${selector ? `workloadSelector: {matchLabels: ${selector}}, ` : ''}subsets: [{name: ${subset}}]}
`;
  const vs = (subset: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: default}
spec: {hosts: [api.example.com], http: [{route: [{destination: {host: api.example.com, subset: ${subset}}}]}]}
`;
  const api = se('api', '{hosts: [api.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}');
  const from = (r: ReturnType<typeof entries>, labels?: Record<string, string>) =>
    expectProbe(
      r,
      { from: { namespace: 'default', ...(labels ? { labels } : {}) }, to: parseProbeUrl('http://api.example.com/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    ).verdict;
  it('a client the selector does not pick has no subset cluster', () => {
    const r = entries(api, dr('sel', '{app: other}', 'v1'), vs('v1'));
    expect(from(r)).toBe('blocked');
    expect(from(r, { app: 'other' })).toBe('allowed');
  });
  it('a rule with a selector and one without stay apart: each client gets one of them', () => {
    const toV1 = entries(api, dr('a-all', '', 'v1'), dr('b-sel', '{app: other}', 'v2'), vs('v1'));
    expect(from(toV1)).toBe('allowed');
    expect(from(toV1, { app: 'other' })).toBe('blocked');
    const toV2 = entries(api, dr('a-all', '', 'v1'), dr('b-sel', '{app: other}', 'v2'), vs('v2'));
    expect(from(toV2)).toBe('blocked');
    expect(from(toV2, { app: 'other' })).toBe('allowed');
  });
});

describe('upper-case letters in hosts (pkg/config/labels dns1123LabelFmt: [a-zA-Z0-9])', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: up, namespace: default}
spec: {hosts: [API.Example.com], ports: [{number: 443, name: TLS-Port, protocol: TLS}], resolution: DNS, exportTo: [default]}
`;
  it('are accepted, as the pinned istioctl validate accepts them, and the model says it compares names as written', () => {
    const r = loadYamlText(yaml, 'upper.yaml', emptyResources());
    const a = expectProbe(
      r,
      { from: { namespace: 'default' }, to: parseProbeUrl('https://api.example.com/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );
    // Checked on istiod eed52ebb66ad (2026-12-03): no SNI chain for api.example.com, BlackHoleCluster.
    expect(a).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(a.notModelled).toContain('upper-case letters in host names (the model compares host names as written, case included)');
    expect(a.reason).toMatch(/not modelled: upper-case letters in host names/);
  });
});

const doc = (kind: string, name: string, spec: string, meta = '') => `
apiVersion: networking.istio.io/v1
kind: ${kind}
metadata: {name: ${name}, namespace: default${meta}}
spec: ${spec}
`;
const DESTS = se(
  'dests',
  '{hosts: [one.example.org, two.example.org, three.example.org], ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: http-alt, protocol: HTTP}], resolution: DNS}',
);
const route = (host: string) => `[{route: [{destination: {host: ${host}}}]}]`;
const askFrom = (r: ReturnType<typeof entries>, from: string, to: string, labels?: Record<string, string>) =>
  expectProbe(
    r,
    { from: { namespace: from, ...(labels ? { labels } : {}) }, to: parseProbeUrl(to) },
    { istioVersion: V, policy: 'REGISTRY_ONLY' },
  );

describe('which VirtualService takes an HTTP virtual host (route.go separateVSHostsAndServices, sidecar.go computeWildcardHostVirtualServiceIndex)', () => {
  // pilot/pkg/networking/core/route/route.go separateVSHostsAndServices: a VirtualService takes a service of the
  // route by an exact host, or by a wildcard host that overlaps it when mostSpecificWildcardVsIndex (sidecar.go
  // computeWildcardHostVirtualServiceIndex, model/config.go MostSpecificHostMatch: exact first, then the longest
  // wildcard) gives that host to it. A host no service has is a virtual host of its own on port 80
  // (buildSidecarVirtualHostsForVirtualService `listenPort == 80`), elsewhere only beside a service the same
  // VirtualService takes with an HTTP port there. Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/vs-wildcard-hosts.yaml.
  const wildcardEntry = se(
    'wild',
    '{hosts: ["*.example.com"], ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: http-alt, protocol: HTTP}], resolution: NONE}',
  );
  it('an exact host under a wildcard entry is routed on port 80 only; on 8080 the wildcard entry keeps it', () => {
    const r = entries(DESTS, wildcardEntry, doc('VirtualService', 'exact', `{hosts: [a.example.com], http: ${route('one.example.org')}}`));
    expect(ask(r, 'http://a.example.com/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||one.example.org' });
    expect(ask(r, 'http://a.example.com:8080/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||*.example.com' });
  });

  it('an exact host beats an older wildcard VirtualService, the most specific wildcard a broader one', () => {
    const r = entries(
      DESTS,
      se(
        'net',
        '{hosts: [a.example.net, x.a.example.net], ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: http-alt, protocol: HTTP}], resolution: DNS}',
      ),
      doc(
        'VirtualService',
        'aa-wild',
        `{hosts: ["*.example.net"], http: ${route('one.example.org')}}`,
        ', creationTimestamp: "2026-01-01T00:00:00Z"',
      ),
      doc(
        'VirtualService',
        'zz-exact',
        `{hosts: [a.example.net, "*.a.example.net"], http: ${route('two.example.org')}}`,
        ', creationTimestamp: "2026-01-01T00:00:05Z"',
      ),
    );
    expect(ask(r, 'http://a.example.net/').cluster).toBe('outbound|80||two.example.org');
    expect(ask(r, 'http://x.a.example.net:8080/').cluster).toBe('outbound|8080||two.example.org');
    // The older wildcard matched services, so `*.example.net` is no virtual host of its own: the catch-all.
    expect(ask(r, 'http://b.example.net/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });

  it('a wildcard VirtualService more specific than a wildcard entry takes no part of it', () => {
    const r = entries(
      DESTS,
      wildcardEntry,
      doc('VirtualService', 'deeper', `{hosts: ["*.a.example.com"], http: ${route('one.example.org')}}`),
    );
    expect(ask(r, 'http://x.a.example.com/').cluster).toBe('outbound|80||*.example.com');
    expect(ask(r, 'http://x.a.example.com:8080/').cluster).toBe('outbound|8080||*.example.com');
  });

  it('on 8080 a host no service has is routed beside a service the VirtualService takes there, not alone', () => {
    const r = entries(
      DESTS,
      se('dev', '{hosts: [a.example.dev], ports: [{number: 8080, name: http, protocol: HTTP}], resolution: DNS}'),
      doc('VirtualService', 'mixed', `{hosts: [a.example.dev, nowhere.example.dev], http: ${route('two.example.org')}}`),
      doc('VirtualService', 'lonely', `{hosts: [lonely.example.dev], http: ${route('one.example.org')}}`),
    );
    expect(ask(r, 'http://nowhere.example.dev:8080/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||two.example.org' });
    expect(ask(r, 'http://lonely.example.dev:8080/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(ask(r, 'http://lonely.example.dev/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||one.example.org' });
  });
});

describe("a VirtualService's http routes as a sidecar gets them (route.go TranslateRoute, sourceMatchHTTP)", () => {
  // pilot/pkg/networking/core/route/route.go TranslateRoute drops a match for another port and, by sourceMatchHTTP,
  // one whose sourceLabels the Pod lacks or whose sourceNamespace is another (a match naming `mesh` among its
  // gateways is kept whatever its source fields). BuildHTTPRoutesForVirtualService without any route builds no
  // virtual host; with routes none of which matches the path, Envoy answers 404 (NR). Checked on istiod eed52ebb66ad
  // (2026-12-03), fixtures/rules/vs-route-matching.yaml.
  const api = se(
    'api',
    '{hosts: [api.example.com, src.example.com, fall.example.com], ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: http-alt, protocol: HTTP}], resolution: DNS}',
  );
  it('routes that survive but do not match the path: 404, not the service route', () => {
    const r = entries(
      DESTS,
      api,
      doc(
        'VirtualService',
        'api',
        '{hosts: [api.example.com], http: [{match: [{uri: {prefix: /api}}], route: [{destination: {host: one.example.org}}]}, {match: [{port: 8080}], route: [{destination: {host: one.example.org, port: {number: 80}}}]}]}',
      ),
    );
    expect(ask(r, 'http://api.example.com/')).toMatchObject({ verdict: 'blocked', cluster: '(no route)', signal: 'http-404' });
    expect(ask(r, 'http://api.example.com/api/v1').cluster).toBe('outbound|80||one.example.org');
    expect(ask(r, 'http://api.example.com:8080/').cluster).toBe('outbound|80||one.example.org');
  });

  it('sourceNamespace and sourceLabels pick the route; a match naming mesh ignores them', () => {
    const r = entries(
      DESTS,
      api,
      doc(
        'VirtualService',
        'src',
        '{hosts: [src.example.com], http: [{match: [{sourceNamespace: frontend}], route: [{destination: {host: one.example.org}}]}, {match: [{sourceLabels: {tier: gold}}], route: [{destination: {host: two.example.org}}]}, {match: [{gateways: [mesh], sourceNamespace: payments, uri: {prefix: /gw}}], route: [{destination: {host: three.example.org}}]}]}',
      ),
    );
    expect(askFrom(r, 'frontend', 'http://src.example.com/').cluster).toBe('outbound|80||one.example.org');
    expect(askFrom(r, 'default', 'http://src.example.com/', { tier: 'gold' }).cluster).toBe('outbound|80||two.example.org');
    expect(askFrom(r, 'default', 'http://src.example.com/')).toMatchObject({ verdict: 'blocked', signal: 'http-404' });
    expect(askFrom(r, 'default', 'http://src.example.com/gw').cluster).toBe('outbound|80||three.example.org');
    expect(askFrom(r, 'default', 'http://src.example.com/gw').notModelled).toBeUndefined();
  });

  it('a VirtualService with no route for the proxy leaves the host to the next one', () => {
    const r = entries(
      DESTS,
      api,
      doc(
        'VirtualService',
        'fall-a',
        '{hosts: [fall.example.com], http: [{match: [{sourceNamespace: frontend}], route: [{destination: {host: one.example.org}}]}]}',
        ', creationTimestamp: "2026-01-01T00:00:00Z"',
      ),
      doc(
        'VirtualService',
        'fall-b',
        `{hosts: [fall.example.com], http: ${route('two.example.org')}}`,
        ', creationTimestamp: "2026-01-01T00:00:05Z"',
      ),
    );
    expect(askFrom(r, 'frontend', 'http://fall.example.com/').cluster).toBe('outbound|80||one.example.org');
    expect(askFrom(r, 'default', 'http://fall.example.com/').cluster).toBe('outbound|80||two.example.org');
  });
});

describe('short host names in a VirtualService are names of its namespace (config.go ResolveShortnameToFQDN)', () => {
  // pilot/pkg/model/virtualservice.go ResolveVirtualServiceShortnames: hosts and destinations without a dot become
  // `<name>.<namespace>.svc.cluster.local`. Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/vs-short-names.yaml.
  const r = entries(
    DESTS,
    se('api', '{hosts: [api.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}'),
    doc('VirtualService', 'short', `{hosts: [api, short], http: ${route('one.example.org')}}`),
    doc('VirtualService', 'short-dest', `{hosts: [sd.example.com], http: ${route('one')}}`),
  );
  it('a request with Host `short` or `api` does not follow it; short.default.svc.cluster.local does', () => {
    expect(ask(r, 'http://short/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(ask(r, 'http://api/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(ask(r, 'http://api.example.com/').cluster).toBe('outbound|80||api.example.com');
    expect(askFrom(r, 'frontend', 'http://short.default.svc.cluster.local/').cluster).toBe('outbound|80||one.example.org');
  });
  it('a short destination names a cluster in the namespace, which nothing provides: 503', () => {
    expect(ask(r, 'http://sd.example.com/')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|80||one.default.svc.cluster.local',
      signal: 'http-503',
    });
  });
});

describe("a <name>.<ns>.svc.cluster.local host's shorter names on its HTTP route (httproute.go GenerateAltVirtualHosts)", () => {
  // pilot/pkg/networking/core/httproute.go generateVirtualHostDomains adds GenerateAltVirtualHosts for the proxy's
  // DNS domain <ns>.svc.cluster.local: generateAltVirtualHostsForKubernetesService gives <name>.<ns> and
  // <name>.<ns>.svc, and <name> in the host's own namespace. Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/alt-virtual-hosts.yaml.
  const r = entries(
    se('web', '{hosts: [web.default.svc.cluster.local], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}'),
    se('api', '{hosts: [api.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}'),
  );
  it('`web` from its own namespace, `web.default` and `web.default.svc` from any', () => {
    for (const to of ['http://web/', 'http://web.default/', 'http://web.default.svc/'])
      expect(ask(r, to)).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||web.default.svc.cluster.local' });
    expect(askFrom(r, 'frontend', 'http://web.default/').cluster).toBe('outbound|80||web.default.svc.cluster.local');
    expect(askFrom(r, 'frontend', 'http://web/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
  it('no shorter names for other hosts', () => {
    expect(ask(r, 'http://api/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(ask(r, 'http://web.default.svc.cluster/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
  it("the egress gateway's Service is reached so, and with no Gateway it refuses the call: 503", () => {
    const e = ask(r, 'http://istio-egressgateway.istio-system/');
    expect(e).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local',
      signal: 'http-503',
    });
  });
});

describe('tls and tcp routes of a mesh VirtualService (tls.go buildSidecarOutboundTLSFilterChainOpts, matchTLS, matchTCP)', () => {
  // pilot/pkg/networking/core/tls.go: a TLS service with tls routes for the port gets one chain per route match on its
  // sniHosts and none of its own (`!hasTLSMatch`); matchTLS / matchTCP require every static field (gateways,
  // sourceLabels, port, sourceNamespace). Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/vs-tls-tcp-routes.yaml.
  const r = entries(
    se('tls', '{hosts: ["*.secure.example.com", api.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: NONE}'),
    se(
      'backend',
      '{hosts: [backend.example.org], ports: [{number: 443, name: tls, protocol: TLS}, {number: 8443, name: tls-alt, protocol: TLS}], resolution: DNS}',
    ),
    doc(
      'VirtualService',
      'tls',
      '{hosts: ["*.secure.example.com"], tls: [{match: [{sniHosts: [a.secure.example.com]}], route: [{destination: {host: backend.example.org, port: {number: 8443}}}]}]}',
    ),
    doc(
      'VirtualService',
      'api-tls',
      '{hosts: [api.example.com], tls: [{match: [{sniHosts: [api.example.com], sourceNamespace: frontend}], route: [{destination: {host: backend.example.org, port: {number: 443}}}]}]}',
    ),
    se(
      'db',
      '{hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}, {number: 5433, name: tcp2, protocol: TCP}], resolution: NONE}',
    ),
    se(
      'db2',
      '{hosts: [db2.example.org], addresses: [192.0.2.50], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: STATIC, endpoints: [{address: 192.0.2.51}]}',
    ),
    doc(
      'VirtualService',
      'db',
      '{hosts: [db.example.com], tcp: [{match: [{port: 5433}], route: [{destination: {host: db2.example.org, port: {number: 5432}}}]}, {match: [{sourceNamespace: frontend}], route: [{destination: {host: db2.example.org, port: {number: 5432}}}]}]}',
    ),
  );
  it('a server name under the wildcard that no tls route names takes the default chain', () => {
    expect(ask(r, 'https://a.secure.example.com/').cluster).toBe('outbound|8443||backend.example.org');
    expect(ask(r, 'https://b.secure.example.com/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
  it('sourceNamespace picks the tls and the tcp route; other namespaces keep the entry', () => {
    expect(ask(r, 'https://api.example.com/').cluster).toBe('outbound|443||api.example.com');
    expect(askFrom(r, 'frontend', 'https://api.example.com/').cluster).toBe('outbound|443||backend.example.org');
    expect(ask(r, 'tcp://203.0.113.5:5432').cluster).toBe('outbound|5432||db.example.com');
    expect(askFrom(r, 'frontend', 'tcp://203.0.113.5:5432').cluster).toBe('outbound|5432||db2.example.org');
    expect(ask(r, 'tcp://203.0.113.5:5433').cluster).toBe('outbound|5432||db2.example.org');
  });
});

describe('a Sidecar egress port of protocol HTTP_PROXY (listener.go buildSidecarOutboundListeners, httproute.go mergeAllVirtualHosts)', () => {
  // pilot/pkg/model/sidecar.go needsPortMatch: an HTTP_PROXY egress listener imports services whatever their ports;
  // listener.go builds its port's HTTP listener for each; httproute.go routes it with listener port 0, and
  // mergeAllVirtualHosts keeps port 80's virtual hosts whole, other ports' only with `host:port` domains, which a
  // Host never matches when the route ignores ports. Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/sidecar-http-proxy-port.yaml.
  const r = entries(
    se(
      'web',
      '{hosts: [web.example.com], ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: http-alt, protocol: HTTP}], resolution: DNS}',
    ),
    se('nine', '{hosts: [nine.example.com], ports: [{number: 9000, name: http, protocol: HTTP}], resolution: DNS}'),
    `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: frontend}
spec:
  egress:
  - port: {number: 3128, name: proxy, protocol: HTTP_PROXY}
    hosts: ["default/*"]
  - hosts: ["*/*"]
`,
  );
  it('a request on the port reaches the port-80 HTTP services it imports, at their port-80 cluster', () => {
    expect(askFrom(r, 'frontend', 'http://web.example.com:3128/')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||web.example.com',
      listener: '0.0.0.0_3128',
    });
  });
  it("other ports' services and unknown hosts meet the catch-all; without the Sidecar there is no listener", () => {
    expect(askFrom(r, 'frontend', 'http://nine.example.com:3128/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(askFrom(r, 'frontend', 'http://unknown.example.com:3128/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(askFrom(r, 'frontend', 'http://nine.example.com:9000/').cluster).toBe('outbound|9000||nine.example.com');
    expect(ask(r, 'http://web.example.com:3128/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
});

describe("an HTTP port on the sidecar's capture ports gets no listener (model/context.go conflictWithReservedListener)", () => {
  // pilot/pkg/model/context.go CanBindToPort: a wildcard-bound listener (no bind and an HTTP protocol) may not take
  // meshConfig.proxyListenPort (15001) or proxyInboundListenPort (15006); a TCP port without bind is not checked.
  // Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/reserved-ports.yaml.
  const http = se(
    'reserved-http',
    '{hosts: [r.example.com], ports: [{number: 15006, name: http-a, protocol: HTTP}, {number: 15001, name: http-b, protocol: HTTP}, {number: 15021, name: http-c, protocol: HTTP}], resolution: DNS}',
  );
  it('HTTP on 15006 finds no listener; a TCP entry on 15006 keeps its match-all chain', () => {
    expect(ask(entries(http), 'http://r.example.com:15006/')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: 'virtualOutbound',
    });
    const r = entries(
      http,
      se('reserved-tcp', '{hosts: [t.example.com], ports: [{number: 15006, name: tcp-a, protocol: TCP}], resolution: NONE}'),
    );
    expect(ask(r, 'http://r.example.com:15006/').cluster).toBe('outbound|15006||t.example.com');
    expect(ask(r, 'tcp://203.0.113.7:15006').cluster).toBe('outbound|15006||t.example.com');
  });
  it('HTTP on 15001 loops into the blackhole; 15021 is an ordinary port for the lane', () => {
    expect(ask(entries(http), 'http://r.example.com:15001/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
    expect(ask(entries(http), 'http://r.example.com:15021/').cluster).toBe('outbound|15021||r.example.com');
  });
});

describe('an egress gateway TCP server takes any connection on its port (gateway.go buildGatewayNetworkFiltersFromTCPRoutes)', () => {
  // pilot/pkg/networking/core/gateway.go: a TCP server's chain matches no server name; its routes are the tcp routes
  // of VirtualServices bound to its Gateway whose hosts meet the server's, and without any the gateway has no
  // listener. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/gateway-tcp-server.yaml.
  const r = loadYamlText(
    [
      '{apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: api, namespace: default}, spec: {hosts: [api.example.com, other2.example.com], ports: [{name: tls, number: 443, protocol: TLS}], resolution: DNS}}',
      '{apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: api3, namespace: default}, spec: {hosts: [api3.example.com], ports: [{name: tcp, number: 9000, protocol: TCP}], resolution: DNS}}',
      '{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {name: egress-tcp, namespace: istio-system}, spec: {selector: {istio: egressgateway}, servers: [{hosts: [api.example.com], port: {name: tcp, number: 443, protocol: TCP}}, {hosts: [other.example.com], port: {name: tcp-80, number: 80, protocol: TCP}}]}}',
      '{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: api, namespace: default}, spec: {gateways: [mesh, istio-system/egress-tcp], hosts: [api.example.com], tcp: [{match: [{gateways: [istio-system/egress-tcp], port: 443}], route: [{destination: {host: api.example.com, port: {number: 443}}}]}], tls: [{match: [{gateways: [mesh], port: 443, sniHosts: [api.example.com]}], route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 443}}}]}]}}',
      '{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: other2, namespace: default}, spec: {hosts: [other2.example.com], tls: [{match: [{port: 443, sniHosts: [other2.example.com]}], route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 443}}}]}]}}',
      '{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: api3, namespace: default}, spec: {gateways: [mesh, istio-system/egress-tcp], hosts: [api3.example.com], tcp: [{match: [{gateways: [mesh], port: 9000}], route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 80}}}]}, {match: [{gateways: [istio-system/egress-tcp], port: 80}], route: [{destination: {host: api3.example.com, port: {number: 9000}}}]}]}}',
    ].join('\n---\n'),
    'gateway-tcp.yaml',
    emptyResources(),
  );
  it("TLS for another host sent to the server is routed by the server's tcp route", () => {
    const e = ask(r, 'https://other2.example.com/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||istio-egressgateway.istio-system.svc.cluster.local' });
    expect(e.hops?.map((h) => h.cluster)).toEqual([
      'outbound|443||istio-egressgateway.istio-system.svc.cluster.local',
      'outbound|443||api.example.com',
    ]);
  });
  it('a server whose host meets no bound VirtualService has no chain: the gateway refuses the connection', () => {
    const e = ask(r, 'tcp://203.0.113.5:9000');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local' });
    expect(e.hops?.at(-1)?.cluster).toBe('(connection refused)');
  });
});

describe('a TLS gateway server that terminates Istio mTLS forwards by tcp routes (gateway.go createGatewayTCPFilterChainOpts)', () => {
  // pilot/pkg/networking/core/gateway.go createGatewayTCPFilterChainOpts: a TLS server that is not PASSTHROUGH
  // terminates TLS and forwards by buildGatewayNetworkFiltersFromTCPRoutes; on the sidecar a tcp match's
  // destinationSubnets are the chain's prefix ranges (tls.go). Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/gateway-tls-istio-mutual-tcp.yaml.
  const r = loadYamlText(
    [
      '{apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: mongo, namespace: default}, spec: {addresses: [192.0.2.77], endpoints: [{address: 192.0.2.78}], hosts: [mongo.example.com], ports: [{name: tcp, number: 27017, protocol: TCP}], resolution: STATIC}}',
      '{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {name: egress, namespace: istio-system}, spec: {selector: {istio: egressgateway}, servers: [{hosts: [mongo.example.com], port: {name: tls, number: 443, protocol: TLS}, tls: {mode: ISTIO_MUTUAL}}]}}',
      '{apiVersion: networking.istio.io/v1, kind: DestinationRule, metadata: {name: egressgateway-for-mongo, namespace: default}, spec: {host: istio-egressgateway.istio-system.svc.cluster.local, subsets: [{name: mongo, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}, portLevelSettings: [{port: {number: 443}, tls: {mode: ISTIO_MUTUAL, sni: mongo.example.com}}]}}]}}',
      '{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: direct-mongo, namespace: default}, spec: {gateways: [mesh, istio-system/egress], hosts: [mongo.example.com], tcp: [{match: [{destinationSubnets: [192.0.2.77/32], gateways: [mesh], port: 27017}], route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 443}, subset: mongo}}]}, {match: [{gateways: [istio-system/egress], port: 443}], route: [{destination: {host: mongo.example.com, port: {number: 27017}}, weight: 100}]}]}}',
    ].join('\n---\n'),
    'gateway-tls-tcp.yaml',
    emptyResources(),
  );
  it('the mongo pattern: the sidecar sends the address to the gateway subset, the gateway on to the entry', () => {
    const e = ask(r, 'tcp://192.0.2.77:27017');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443|mongo|istio-egressgateway.istio-system.svc.cluster.local' });
    expect(e.hops?.map((h) => h.cluster)).toEqual([
      'outbound|443|mongo|istio-egressgateway.istio-system.svc.cluster.local',
      'outbound|27017||mongo.example.com',
    ]);
    expect(e.hops?.[0]?.tls).toMatchObject({ mode: 'ISTIO_MUTUAL', sni: 'mongo.example.com' });
  });
});

describe('servers the egress gateway drops when merging its Gateways (model/gateway.go mergeGateways)', () => {
  // pilot/pkg/model/gateway.go mergeGateways (Gateways by creation time): after a port's plain-text server only
  // HTTP servers join it when it is HTTP (canMergeProtocols); a TLS server repeating a TLS host of the port is
  // dropped (CheckDuplicates). Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/gateway-merge-drops.yaml.
  const r = loadYamlText(
    [
      '{apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: ext, namespace: default}, spec: {hosts: [a.example.com, b.example.com, c.example.com], ports: [{name: http, number: 80, protocol: HTTP}, {name: tls, number: 443, protocol: TLS}], resolution: DNS}}',
      "{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {creationTimestamp: '2026-01-01T00:00:00Z', name: gw-a, namespace: istio-system}, spec: {selector: {istio: egressgateway}, servers: [{hosts: [a.example.com], port: {name: http-a, number: 443, protocol: HTTP}}, {hosts: [c.example.com], port: {name: tls-c, number: 80, protocol: TLS}, tls: {mode: PASSTHROUGH}}]}}",
      "{apiVersion: networking.istio.io/v1, kind: Gateway, metadata: {creationTimestamp: '2026-01-01T00:00:05Z', name: gw-b, namespace: istio-system}, spec: {selector: {istio: egressgateway}, servers: [{hosts: [b.example.com], port: {name: tcp-b, number: 443, protocol: TCP}}, {hosts: [c.example.com], port: {name: tls-c2, number: 80, protocol: TLS}, tls: {mode: PASSTHROUGH}}]}}",
      '{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: a, namespace: default}, spec: {gateways: [mesh, istio-system/gw-a], hosts: [a.example.com], http: [{match: [{gateways: [mesh], port: 80}], route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 443}}}]}, {match: [{gateways: [istio-system/gw-a], port: 443}], route: [{destination: {host: a.example.com, port: {number: 80}}}]}]}}',
      '{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: b, namespace: default}, spec: {gateways: [mesh, istio-system/gw-b], hosts: [b.example.com], http: [{match: [{gateways: [mesh], port: 80}], route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 443}}}]}], tcp: [{match: [{gateways: [istio-system/gw-b], port: 443}], route: [{destination: {host: b.example.com, port: {number: 80}}}]}]}}',
      '{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: c, namespace: default}, spec: {gateways: [mesh, istio-system/gw-b], hosts: [c.example.com], tls: [{match: [{gateways: [mesh], port: 443, sniHosts: [c.example.com]}], route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 80}}}]}, {match: [{gateways: [istio-system/gw-b], port: 80, sniHosts: [c.example.com]}], route: [{destination: {host: c.example.com, port: {number: 443}}}]}]}}',
    ].join('\n---\n'),
    'gateway-merge.yaml',
    emptyResources(),
  );
  it('a TCP server behind an HTTP one is dropped: the HTTP chain has no virtual host for its host, 404', () => {
    expect(ask(r, 'http://a.example.com/').hops?.at(-1)?.cluster).toBe('outbound|80||a.example.com');
    const e = ask(r, 'http://b.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', signal: 'http-404' });
  });
  it('a TLS server repeating a host is dropped: the first has no route, the gateway no listener', () => {
    const e = ask(r, 'https://c.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local' });
    expect(e.hops?.at(-1)?.cluster).toBe('(connection refused)');
  });
});

describe('tls and tcp routes of a VirtualService whose host is under a wildcard service (tls.go getConfigsForHost)', () => {
  // pilot/pkg/networking/core/tls.go getConfigsForHost: the VirtualServices of a service are those with a host
  // that overlaps the service's either way (host.Name.Matches). Checked on istiod eed52ebb66ad (2026-12-03),
  // fixtures/rules/vs-l4-wildcard-service.yaml.
  it("an exact host's tls routes replace the wildcard entry's SNI chain", () => {
    const r = entries(
      se('wild', '{hosts: ["*.example.com"], ports: [{number: 443, name: tls, protocol: TLS}], resolution: NONE}'),
      se('backend', '{hosts: [backend.example.org], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}'),
      doc(
        'VirtualService',
        'a',
        '{hosts: [a.example.com], tls: [{match: [{sniHosts: [a.example.com]}], route: [{destination: {host: backend.example.org}}]}]}',
      ),
    );
    expect(ask(r, 'https://a.example.com/').cluster).toBe('outbound|443||backend.example.org');
    expect(ask(r, 'https://b.example.com/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
  it("an exact host's tcp route takes the wildcard entry's match-all chain, whatever was dialled", () => {
    const r = entries(
      se('wild-db', '{hosts: ["*.db.example.com"], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: NONE}'),
      se(
        'pg',
        '{hosts: [pg.example.org], addresses: [192.0.2.60], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: STATIC, endpoints: [{address: 192.0.2.61}]}',
      ),
      doc('VirtualService', 'one-db', '{hosts: [one.db.example.com], tcp: [{route: [{destination: {host: pg.example.org}}]}]}'),
    );
    for (const to of ['tcp://203.0.113.5:5432', 'tcp://two.db.example.com:5432'])
      expect(ask(r, to)).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||pg.example.org' });
  });
});

describe('an HTTP_PROXY Sidecar port bound to 0.0.0.0 is the HTTP_PROXY listener all the same (listener.go)', () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListener takes its HTTP_PROXY branch on the port's
  // protocol alone: the bind 0.0.0.0 keys the same listener, whose one HTTP chain has no ALPN match. A raw TCP call
  // then meets an HTTP connection manager, which the model says aloud instead of answering. Found by mutation
  // testing of listeners.ts; checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/http-proxy-port-bound-any.yaml
  // (the lane, too, gives no verdict for the raw TCP call).
  const sidecar = (bind: string) => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: default}
spec:
  egress:
    - {port: {number: 3128, protocol: HTTP_PROXY, name: proxy}, ${bind} hosts: ["./*"]}
    - hosts: ["./*"]
`;
  it('with or without `bind: 0.0.0.0`, a raw TCP call is not modelled; plain HTTP takes the catch-all', () => {
    for (const bind of ['', 'bind: 0.0.0.0,']) {
      // A service the egress port imports: the port's listener is built from its services.
      const r = entries(
        sidecar(bind),
        se('web', '{hosts: [web.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}'),
      );
      expect(ask(r, 'tcp://other.example.com:3128').notModelled, bind).toEqual([
        'a non-HTTP call on an HTTP_PROXY port (an HTTP connection manager takes it)',
      ]);
      expect(ask(r, 'http://other.example.com:3128/'), bind).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    }
  });
});
