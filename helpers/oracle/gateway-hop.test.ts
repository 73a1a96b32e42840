// The call followed through the egress gateway (gateway-hop.ts): which server's filter chain takes the sidecar's
// connection, which route then holds the request, and when the gateway has no listener at all. Each expectation
// is read in the pinned source (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad): pilot/pkg/model/gateway.go
// (MergeGateways, GetSNIHostsForServer) and pilot/pkg/networking/core/gateway.go, listener.go.
import { describe, expect, it } from 'vitest';
import type { ResourceSet } from '../model/types.ts';
import { ruleFixture } from '../testing/rule-fixture.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe as sidecarAnswer } from './expect.ts';
import { expectProbe } from './index.ts';
import { applyRouting } from './routing.ts';

const V = PINNED.controlPlane.istioVersion;
const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';
const GW80 = `outbound|80|edition|${GW_HOST}`;
const GW443 = `outbound|443|edition|${GW_HOST}`;

const load = (...docs: string[]) => loadYamlText(docs.join('\n---\n'), 'gateway.yaml', emptyResources());

const entry = (hosts: string, ports: string, ns = 'payments') => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext-${ns}, namespace: ${ns}}
spec:
  hosts: ${hosts}
  ports: ${ports}
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]`;

const gateway = (name: string, servers: string) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: ${servers}`;

const virtualService = (name: string, spec: string, ns = 'payments') => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}`;

/** The sidecar's subset of the gateway Service, with the TLS it originates on port 443, if any. */
const gatewaySubset = (tls?: string) => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: istio-system}
spec:
  host: ${GW_HOST}
  subsets:
  - name: edition
${tls ? `    trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: ${tls}}]}` : ''}`;

