// Which VirtualService a sidecar applies to a host and which of its routes takes the call (virtual-service.ts).
// Each expectation is read in the pinned source (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad).
import { describe, expect, it } from 'vitest';
import { ruleFixture } from '../testing/rule-fixture.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const V = PINNED.controlPlane.istioVersion;

const load = (...docs: string[]) => loadYamlText(docs.join('\n---\n'), 'routing.yaml', emptyResources());

const ENTRY = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: payments}
spec:
  hosts: [a.example.com, b.example.com, c.example.com, d.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]`;

const vs = (name: string, ns: string, spec: string, created?: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}${created ? `, creationTimestamp: "${created}"` : ''}}
spec:
${spec}`;

/** A VirtualService of a.example.com sending every call to `to`. */
const routeTo = (to: string, extra = '') => `  hosts: [a.example.com]
${extra}  http: [{route: [{destination: {host: ${to}}}]}]`;

const cluster = (r: ReturnType<typeof load>, url = 'http://a.example.com/', from = 'frontend') =>
  expectProbe(r, { from: { namespace: from }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'ALLOW_ANY' }).cluster;

describe('of several VirtualServices of a host, the sidecar applies the first in istiod’s order', () => {
  // model/virtualservice.go SelectVirtualServices: the VirtualServices private to the proxy's namespace (exportTo
  // its own namespace, `.` being stored as that name), then those exported to it by name, then the public ones
  // (push_context.go initVirtualServices' three indexes), each sorted by model/config.go
  // configCompareByCreationTime: creation time, then name, then namespace; httproute.go keeps the first virtual
  // host of a domain.
  const T1 = '2026-01-01T00:00:00Z';
  const T2 = '2026-01-01T00:00:05Z';

  it('the older one, whatever the names; at the same second the name, then the namespace', () => {
    expect(
      cluster(load(ENTRY, vs('a-late', 'payments', routeTo('b.example.com'), T2), vs('b-early', 'payments', routeTo('c.example.com'), T1))),
    ).toBe('outbound|80||c.example.com');
    expect(
      cluster(load(ENTRY, vs('b-early', 'payments', routeTo('c.example.com'), T1), vs('a-late', 'payments', routeTo('b.example.com'), T2))),
    ).toBe('outbound|80||c.example.com');
    expect(cluster(load(ENTRY, vs('b', 'payments', routeTo('c.example.com'), T1), vs('a', 'payments', routeTo('b.example.com'), T1)))).toBe(
      'outbound|80||b.example.com',
    );
    expect(cluster(load(ENTRY, vs('a', 'payments', routeTo('c.example.com'), T1), vs('a', 'default', routeTo('b.example.com'), T1)))).toBe(
      'outbound|80||b.example.com',
    );
    expect(cluster(load(ENTRY, vs('a', 'default', routeTo('b.example.com'), T1), vs('a', 'payments', routeTo('c.example.com'), T1)))).toBe(
      'outbound|80||b.example.com',
    );
  });

  it("its own namespace's private one before an older one another namespace exports to it by name", () => {
    const exported = vs('older', 'payments', routeTo('b.example.com', '  exportTo: [frontend]\n'), T1);
    for (const exportTo of ['"."', 'frontend', 'frontend, payments'])
      expect(
        cluster(load(ENTRY, exported, vs('own', 'frontend', routeTo('c.example.com', `  exportTo: [${exportTo}]\n`), T2))),
        exportTo,
      ).toBe('outbound|80||c.example.com');
    // Exported by name before an older public one.
    expect(
      cluster(
        load(
          ENTRY,
          vs('public', 'default', routeTo('d.example.com'), '2025-01-01T00:00:00Z'),
          exported,
          vs('x', 'payments', '  hosts: [x.example.com]\n  http: [{route: [{destination: {host: x.example.com}}]}]', T2),
        ),
      ),
    ).toBe('outbound|80||b.example.com');
  });

  it('one that has no http route for the port builds no virtual host: the next one routes (corpus master-2026-08-27 s91-7#3)', () => {
    // route.go buildSidecarVirtualHostsForVirtualService: no route for the listener's port, no virtual host.
    const younger = vs('younger', 'payments', routeTo('c.example.com'), T2);
    const older = (http: string, gateways = '') => vs('older', 'payments', `  hosts: [a.example.com]\n${gateways}  http: ${http}`, T1);
    expect(cluster(load(ENTRY, older('[{match: [{port: 8000}], route: [{destination: {host: b.example.com}}]}]'), younger))).toBe(
      'outbound|80||c.example.com',
    );
    // A match naming another gateway only is not the mesh's.
    expect(
      cluster(
        load(
          ENTRY,
          older(
            '[{match: [{gateways: [istio-system/egress]}], route: [{destination: {host: b.example.com}}]}]',
            '  gateways: [mesh, istio-system/egress]\n',
          ),
          younger,
        ),
      ),
    ).toBe('outbound|80||c.example.com');
    // A match without a port, or an empty match list, fits every port.
    expect(cluster(load(ENTRY, older('[{match: [{uri: {prefix: /}}], route: [{destination: {host: b.example.com}}]}]'), younger))).toBe(
      'outbound|80||b.example.com',
    );
    expect(cluster(load(ENTRY, older('[{match: [], route: [{destination: {host: b.example.com}}]}]'), younger))).toBe(
      'outbound|80||b.example.com',
    );
  });

  it('one bound to a Gateway only is not applied by a sidecar; one of several hosts is', () => {
    // model/virtualservice.go: a VirtualService without `mesh` among its gateways is indexed for those gateways only.
    expect(cluster(load(ENTRY, vs('gw-only', 'payments', routeTo('b.example.com', '  gateways: [istio-system/egress]\n'))))).toBe(
      'outbound|80||a.example.com',
    );
    expect(
      cluster(
        load(
          ENTRY,
          vs('two', 'payments', '  hosts: [d.example.com, a.example.com]\n  http: [{route: [{destination: {host: b.example.com}}]}]'),
        ),
      ),
    ).toBe('outbound|80||b.example.com');
  });
});

describe("the first http route whose uri matches the request's path takes it", () => {
  // networking/core/route/route.go translateRouteMatch: uri exact → Envoy `path`, prefix → `prefix`, regex →
  // `safe_regex`; Envoy matches `path` and `safe_regex` on the path without its query string.
  const r = (uri: string) =>
    load(
      ENTRY,
      vs(
        'by-path',
        'payments',
        `  hosts: [a.example.com]
  http:
  - match: [{uri: ${uri}}]
    route: [{destination: {host: b.example.com}}]
  - route: [{destination: {host: c.example.com}}]`,
      ),
    );
  const B = 'outbound|80||b.example.com';
  const C = 'outbound|80||c.example.com';

  it('exact', () => {
    expect(cluster(r('{exact: /pay}'), 'http://a.example.com/pay?x=1')).toBe(B);
    expect(cluster(r('{exact: /pay}'), 'http://a.example.com/pay/more')).toBe(C);
  });

  it('regex, anchored at both ends', () => {
    expect(cluster(r('{regex: "/p[a-z]+"}'), 'http://a.example.com/pay?x=1')).toBe(B);
    expect(cluster(r('{regex: "/p[a-z]+"}'), 'http://a.example.com/pay/1')).toBe(C);
  });
});

describe("a route's destination without a port", () => {
  // route.go GetDestinationCluster: the destination's port, else the service's only port, else the listener's;
  // a TCP route looks the service up whole (tcp.go), so its port count is the entry's.
  const r = (to: string) =>
    load(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: tcp, namespace: payments}
spec:
  hosts: [t.example.com]
  ports: [{number: 9000, name: tcp, protocol: TCP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: one, namespace: payments}
spec:
  hosts: [one.example.com]
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.51}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: two, namespace: payments}
spec:
  hosts: [two.example.com]
  ports: [{number: 5432, name: tcp, protocol: TCP}, {number: 6432, name: tcp-2, protocol: TCP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.52}]`,
      vs('tcp', 'payments', `  hosts: [t.example.com]\n  tcp: [{route: [{destination: {host: ${to}}}]}]`),
    );

  it("names the service's only port, else the listener's", () => {
    expect(cluster(r('one.example.com'), 'tcp://t.example.com:9000')).toBe('outbound|5432||one.example.com');
    expect(cluster(r('two.example.com'), 'tcp://t.example.com:9000')).toBe('outbound|9000||two.example.com');
  });
});

describe('tls routes are matched by SNI', () => {
  // tls.go buildSidecarOutboundTLSFilterChainOpts: one filter chain per match, matching its sniHosts.
  it('a route whose sniHosts do not name the SNI is passed over', () => {
    const r = load(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: tls, namespace: payments}
spec:
  hosts: [a.example.com, b.example.com, c.example.com, d.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]`,
      vs(
        'by-sni',
        'payments',
        `  hosts: [a.example.com, b.example.com, c.example.com]
  tls:
  - match: [{port: 443, sniHosts: [b.example.com]}]
    route: [{destination: {host: d.example.com, port: {number: 443}}}]
  - match: [{port: 443, sniHosts: [c.example.com, a.example.com]}]
    route: [{destination: {host: c.example.com, port: {number: 443}}}]`,
      ),
    );
    expect(cluster(r, 'https://a.example.com/')).toBe('outbound|443||c.example.com');
    expect(cluster(r, 'https://b.example.com/')).toBe('outbound|443||d.example.com');
  });
});