const ask = (r: ReturnType<typeof load>, url: string) =>
  expectProbe(r, { from: { namespace: 'frontend' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'ALLOW_ANY' });
const hops = (e: ReturnType<typeof ask>) => e.hops?.map((h) => [h.kind, h.cluster]);

describe('an HTTPS server of the egress gateway is picked by the SNI the sidecar sends, then its route by the Host', () => {
  // model/gateway.go GetSNIHostsForServer and listener.go toFilterChainMatch: an HTTPS server's filter chain
  // matches its hosts as server_names, and none when `*` is among them; Envoy prefers a chain naming the SNI to one
  // naming none (FilterChainMatch server_names). The sidecar originating ISTIO_MUTUAL sends its DestinationRule's
  // sni (cluster_tls.go). Each HTTPS server keeps a route of its own (model/gateway.go gatewayRDSRouteName:
  // https.<port>.<port name>.<gateway>.<namespace>), built from the VirtualServices bound to its Gateway only.
  const meshRoute = virtualService(
    'to-gateway',
    `  hosts: [a.example.com, b.example.com]
  http: [{route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 443}}}]}]`,
  );
  const bound = (name: string, gw: string, hosts: string, to: string) =>
    virtualService(
      name,
      `  hosts: ${hosts}
  gateways: [istio-system/${gw}]
  http: [{match: [{port: 443}], timeout: 7s, route: [{destination: {host: ${to}, port: {number: 80}}}]}]`,
    );
  const https = (hosts: string) => `[{port: {number: 443, name: https, protocol: HTTPS}, hosts: ${hosts}, tls: {mode: ISTIO_MUTUAL}}]`;
  const ENTRY = entry('[a.example.com, b.example.com, c.example.com]', '[{number: 80, name: http, protocol: HTTP}]');

  it('an SNI no server names finds no filter chain, whatever the Host: the gateway closes it, the router answers 503', () => {
    const r = load(
      ENTRY,
      gateway('egress', https('[a.example.com]')),
      meshRoute,
      bound('via-egress', 'egress', '[a.example.com]', 'a.example.com'),
      gatewaySubset('{mode: ISTIO_MUTUAL, sni: other.example.com}'),
    );
    const e = ask(r, 'http://a.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW443, signal: 'http-503' });
    expect(hops(e)).toEqual([
      ['sidecar', GW443],
      ['gateway', '(no filter chain)'],
    ]);
    expect(e.reason).toContain('(SNI other.example.com)');
    expect(e.reason).not.toMatch(/auto mTLS|PASSTHROUGH/);
    // With the server's host as SNI the chain takes it, and the server's route sends it on.
    // The gateway applies the DestinationRule of its own namespace to the host: it originates that TLS.
    const named = load(
      ENTRY,
      gateway('egress', https('[a.example.com]')),
      meshRoute,
      bound('via-egress', 'egress', '[a.example.com]', 'a.example.com'),
      gatewaySubset('{mode: ISTIO_MUTUAL, sni: a.example.com}'),
      `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: origination, namespace: istio-system}
spec:
  host: a.example.com
  trafficPolicy: {tls: {mode: SIMPLE, sni: a.example.com}}`,
    );
    const ok = ask(named, 'http://a.example.com/');
    expect(ok).toMatchObject({ verdict: 'allowed', cluster: GW443 });
    expect(ok.hops?.[1]).toMatchObject({
      kind: 'gateway',
      cluster: 'outbound|80||a.example.com',
      route: ['timeout 7s'],
      tls: { mode: 'SIMPLE', sni: 'a.example.com' },
    });
    expect(ok.reason).toContain('makes the gateway originate TLS SIMPLE with SNI a.example.com');
    expect(ok.reason).toContain('takes a.example.com');
    expect(ok.reason).not.toMatch(/does not terminate/);
  });

  it("a server naming the SNI wins over an earlier `*` server, whose chain matches no SNI; its own route's VirtualService routes", () => {
    const r = (sni: string) =>
      load(
        ENTRY,
        gateway('wild', https('["*"]')),
        gateway('named', https('[a.example.com]')),
        meshRoute,
        bound('via-wild', 'wild', '[a.example.com]', 'c.example.com'),
        bound('via-named', 'named', '[a.example.com]', 'a.example.com'),
        gatewaySubset(`{mode: ISTIO_MUTUAL, sni: ${sni}}`),
      );
    expect(hops(ask(r('a.example.com'), 'http://a.example.com/'))).toEqual([
      ['sidecar', GW443],
      ['gateway', 'outbound|80||a.example.com'],
    ]);
    // An SNI only `*` covers falls to the `*` server's chain, and its route is the one of its own Gateway.
    expect(hops(ask(r('b.example.com'), 'http://a.example.com/'))).toEqual([
      ['sidecar', GW443],
      ['gateway', 'outbound|80||c.example.com'],
    ]);
  });

  it("the server's route has virtual hosts only for the hosts it shares with its VirtualServices: another Host gets 404", () => {
    // gateway.go buildGatewayHTTPRouteConfig: virtual hosts for serverHosts.Intersection(virtualServiceHosts).
    const r = load(
      ENTRY,
      gateway('egress', https('[a.example.com]')),
      meshRoute,
      bound('via-egress', 'egress', '[a.example.com, b.example.com]', 'b.example.com'),
      gatewaySubset('{mode: ISTIO_MUTUAL, sni: a.example.com}'),
    );
    const e = ask(r, 'http://b.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW443, signal: 'http-404' });
    expect(e.reason).toContain("takes SNI a.example.com, the request's Host being b.example.com");
    expect(hops(e)).toEqual([
      ['sidecar', GW443],
      ['gateway', '(no route)'],
    ]);
    expect(hops(ask(r, 'http://a.example.com/'))).toEqual([
      ['sidecar', GW443],
      ['gateway', 'outbound|80||b.example.com'],
    ]);
  });

  it('an ISTIO_MUTUAL server requires a client certificate, which SIMPLE TLS from the sidecar does not present', () => {
    // listener.go BuildListenerTLSContext: ISTIO_MUTUAL sets require_client_certificate, `*` server or not.
    const r = load(
      ENTRY,
      gateway('egress', https('["*"]')),
      meshRoute,
      bound('via-egress', 'egress', '[a.example.com]', 'a.example.com'),
      gatewaySubset('{mode: SIMPLE, sni: a.example.com}'),
    );
    const e = ask(r, 'http://a.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW443, signal: 'http-503' });
    expect(hops(e)?.[1]).toEqual(['gateway', '(handshake failed)']);
  });

  it("without a DestinationRule TLS setting the sidecar sends plain text (no auto mTLS to a gateway Pod): the `*` server's TLS socket cannot read it", () => {
    // cluster_tls.go: auto mTLS only towards endpoints labelled security.istio.io/tlsMode=istio, which the installed
    // gateway Pods are not; the `*` server's chain matches no server name (listener.go toFilterChainMatch), so it
    // takes the plain text, and its TLS server socket fails the handshake. Checked on istiod eed52ebb66ad.
    const r = load(
      ENTRY,
      gateway('egress', https('["*"]')),
      meshRoute,
      bound('via-egress', 'egress', '[a.example.com]', 'a.example.com'),
      gatewaySubset(),
    );
    const e = ask(r, 'http://a.example.com/');
    expect(hops(e)).toEqual([
      ['sidecar', GW443],
      ['gateway', '(handshake failed)'],
    ]);
    expect(e).toMatchObject({ verdict: 'blocked', signal: 'http-503' });
  });
});

describe('a TLS PASSTHROUGH server of the egress gateway', () => {
  // gateway.go buildGatewayNetworkFiltersFromTLSRoutes: the server's filter chains are the sniHosts of the tls
  // routes bound to its Gateway (VirtualServicesForGateway: those visible to istio-system), of VirtualServices whose
  // hosts meet the server's (pickMatchingGatewayHosts, host.Name.Matches); MutableGatewayListener.build builds
  // no listener without chains, so a port where no server has one refuses the connection.
  const ENTRY = entry('[a.example.com, b.example.com, d.example.com]', '[{number: 443, name: tls, protocol: TLS}]');
  const passthrough = (hosts: string) => `[{port: {number: 443, name: tls, protocol: TLS}, hosts: ${hosts}, tls: {mode: PASSTHROUGH}}]`;
  const meshRoute = virtualService(
    'to-gateway',
    `  hosts: [a.example.com, b.example.com]
  tls: [{match: [{port: 443, sniHosts: [a.example.com, b.example.com]}], route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 443}}}]}]`,
  );
  const bound = (hosts: string, gateways = '[istio-system/first]', extra = '', sni = 'a.example.com') =>
    virtualService(
      'via-gateway',
      `  hosts: ${hosts}
  gateways: ${gateways}
${extra}  tls: [{match: [{port: 443, sniHosts: [${sni}]}], route: [{destination: {host: a.example.com, port: {number: 443}}}]}]`,
    );
  const httpOnly = virtualService(
    'via-gateway',
    `  hosts: [a.example.com]
  gateways: [istio-system/first]
  http: [{route: [{destination: {host: a.example.com, port: {number: 443}}}]}]`,
  );
  const r = (firstHosts: string, ...vs: string[]) =>
    load(
      ENTRY,
      gateway('first', passthrough(firstHosts)),
      gateway('second', passthrough('[z.example.com]')),
      meshRoute,
      ...vs,
      gatewaySubset('{mode: ISTIO_MUTUAL, sni: a.example.com}'),
    );
  const call = (res: ReturnType<typeof r>) => hops(ask(res, 'https://a.example.com/'));
  const ROUTED = [
    ['sidecar', GW443],
    ['gateway', 'outbound|443||a.example.com'],
  ];
  const REFUSED = [
    ['sidecar', GW443],
    ['gateway', '(connection refused)'],
  ];

  it("passes the call on when a bound VirtualService's hosts meet the server's, some of them being enough on either side", () => {
    const routed = ask(r('[a.example.com, d.example.com]', bound('[a.example.com, c.example.com]')), 'https://a.example.com/');
    expect(hops(routed)).toEqual(ROUTED);
    // gateway.go: no TLS context on the chain, the sidecar's mTLS goes on as it came.
    expect(routed.reason).toContain('PASSTHROUGH server does not terminate');
    // A wildcard server host meets a VirtualService host it covers.
    expect(call(r('["*.example.com"]', bound('[a.example.com]')))).toEqual(ROUTED);
  });

  it('builds no listener when no server of the port has a chain', () => {
    // Bound to no Gateway of the port.
    expect(call(r('[a.example.com]', bound('[a.example.com]', '[istio-system/elsewhere]')))).toEqual(REFUSED);
    // Kept from istio-system by its exportTo.
    expect(call(r('[a.example.com]', bound('[a.example.com]', '[istio-system/first]', '  exportTo: ["."]\n')))).toEqual(REFUSED);
    // Its hosts meet no host of the server.
    expect(call(r('[a.example.com]', bound('[b.example.com]', undefined, '', 'b.example.com')))).toEqual(REFUSED);
    // Only http routes, which a PASSTHROUGH server does not read.
    expect(call(r('[a.example.com]', httpOnly))).toEqual(REFUSED);
  });

  it("takes no plain-text request: the sidecar's auto mTLS SNI matches no chain, the router answers 503", () => {
    // listener.go toFilterChainMatch: the chain matches the route's sniHosts; the sidecar's auto mTLS to the
    // gateway (cluster_tls.go buildUpstreamTLSSettings) sends outbound_.443_.edition_.<gateway host>.
    const res = load(
      entry('[a.example.com, b.example.com]', '[{number: 80, name: http, protocol: HTTP}]'),
      gateway('first', passthrough('[a.example.com]')),
      virtualService(
        'to-gateway',
        `  hosts: [b.example.com]
  http: [{route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 443}}}]}]`,
      ),
      bound('[a.example.com]'),
      gatewaySubset(),
    );
    const e = ask(res, 'http://b.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW443, signal: 'http-503' });
    expect(hops(e)?.[1]).toEqual(['gateway', '(no filter chain)']);
    expect(e.reason).not.toContain('takes b.example.com (SNI');
    // The sidecar's own ISTIO_MUTUAL with an SNI no route names finds no chain either.
    const withSni = load(
      entry('[a.example.com, b.example.com]', '[{number: 80, name: http, protocol: HTTP}]'),
      gateway('first', passthrough('[a.example.com]')),
      virtualService(
        'to-gateway',
        `  hosts: [b.example.com]
  http: [{route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 443}}}]}]`,
      ),
      bound('[a.example.com]'),
      gatewaySubset('{mode: ISTIO_MUTUAL, sni: b.example.com}'),
    );
    const sniOfHost = ask(withSni, 'http://b.example.com/');
    expect(hops(sniOfHost)?.[1]).toEqual(['gateway', '(no filter chain)']);
    expect(sniOfHost.reason).not.toContain('takes b.example.com (SNI');
  });

  it('closes a connection whose SNI no tls route names, the listener standing for the routes of other hosts: 503 to HTTP', () => {
    // The server takes b.example.com, but only a.example.com has a tls route, so the listener's one chain matches
    // SNI a.example.com (buildGatewayNetworkFiltersFromTLSRoutes): Envoy closes the connection, the router answers 503.
    const res = load(
      entry('[a.example.com, b.example.com]', '[{number: 80, name: http, protocol: HTTP}]'),
      gateway('first', passthrough('[a.example.com, b.example.com]')),
      virtualService(
        'to-gateway',
        `  hosts: [b.example.com]
  http: [{route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 443}}}]}]`,
      ),
      bound('[a.example.com]'),
      gatewaySubset('{mode: ISTIO_MUTUAL, sni: b.example.com}'),
    );
    expect(ask(res, 'http://b.example.com/')).toMatchObject({ verdict: 'blocked', cluster: GW443, signal: 'http-503' });
  });
});

describe("the egress gateway's plain HTTP route of a port holds the hosts each server shares with its own Gateway's VirtualServices", () => {
  // model/gateway.go mergeGateways: the plain HTTP servers of port 80 share route http.8080 (gatewayRDSRouteName
  // over the port resolved to the Service's targetPort); gateway.go buildGatewayHTTPRouteConfig adds, per server,
  // the VirtualServices bound to its Gateway whose hosts intersect the server's: a VirtualService bound to a
  // server of other hosts adds nothing for them.
  const http = (hosts: string) => `[{port: {number: 80, name: http, protocol: HTTP}, hosts: ${hosts}}]`;
  const bound = (name: string, gw: string, to: string, match = '') =>
    virtualService(
      name,
      `  hosts: [a.example.com]
  gateways: [istio-system/${gw}]
  http: [{${match}route: [{destination: {host: ${to}, port: {number: 80}}}]}]`,
    );
  const r = (...vs: string[]) =>
    load(
      entry('[a.example.com, c.example.com]', '[{number: 80, name: http, protocol: HTTP}]'),
      gateway('other-hosts', http('[x.example.com]')),
      gateway('egress', http('[a.example.com]')),
      virtualService(
        'to-gateway',
        `  hosts: [a.example.com]
  http: [{route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 80}}}]}]`,
      ),
      ...vs,
      gatewaySubset(),
    );

  it("a VirtualService bound to the other server's Gateway does not route the host", () => {
    const e = ask(
      r(bound('via-other', 'other-hosts', 'c.example.com'), bound('via-egress', 'egress', 'a.example.com')),
      'http://a.example.com/',
    );
    expect(hops(e)).toEqual([
      ['sidecar', GW80],
      ['gateway', 'outbound|80||a.example.com'],
    ]);
    expect(e.reason).not.toContain('shares route');
  });

  it('a bound VirtualService whose routes all match another port gives no route: 404', () => {
    // route.go BuildHTTPRoutesForVirtualService with the server's port: a route matching port 8000 is left out.
    const e = ask(r(bound('via-egress', 'egress', 'a.example.com', 'match: [{port: 8000}], ')), 'http://a.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW80, signal: 'http-404' });
    expect(hops(e)?.[1]).toEqual(['gateway', '(no route)']);
    expect(e.reason).toContain('no VirtualService bound to istio-system/egress has a http route for a.example.com');
  });
});

describe('without a scope (applyRouting alone), every exported entry is in every proxy’s scope', () => {
  // cluster_builder.go buildOutboundClusters: the gateway has a cluster for each port of each service exported
  // to it; entries of other hosts beside the destination's change nothing.
  it("the gateway's cluster exists when one entry among others declares the host", () => {
    const r = load(
      entry('[other.example.org]', '[{number: 80, name: http, protocol: HTTP}]', 'default'),
      entry('[a.example.com]', '[{number: 80, name: http, protocol: HTTP}]'),
      gateway('egress', '[{port: {number: 80, name: http, protocol: HTTP}, hosts: [a.example.com]}]'),
      virtualService(
        'through-gateway',
        `  hosts: [a.example.com]
  gateways: [istio-system/egress, mesh]
  http:
  - match: [{gateways: [mesh]}]
    route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [istio-system/egress]}]
    route: [{destination: {host: a.example.com, port: {number: 80}}}]`,
      ),
      gatewaySubset(),
    );
    const probe = { from: { namespace: 'frontend' }, to: parseProbeUrl('http://a.example.com/') };
    const e = applyRouting(r, probe, sidecarAnswer(r, probe, { istioVersion: V, policy: 'ALLOW_ANY' }));
    expect(e).toMatchObject({ verdict: 'allowed', cluster: GW80 });
    expect(hops(e)).toEqual([
      ['sidecar', GW80],
      ['gateway', 'outbound|80||a.example.com'],
    ]);
  });
});

describe('TLS and TCP servers: which routes build their chains (gateway.go createGatewayTCPFilterChainOpts), checked on istiod', () => {
  // The scenarios are the rule fixtures of the same names, run on the lane by suites/rules.test.ts.
  const from = (r: ResourceSet, url: string) =>
    expectProbe(r, { from: { namespace: 'default' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });
  const end = (r: ResourceSet, host: string) => from(r, `https://${host}/`).hops?.at(-1)?.cluster;

  it('a PASSTHROUGH server has chains for its tls matches only: another SNI meets the listener and no chain', () => {
    const r = ruleFixture('gateway-passthrough-unrouted-sni');
    expect(end(r, 'edition.example.com')).toBe('outbound|443||edition.example.com');
    expect(from(r, 'https://other.example.com/')).toMatchObject({ verdict: 'blocked', signal: 'tcp-close' });
    expect(end(r, 'other.example.com')).toBe('(no filter chain)');
  });

  it('a TLS server terminating TLS forwards by tcp routes, not tls ones', () => {
    const r = ruleFixture('gateway-tls-terminate-tcp-route');
    for (const h of ['edition.example.com', 'other.example.com']) {
      expect(from(r, `https://${h}/`).verdict).toBe('allowed');
      expect(end(r, h)).toBe('outbound|443||edition.example.com');
    }
  });

  it('an opaque TCP server takes a call for any host: its hosts choose VirtualServices, not calls', () => {
    expect(end(ruleFixture('gateway-opaque-tcp-any-host'), 'other.example.com')).toBe('outbound|443||edition.example.com');
  });

  it('an opaque TCP server forwards by the first bound VirtualService with a fitting tcp route, whatever the host', () => {
    const r = ruleFixture('gateway-tcp-first-virtual-service');
    expect(end(r, 'edition.example.com')).toBe('outbound|443||other.example.com');
    expect(end(r, 'other.example.com')).toBe('outbound|443||other.example.com');
  });

  it('a tcp route whose match names another port builds no chain: nothing listens, the connection is refused', () => {
    const r = ruleFixture('gateway-opaque-tcp-any-host');
    for (const c of r.routing ?? [])
      for (const t of (c.spec.tcp as { match?: { port?: number }[] }[] | undefined) ?? []) for (const m of t.match ?? []) m.port = 8443;
    expect(end(r, 'edition.example.com')).toBe('(connection refused)');
  });

  it("a PASSTHROUGH server's tls routes match the SNI the sidecar's DestinationRule sets, not the Host", () => {
    const e = from(ruleFixture('gateway-passthrough-by-origination-sni'), 'http://other.example.com/');
    expect(e.verdict).toBe('allowed');
    expect(e.hops?.at(-1)?.cluster).toBe('outbound|443||edition.example.com');
  });

  it('TLS SIMPLE into a plain HTTP server is a protocol error, as Istio mTLS is', () => {
    const e = from(ruleFixture('gateway-tls-into-plain-http'), 'http://edition.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', signal: 'http-503' });
    expect(e.hops?.at(-1)?.cluster).toBe('(protocol error)');
  });
});