describe('on port 80, a mesh VirtualService of a host no service has', () => {
  // httproute.go BuildSidecarOutboundVirtualHosts: on port 80 the VirtualService's hosts get virtual hosts of their
  // own, but route.go buildSidecarVirtualHostsForVirtualService builds none from a VirtualService without an http
  // route for the port and the mesh gateway: the request then meets the catch-all (PassthroughCluster under
  // ALLOW_ANY). Corpus master-2026-08-27 s81-9#1.
  const r = (http: string, gateways = '') =>
    load(ENTRY, vs('unlisted', 'payments', `  hosts: [nowhere.example.com]\n${gateways}  http: ${http}`));
  const at = (res: ReturnType<typeof r>) => cluster(res, 'http://nowhere.example.com/');
  const B = 'outbound|80||b.example.com';

  it('routes it when a route fits port 80: no match, an empty match list, a match without a port', () => {
    expect(at(r('[{route: [{destination: {host: b.example.com}}]}]'))).toBe(B);
    expect(at(r('[{match: [], route: [{destination: {host: b.example.com}}]}]'))).toBe(B);
    expect(at(r('[{match: [{uri: {prefix: /}}], route: [{destination: {host: b.example.com}}]}]'))).toBe(B);
    expect(at(r('[{match: [{port: 80}], route: [{destination: {host: b.example.com}}]}]'))).toBe(B);
  });

  it('leaves it to the catch-all when its routes match another port, or another gateway only', () => {
    expect(at(r('[{match: [{port: 8000}], route: [{destination: {host: b.example.com}}]}]'))).toBe('PassthroughCluster');
    expect(
      at(
        r(
          '[{match: [{gateways: [istio-system/egress]}], route: [{destination: {host: b.example.com}}]}]',
          '  gateways: [mesh, istio-system/egress]\n',
        ),
      ),
    ).toBe('PassthroughCluster');
  });
});

describe('an http route', () => {
  it('matches when any of its matches fits the port', () => {
    // route.go translateRouteMatch: each match of a route is an Envoy route of its own.
    const r = load(
      ENTRY,
      vs(
        'ports',
        'payments',
        '  hosts: [a.example.com]\n  http: [{match: [{port: 8000}, {port: 80}], route: [{destination: {host: b.example.com}}]}]',
      ),
    );
    expect(cluster(r)).toBe('outbound|80||b.example.com');
  });

  it('says what it leaves unmodelled: weights across destinations, fault injection', () => {
    const ask = (http: string) =>
      expectProbe(
        load(ENTRY, vs('r', 'payments', `  hosts: [a.example.com]\n  http: [${http}]`)),
        { from: { namespace: 'frontend' }, to: parseProbeUrl('http://a.example.com/') },
        { istioVersion: V, policy: 'ALLOW_ANY' },
      ).notModelled ?? [];
    // Envoy splits by weight (weighted_clusters) and fault filters answer by themselves: the cluster named is not
    // the answer.
    expect(ask('{route: [{destination: {host: b.example.com}, weight: 50}, {destination: {host: c.example.com}, weight: 50}]}')).toContain(
      'VirtualService route weights (the first destination is taken)',
    );
    expect(ask('{fault: {abort: {httpStatus: 500, percentage: {value: 100}}}, route: [{destination: {host: b.example.com}}]}')).toContain(
      'VirtualService http.fault',
    );
    expect(ask('{route: [{destination: {host: b.example.com}}]}')).toEqual([]);
  });
});

describe("the egress gateway's http route", () => {
  // gateway.go buildGatewayHTTPRouteConfig looks destinations up among whole services
  // (buildNameToServiceMapForHTTPRoutes), so route.go GetDestinationCluster takes a one-port service's port; the
  // route's timeout and retries are Envoy's route timeout and retry_policy.
  const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';
  const r = (route: string) =>
    load(
      ENTRY,
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: one-port, namespace: payments}
spec:
  hosts: [e.example.com]
  ports: [{number: 8080, name: http-8080, protocol: HTTP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.51}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [a.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: istio-system}
spec:
  host: ${GW_HOST}
  subsets: [{name: edition}]`,
      vs(
        'through-gateway',
        'payments',
        `  hosts: [a.example.com]
  gateways: [istio-system/egress, mesh]
  http:
  - match: [{gateways: [mesh]}]
    route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [istio-system/egress]}]
${route}`,
      ),
    );
  const gatewayHop = (res: ReturnType<typeof r>) =>
    expectProbe(
      res,
      { from: { namespace: 'frontend' }, to: parseProbeUrl('http://a.example.com/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    ).hops?.[1];

  it("sends a destination without a port to its service's only port", () => {
    expect(gatewayHop(r('    route: [{destination: {host: e.example.com}}]'))).toMatchObject({
      kind: 'gateway',
      cluster: 'outbound|8080||e.example.com',
    });
  });

  it('carries its timeout and retries, and nothing when it has none', () => {
    expect(gatewayHop(r('    timeout: 3s\n    retries: {attempts: 2}\n    route: [{destination: {host: e.example.com}}]'))?.route).toEqual([
      'timeout 3s',
      'retries 2',
    ]);
    expect(gatewayHop(r('    route: [{destination: {host: e.example.com}}]'))?.route).toBeUndefined();
  });
});

describe("a mesh VirtualService's hosts that no service has (route.go buildSidecarVirtualHostsForVirtualService)", () => {
  const r = ruleFixture('vs-non-registry-host-port');
  const from = (url: string) =>
    expectProbe(r, { from: { namespace: 'default' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it('get a virtual host on a port where another host of it is a service with an HTTP port (fixtures/rules/vs-non-registry-host-port.yaml)', () => {
    expect(from('http://c.example.com:8080/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||b.example.com' });
  });

  it('and on port 80 always; elsewhere, without such a host, none', () => {
    expect(from('http://d.example.com/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||a.example.com' });
    expect(from('http://d.example.com:8080/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502' });
  });
});
