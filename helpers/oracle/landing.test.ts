// Where a probe lands once its listener is known (landing.ts land), asked directly with hand-made listeners,
// service ports and policy decisions. Each expectation is read in the pinned source
// (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad, pilot/pkg/networking/core/): httproute.go
// buildCatchAllVirtualHost, listener_builder.go buildOutboundCatchAllNetworkFilterChains / blackholeFilterChain,
// listener.go buildSidecarOutboundListener, tls.go buildSidecarOutboundTLSFilterChainOpts, cluster.go.
import { describe, expect, it } from 'vitest';
import type { PortProtocol, Probe, ServiceEntry } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { BLACKHOLE, DFP_CLUSTER, land } from './landing.ts';
import type { AddressListener, PortKind, ServicePort, WildcardListener } from './listeners.ts';
import type { PolicyDecision } from './policy.ts';
import { testEntry, testServicePort } from '../testing/service-ports.ts';

/** One host:port of an entry of that kind's protocol; `se` overrides fields of the entry. */
function sp(
  name: string,
  kind: PortKind,
  port: number,
  o: Partial<Omit<ServicePort, 'se'>> & { se?: Partial<ServiceEntry> } = {},
): ServicePort {
  const { se: seOver, ...rest } = o;
  const protocol: PortProtocol = kind === 'http' ? 'HTTP' : kind === 'tls' ? 'TLS' : kind === 'sniffed' ? '' : 'TCP';
  return testServicePort({ ...testEntry(name, protocol, port), ...seOver }, port, kind, rest);
}

const wild = (port: number, o: Partial<WildcardListener> = {}): WildcardListener => ({
  name: `0.0.0.0_${port}`,
  kind: 'wildcard',
  tls: [],
  cidr: [],
  conflicts: [],
  rules: [],
  protocol: 'TCP',
  ...o,
});

const addr = (service: ServicePort, o: Partial<AddressListener> = {}): AddressListener => ({
  name: `${service.ips[0] ?? '240.240.0.1'}_${service.port}`,
  kind: 'address',
  ip: service.ips[0] ?? '240.240.0.1',
  service,
  conflicts: [],
  rules: [],
  ...o,
});

const REGISTRY_ONLY: PolicyDecision = { mode: 'REGISTRY_ONLY', source: 'mesh', why: '', passthrough: 'PassthroughCluster' };
const ALLOW_ANY: PolicyDecision = { mode: 'ALLOW_ANY', source: 'mesh', why: '', passthrough: 'PassthroughCluster' };
const DYNAMIC_DNS: PolicyDecision = { mode: 'ALLOW_ANY_DYNAMIC_DNS', source: 'mesh', why: '', passthrough: 'PassthroughCluster' };
const SIDECAR_REGISTRY_ONLY: PolicyDecision = { ...REGISTRY_ONLY, source: 'sidecar' };
const EGRESS_CLUSTER = 'outbound|80||proxy.example.com';
const EGRESS_PROXY: PolicyDecision = {
  mode: 'ALLOW_ANY',
  source: 'sidecar',
  why: '',
  passthrough: EGRESS_CLUSTER,
  egressProxy: { host: 'proxy.example.com', port: 80 },
};
const EGRESS_PROXY_MISSING: PolicyDecision = { ...EGRESS_PROXY, missingEgressCluster: 'no ServiceEntry declares proxy.example.com' };

const probe = (url: string): Probe => ({ from: { namespace: 'frontend' }, to: parseProbeUrl(url, 'test') });
/** What a test compares: the verdict's parts, without the reason text. */
const ends = (l: ReturnType<typeof land>) => ({
  cluster: l.cluster,
  blocked: l.blocked,
  signal: l.signal,
  rule: l.rule,
  via: l.via,
});

describe('the policy catch-alls (httproute.go buildCatchAllVirtualHost, listener_builder.go buildOutboundCatchAllNetworkFilterChains)', () => {
  const noListener = (url: string, policy: PolicyDecision) => land(undefined, probe(url), undefined, policy);
  const noVirtualHost = (policy: PolicyDecision) =>
    land(wild(80, { http: [sp('a', 'http', 80)] }), probe('http://other.example.com/'), undefined, policy);

  it('REGISTRY_ONLY: the route catch-all block_all answers 502, a TCP chain goes to BlackHoleCluster, the source named', () => {
    // httproute.go: no allow-any → block_all virtual host with a 502 direct response; the virtualOutbound TCP chain
    // takes BlackHoleCluster (buildOutboundCatchAllNetworkFiltersOnly).
    const route = noVirtualHost(REGISTRY_ONLY);
    expect(ends(route)).toEqual({
      cluster: BLACKHOLE,
      blocked: true,
      signal: 'http-502',
      rule: 'mesh.registry-only-http',
      via: ['se.http-no-virtual-host'],
    });
    expect(route.how).toMatch(/no virtual host for other\.example\.com → catch-all virtual host block_all answers 502/);
    expect(ends(noVirtualHost(SIDECAR_REGISTRY_ONLY)).rule).toBe('sidecar.registry-only-http');
    const tcp = noListener('tcp://other.example.com:9000', SIDECAR_REGISTRY_ONLY);
    expect(ends(tcp)).toEqual({
      cluster: BLACKHOLE,
      blocked: true,
      signal: 'tcp-close',
      rule: 'sidecar.registry-only',
      via: ['listener.none'],
    });
    expect(tcp.how).toMatch(/no outbound listener for port 9000: virtualOutbound catch-all chain → BlackHoleCluster \(REGISTRY_ONLY\)/);
    // virtualOutbound has no HTTP chain under REGISTRY_ONLY: plain HTTP to a port without listener is closed too.
    expect(ends(noListener('http://other.example.com:9000/', REGISTRY_ONLY)).signal).toBe('tcp-close');
  });

  it('ALLOW_ANY: PassthroughCluster on the route and on virtualOutbound, the source named', () => {
    const route = noVirtualHost(ALLOW_ANY);
    expect(ends(route)).toEqual({
      cluster: 'PassthroughCluster',
      blocked: false,
      signal: undefined,
      rule: 'mesh.allow-any',
      via: ['se.http-no-virtual-host'],
    });
    expect(route.how).toMatch(/→ PassthroughCluster \(ALLOW_ANY\)$/);
    expect(ends(noListener('tcp://x.example.com:9000', { ...ALLOW_ANY, source: 'sidecar' })).rule).toBe('sidecar.allow-any');
  });

  it('ALLOW_ANY with an egressProxy: its cluster (route.GetDestinationCluster) on the route and on virtualOutbound', () => {
    expect(ends(noVirtualHost(EGRESS_PROXY))).toEqual({
      cluster: EGRESS_CLUSTER,
      blocked: false,
      signal: undefined,
      rule: 'sidecar.egress-proxy',
      via: ['se.http-no-virtual-host'],
    });
    expect(ends(noListener('tcp://x.example.com:9000', EGRESS_PROXY)).rule).toBe('sidecar.egress-proxy');
  });

  it('an egressProxy cluster istiod names but does not build: the router answers 503, a tcp_proxy closes', () => {
    // The allow_any virtual host names the cluster whatever exists (buildCatchAllVirtualHost); virtualOutbound has no
    // HTTP chain under ALLOW_ANY (only under ALLOW_ANY_DYNAMIC_DNS), so plain HTTP there meets the tcp_proxy.
    const route = noVirtualHost(EGRESS_PROXY_MISSING);
    expect(ends(route)).toEqual({
      cluster: EGRESS_CLUSTER,
      blocked: true,
      signal: 'http-503',
      rule: 'sidecar.egress-proxy-missing',
      via: ['se.http-no-virtual-host'],
    });
    expect(route.how).toMatch(/which this sidecar does not have \(no ServiceEntry declares proxy\.example\.com\)/);
    for (const url of ['http://x.example.com:9000/', 'tcp://x.example.com:9000'])
      expect(ends(noListener(url, EGRESS_PROXY_MISSING))).toEqual({
        cluster: EGRESS_CLUSTER,
        blocked: true,
        signal: 'tcp-close',
        rule: 'sidecar.egress-proxy-missing',
        via: ['listener.none'],
      });
  });

  it('ALLOW_ANY_DYNAMIC_DNS: plain HTTP on a route or virtualOutbound takes the DFP cluster, the rest passthrough', () => {
    const route = noVirtualHost(DYNAMIC_DNS);
    expect(ends(route)).toEqual({
      cluster: DFP_CLUSTER,
      blocked: false,
      signal: undefined,
      rule: 'mesh.allow-any-dynamic-dns',
      via: ['se.http-no-virtual-host'],
    });
    expect(route.how).toMatch(/catch-all virtual host allow_any_dynamic_dns → AllowAnyDynamicDNSCluster/);
    // buildAllowAnyDynamicDNSHTTPFilterChain: virtualOutbound's HTTP-inspector chain.
    const outbound = noListener('http://x.example.com:9000/', DYNAMIC_DNS);
    expect(ends(outbound)).toEqual({
      cluster: DFP_CLUSTER,
      blocked: false,
      signal: undefined,
      rule: 'mesh.allow-any-dynamic-dns',
      via: ['listener.none'],
    });
    expect(outbound.how).toMatch(/virtualOutbound's allow_any_dynamic_dns HTTP chain/);
    for (const url of ['https://x.example.com:9000/', 'tcp://x.example.com:9000']) {
      const other = noListener(url, DYNAMIC_DNS);
      expect(ends(other)).toEqual({
        cluster: 'PassthroughCluster',
        blocked: false,
        signal: undefined,
        rule: 'mesh.dynamic-dns-passthrough',
        via: ['listener.none'],
      });
      expect(other.how).toMatch(/PassthroughCluster \(ALLOW_ANY_DYNAMIC_DNS: only plain HTTP/);
    }
  });

  it('the capture port itself goes to BlackHoleCluster whatever the policy (listener_builder.go blackholeFilterChain)', () => {
    for (const policy of [ALLOW_ANY, DYNAMIC_DNS, REGISTRY_ONLY]) {
      const l = noListener('http://x.example.com:15001/', policy);
      expect(ends(l)).toEqual({ cluster: BLACKHOLE, blocked: true, signal: 'tcp-close', rule: 'capture-port.loop', via: [] });
      expect(l.how).toMatch(/port 15001 is the sidecar's own capture port/);
    }
    expect(ends(noListener('tcp://x.example.com:15002', ALLOW_ANY)).rule).toBe('mesh.allow-any');
  });
});

describe("a service's cluster (cluster.go buildOutboundClusters)", () => {
  it('names outbound|port||host, the clusterPort when an HTTP_PROXY listener routes to port 80', () => {
    const a = sp('a', 'http', 8080, { clusterPort: 80 });
    const l = land(wild(8080, { http: [a] }), probe('http://a.example.com:8080/'), undefined, REGISTRY_ONLY);
    expect(ends(l)).toEqual({ cluster: 'outbound|80||a.example.com', blocked: false, signal: undefined, rule: 'se.http-route', via: [] });
  });

  it('a cluster istiod does not build: the tcp_proxy closes, the router answers 503, the unbuilt rule decides', () => {
    const unbuilt = { rule: 'se.dns-cluster-not-built' as const, why: 'no endpoints' };
    const tcp = sp('t', 'tcp', 9000, { unbuilt });
    const viaTcp = land(wild(9000, { matchAll: tcp }), probe('tcp://t.example.com:9000'), undefined, ALLOW_ANY);
    expect(ends(viaTcp)).toEqual({
      cluster: 'outbound|9000||t.example.com',
      blocked: true,
      signal: 'tcp-close',
      rule: 'se.dns-cluster-not-built',
      via: ['se.tcp-port-capture'],
    });
    expect(viaTcp.how).toMatch(/which istiod does not build \(no endpoints\): Envoy fails the call/);
    const http = sp('h', 'http', 80, { unbuilt });
    const viaRoute = land(wild(80, { http: [http] }), probe('http://h.example.com/'), undefined, ALLOW_ANY);
    expect(ends(viaRoute)).toEqual({
      cluster: 'outbound|80||h.example.com',
      blocked: true,
      signal: 'http-503',
      rule: 'se.dns-cluster-not-built',
      via: ['se.http-route'],
    });
  });

  it('says where a DNS cluster connects and what a DYNAMIC_DNS cluster resolves', () => {
    const how = (o: Partial<ServiceEntry>) => {
      const s = sp('d', 'tcp', 9000, { se: o });
      return land(wild(9000, { matchAll: s }), probe('tcp://d.example.com:9000'), undefined, ALLOW_ANY).how;
    };
    expect(how({ resolution: 'DNS' })).toMatch(/resolution DNS: it connects to d\.example\.com's resolved address, not to the dialled one/);
    expect(how({ resolution: 'DNS_ROUND_ROBIN', endpoints: [{ address: 'e.example.com' }] })).toMatch(
      /resolution DNS_ROUND_ROBIN: it connects to the listed endpoints/,
    );
    expect(how({ resolution: 'DYNAMIC_DNS' })).toMatch(/resolution DYNAMIC_DNS: a dynamic forward proxy cluster/);
    for (const resolution of ['STATIC', 'NONE'] as const)
      expect(how({ resolution })).toMatch(/→ outbound\|9000\|\|d\.example\.com of ServiceEntry frontend\/d$/);
  });
});

describe('the wildcard listener 0.0.0.0_<port> (listener.go buildSidecarOutboundListener)', () => {
  it('CIDR chains: the longest matching prefix only, the first entry among equal ones; outside every range, the other chains', () => {
    // Envoy's FilterChainMatch narrows by destination prefix first (most specific prefix_ranges).
    const wide = sp('wide', 'tcp', 5432, { cidrs: ['10.0.0.0/8'] });
    const narrow = sp('narrow', 'tcp', 5432, { cidrs: ['10.1.0.0/16', '192.168.0.0/16'] });
    const twin = sp('twin', 'tcp', 5432, { cidrs: ['10.1.0.0/16'] });
    const other = sp('other', 'tcp', 5432);
    const l = wild(5432, { cidr: [wide, narrow, twin], matchAll: other });
    const at = (dst: string | undefined) => land(l, probe('tcp://db.example.com:5432'), dst, REGISTRY_ONLY);
    expect(ends(at('10.1.2.3'))).toEqual({
      cluster: 'outbound|5432||narrow.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.cidr-chain',
      via: [],
    });
    expect(at('10.1.2.3').how).toMatch(/chain for 10\.1\.0\.0\/16,192\.168\.0\.0\/16 →/);
    expect(ends(at('10.2.0.1')).cluster).toBe('outbound|5432||wide.example.com');
    // Outside every range, or no address known: the match-all chain.
    for (const dst of ['11.0.0.1', undefined])
      expect(ends(at(dst))).toMatchObject({ cluster: 'outbound|5432||other.example.com', rule: 'se.tcp-port-capture' });
    // No chain at all outside the ranges: the default chain by policy.
    expect(ends(land(wild(5432, { cidr: [wide] }), probe('tcp://db.example.com:5432'), '11.0.0.1', REGISTRY_ONLY)).rule).toBe(
      'mesh.registry-only',
    );
  });

  it('a /0 range on an address other than 0.0.0.0 keeps its prefix range (listener.go drops only constants.UnspecifiedIP): it takes every destination', () => {
    const all = sp('all', 'tcp', 5432, { cidrs: ['10.0.0.0/0'] });
    const other = sp('other', 'tcp', 5432);
    expect(
      ends(land(wild(5432, { cidr: [all], matchAll: other }), probe('tcp://db.example.com:5432'), '11.0.0.1', REGISTRY_ONLY)),
    ).toMatchObject({
      cluster: 'outbound|5432||all.example.com',
      rule: 'se.cidr-chain',
    });
  });

  it('a TLS chain in the range needs its SNI, exact before the longest wildcard; without one, a plain chain of the range', () => {
    const star = sp('star', 'tls', 443, { host: '*.example.com', cidrs: ['10.1.0.0/16'] });
    const deeper = sp('deeper', 'tls', 443, { host: '*.api.example.com', cidrs: ['10.1.0.0/16'] });
    const exact = sp('exact', 'tls', 443, { host: 'x.api.example.com', cidrs: ['10.1.0.0/16'] });
    const plain = sp('plain', 'tcp', 443, { host: 'plain.other.org', cidrs: ['10.1.0.0/16'] });
    const l = wild(443, { cidr: [star, deeper, exact, plain] });
    const at = (url: string) => land(l, probe(url), '10.1.0.9', REGISTRY_ONLY);
    expect(ends(at('https://x.api.example.com/'))).toEqual({
      cluster: 'outbound|443||x.api.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.cidr-sni-chain',
      via: [],
    });
    expect(at('https://x.api.example.com/').how).toMatch(/chain for 10\.1\.0\.0\/16 with SNI x\.api\.example\.com/);
    expect(ends(at('https://y.api.example.com/')).cluster).toBe('outbound|443||*.api.example.com');
    expect(ends(at('https://y.example.com/')).cluster).toBe('outbound|443||*.example.com');
    // No SNI (an IP literal, plain TCP) or no chain for it: the plain chain of the range.
    expect(ends(land(l, probe('https://10.1.0.9/'), '10.1.0.9', REGISTRY_ONLY)).rule).toBe('se.cidr-chain');
    // A plain chain matches no SNI: TLS named for its host is no SNI chain's.
    expect(ends(at('https://plain.other.org/'))).toMatchObject({ cluster: 'outbound|443||plain.other.org', rule: 'se.cidr-chain' });
    for (const url of ['https://elsewhere.org/', 'tcp://y.example.com:443'])
      expect(ends(at(url)).cluster).toBe('outbound|443||plain.other.org');
  });

  it("a range with TLS chains only: no backtracking; the default chain is the port's match-all chain, else the policy's", () => {
    // listener.go buildListenerFromEntry moves a match-all chain to DefaultFilterChain.
    const tls = sp('t', 'tls', 443, { cidrs: ['10.1.0.0/16'] });
    const all = sp('all', 'tcp', 443);
    const withAll = land(wild(443, { cidr: [tls], matchAll: all }), probe('https://other.example.com/'), '10.1.0.9', REGISTRY_ONLY);
    expect(ends(withAll)).toEqual({
      cluster: 'outbound|443||all.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.tcp-port-capture',
      via: ['se.cidr-tls-only'],
    });
    expect(withAll.how).toMatch(
      /10\.1\.0\.9 is in 10\.1\.0\.0\/16, whose chains take only TLS with SNI t\.example\.com; the default chain is the match-all TCP chain/,
    );
    const bare = land(wild(443, { cidr: [tls] }), probe('tcp://t.example.com:443'), '10.1.0.9', ALLOW_ANY);
    expect(ends(bare)).toEqual({
      cluster: 'PassthroughCluster',
      blocked: false,
      signal: undefined,
      rule: 'mesh.allow-any',
      via: ['se.cidr-tls-only'],
    });
    expect(bare.how).toMatch(/whose chains take only TLS with SNI t\.example\.com; default chain →/);
  });

  it("HTTP: Envoy's virtual host, exact domain before the longest suffix wildcard; none matching, the route's catch-all", () => {
    const star = sp('star', 'http', 80, { host: '*.example.com' });
    const deeper = sp('deeper', 'http', 80, { host: '*.api.example.com' });
    const exact = sp('exact', 'http', 80, { host: 'x.api.example.com' });
    const l = wild(80, { http: [star, deeper, exact] });
    const host = (url: string) => land(l, probe(url), undefined, REGISTRY_ONLY);
    expect(ends(host('http://x.api.example.com/'))).toEqual({
      cluster: 'outbound|80||x.api.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.http-route',
      via: [],
    });
    expect(host('http://x.api.example.com/').how).toMatch(/HTTP chain, route 80, virtual host x\.api\.example\.com:80 →/);
    expect(ends(host('http://y.api.example.com/')).cluster).toBe('outbound|80||*.api.example.com');
    // The same order whichever comes first.
    expect(ends(land(wild(80, { http: [deeper, star] }), probe('http://y.api.example.com/'), undefined, REGISTRY_ONLY)).cluster).toBe(
      'outbound|80||*.api.example.com',
    );
    expect(ends(land(wild(80, { http: [exact, star] }), probe('http://x.api.example.com/'), undefined, REGISTRY_ONLY)).cluster).toBe(
      'outbound|80||x.api.example.com',
    );
    expect(ends(host('http://y.example.com/')).cluster).toBe('outbound|80||*.example.com');
    // A suffix wildcard needs a label before the suffix.
    expect(ends(host('http://example.com/')).rule).toBe('mesh.registry-only-http');
    const absolute = land(l, probe('http://nowhere.org./'), undefined, REGISTRY_ONLY);
    expect(absolute.how).toMatch(/no virtual host for nowhere\.org\. →/);
    expect(land(l, probe('http://nowhere.org/'), undefined, REGISTRY_ONLY).how).toMatch(/no virtual host for nowhere\.org →/);
  });

  it("a `*` host's virtual host is the route's own catch-all (domain '*'), not a match", () => {
    const any = sp('any', 'http', 80, { host: '*' });
    expect(ends(land(wild(80, { http: [any] }), probe('http://x.example.com/'), undefined, REGISTRY_ONLY)).rule).toBe(
      'mesh.registry-only-http',
    );
  });

  it("an address is a domain of its service's virtual host (generateVirtualHostDomains); a routed one-address service's first", () => {
    const a = sp('a', 'http', 80, { ips: ['192.0.2.1'], se: { addresses: ['192.0.2.1'] } });
    const b = sp('b', 'http', 80, { ips: ['192.0.2.1'], se: { addresses: ['192.0.2.1'] } });
    const multi = sp('m', 'http', 80, { ips: ['192.0.2.1', '192.0.2.2'], se: { addresses: ['192.0.2.1', '192.0.2.2'] } });
    const at = (services: ServicePort[], routed?: (h: string) => boolean) =>
      land(wild(80, { http: services }), probe('http://192.0.2.1/'), '192.0.2.1', REGISTRY_ONLY, undefined, routed);
    expect(ends(at([a, b]))).toEqual({
      cluster: 'outbound|80||a.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.http-route-address',
      via: [],
    });
    // route.go BuildSidecarVirtualHostWrapper builds the routed hosts' virtual hosts first; dedupeDomains keeps the first.
    expect(ends(at([a, b], (h) => h === 'b.example.com')).cluster).toBe('outbound|80||b.example.com');
    // A routed host of several addresses keeps one of them, which one is arbitrary: it takes no precedence.
    expect(ends(at([a, multi], (h) => h === 'm.example.com')).cluster).toBe('outbound|80||a.example.com');
    const several = at([multi, a]);
    expect(ends(several).cluster).toBe('outbound|80||m.example.com');
    expect(several.how).toMatch(/\(one of 2 addresses; istiod keeps one per host, which one is arbitrary\)/);
    expect(at([a]).how).not.toMatch(/one of/);
    // A Host that is a name never matches by address.
    expect(ends(land(wild(80, { http: [a] }), probe('http://c.example.com/'), '192.0.2.1', REGISTRY_ONLY)).rule).toBe(
      'mesh.registry-only-http',
    );
  });

  it("a host's short names for the proxy's namespace are exact domains of its virtual host (GenerateAltVirtualHosts)", () => {
    const svc = sp('svc', 'http', 80, { host: 'api.frontend.svc.cluster.local' });
    const star = sp('star', 'http', 80, { host: '*.frontend' });
    const at = (host: string, services = [svc]) => land(wild(80, { http: services }), probe(`http://${host}/`), undefined, REGISTRY_ONLY);
    for (const h of ['api', 'api.frontend', 'api.frontend.svc'])
      expect(ends(at(h)).cluster).toBe('outbound|80||api.frontend.svc.cluster.local');
    // An exact alternative name beats a suffix wildcard.
    expect(ends(at('api.frontend', [star, svc])).cluster).toBe('outbound|80||api.frontend.svc.cluster.local');
    // dedupeDomains: a name a service has itself stays that service's.
    const own = sp('own', 'http', 80, { host: 'api.frontend' });
    expect(ends(at('api.frontend', [svc, own])).cluster).toBe('outbound|80||api.frontend');
    expect(ends(at('api.frontend.svc', [svc, star])).cluster).toBe('outbound|80||api.frontend.svc.cluster.local');
  });

  it('TLS: the SNI chain of the host, exact before the longest wildcard; VirtualService tls routes replace a chain by their SNIs', () => {
    const star = sp('star', 'tls', 443, { host: '*.example.com' });
    const deeper = sp('deeper', 'tls', 443, { host: '*.api.example.com' });
    const exact = sp('exact', 'tls', 443, { host: 'x.api.example.com' });
    const l = wild(443, { tls: [star, deeper, exact] });
    const at = (url: string, routeSni?: (s: ServicePort) => string[] | undefined, listener = l) =>
      land(listener, probe(url), undefined, REGISTRY_ONLY, undefined, undefined, routeSni);
    expect(ends(at('https://x.api.example.com/'))).toEqual({
      cluster: 'outbound|443||x.api.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.sni-chain',
      via: [],
    });
    expect(at('https://x.api.example.com/').how).toMatch(/SNI chain x\.api\.example\.com →/);
    expect(ends(at('https://y.api.example.com/')).cluster).toBe('outbound|443||*.api.example.com');
    expect(ends(at('https://y.example.com/')).cluster).toBe('outbound|443||*.example.com');
    // A name no chain takes: the default chain (no tls routes anywhere).
    expect(ends(at('https://nowhere.org/')).via).toEqual(['listener.default-chain']);
    // tls.go: with tls routes the service gets one chain per route match, on its sniHosts, and none of its own.
    const routes = (s: ServicePort) => (s === star ? ['a.example.com', '*.b.example.com'] : undefined);
    expect(ends(at('https://a.example.com/', routes)).cluster).toBe('outbound|443||*.example.com');
    expect(at('https://z.b.example.com/', routes).how).toMatch(/SNI chain \*\.b\.example\.com →/);
    const unrouted = at('https://c.example.com/', routes);
    expect(ends(unrouted)).toEqual({
      cluster: BLACKHOLE,
      blocked: true,
      signal: 'tcp-close',
      rule: 'mesh.registry-only',
      via: ['listener.default-chain'],
    });
    expect(unrouted.how).toMatch(
      /VirtualService tls routes give \*\.example\.com chains for SNI a\.example\.com, \*\.b\.example\.com only, none for c\.example\.com/,
    );
    // A name outside the routed service's host: no chain, the plain default chain.
    const elsewhere = at('https://c.elsewhere.org/', routes);
    expect(elsewhere.how).toMatch(/no SNI chain for c\.elsewhere\.org; default chain/);
    // With a match-all chain, the call takes it.
    const all = sp('all', 'tcp', 443);
    expect(ends(at('https://c.example.com/', routes, wild(443, { tls: [star], matchAll: all })))).toMatchObject({
      cluster: 'outbound|443||all.example.com',
      rule: 'se.tcp-port-capture',
    });
  });

  it('the default chain: the match-all TCP chain, else the policy, said for what the call carries', () => {
    const all = sp('all', 'tcp', 9000);
    const withAll = (url: string) => land(wild(9000, { matchAll: all }), probe(url), undefined, REGISTRY_ONLY);
    expect(withAll('http://x.example.com:9000/').how).toMatch(/: plain HTTP takes the match-all TCP chain →/);
    expect(withAll('https://x.example.com:9000/').how).toMatch(/: TLS takes the match-all TCP chain →/);
    expect(withAll('tcp://x.example.com:9000').how).toMatch(/: non-HTTP TCP takes the match-all TCP chain →/);
    const bare = (url: string) => land(wild(9000), probe(url), undefined, REGISTRY_ONLY);
    expect(ends(bare('tcp://x.example.com:9000'))).toEqual({
      cluster: BLACKHOLE,
      blocked: true,
      signal: 'tcp-close',
      rule: 'mesh.registry-only',
      via: ['listener.default-chain'],
    });
    expect(bare('https://192.0.2.1:9000/').how).toMatch(/TLS to an IP literal carries no SNI; default chain/);
    expect(bare('https://x.example.com:9000/').how).toMatch(/no SNI chain for x\.example\.com; default chain/);
    expect(bare('http://x.example.com:9000/').how).toMatch(/no HTTP chain on this port; default chain/);
    expect(bare('tcp://x.example.com:9000').how).toMatch(/no chain for non-HTTP traffic; default chain/);
    // Without an HTTP chain, plain HTTP meets the TCP catch-all, not the route's 502.
    expect(ends(bare('http://x.example.com:9000/')).signal).toBe('tcp-close');
  });
});

describe("an address listener <ip>_<port> (listener.go buildSidecarOutboundListener with the service's address)", () => {
  it('every connection to it goes to the service; an auto-allocated address is said as such', () => {
    const s = sp('s', 'tcp', 9000, { ips: ['192.0.2.1'] });
    const l = land(addr(s), probe('tcp://192.0.2.1:9000'), '192.0.2.1', REGISTRY_ONLY);
    expect(ends(l)).toEqual({
      cluster: 'outbound|9000||s.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.address-listener',
      via: [],
    });
    expect(l.how).toMatch(/listener 192\.0\.2\.1_9000 \(address of ServiceEntry frontend\/s\): every connection to it →/);
    const auto = sp('auto', 'tcp', 9000, { autoAllocated: true });
    const a = land(addr(auto), probe('tcp://auto.example.com:9000'), '240.240.0.1', REGISTRY_ONLY);
    expect(ends(a).rule).toBe('se.auto-address-listener');
    expect(a.how).toMatch(/auto-allocated address of auto\.example\.com, answered by the sidecar's DNS proxy/);
  });

  it("a sniffed service's own listener: plain HTTP takes its HTTP chain (503 for an unbuilt cluster), the rest its TCP chain", () => {
    // listener.go ListenerProtocolAuto: buildSidecarOutboundHTTPListenerOpts beside the TCP chain.
    const unbuilt = { rule: 'se.dns-cluster-not-built' as const, why: 'no endpoints' };
    const s = sp('s', 'sniffed', 9000, { ips: ['192.0.2.1'], unbuilt });
    const http = land(addr(s), probe('http://192.0.2.1:9000/'), '192.0.2.1', ALLOW_ANY);
    expect(ends(http)).toEqual({
      cluster: 'outbound|9000||s.example.com',
      blocked: true,
      signal: 'http-503',
      rule: 'se.dns-cluster-not-built',
      via: ['se.address-listener'],
    });
    expect(http.how).toMatch(/plain HTTP takes its HTTP chain, route s\.example\.com:9000/);
    expect(ends(land(addr(s), probe('tcp://192.0.2.1:9000'), '192.0.2.1', ALLOW_ANY)).signal).toBe('tcp-close');
    // A TCP service's listener has no HTTP chain: plain HTTP meets its tcp_proxy.
    const t = sp('t', 'tcp', 9000, { ips: ['192.0.2.1'], unbuilt });
    const tcp = land(addr(t), probe('http://192.0.2.1:9000/'), '192.0.2.1', ALLOW_ANY);
    expect(ends(tcp).signal).toBe('tcp-close');
    expect(tcp.how).toMatch(/every connection to it/);
  });

  it('a sniffed HTTP chain joined to a TCP holder takes plain HTTP to its route, the rest stays with the holder', () => {
    const holder = sp('holder', 'tcp', 9000, { ips: ['192.0.2.1'] });
    const joined = sp('joined', 'sniffed', 9000, { ips: ['192.0.2.1'], unbuilt: { rule: 'se.unmerged-no-cluster', why: 'x' } });
    const l = addr(holder, { http: joined });
    const http = land(l, probe('http://192.0.2.1:9000/'), '192.0.2.1', REGISTRY_ONLY);
    expect(ends(http)).toEqual({
      cluster: 'outbound|9000||joined.example.com',
      blocked: true,
      signal: 'http-503',
      rule: 'se.unmerged-no-cluster',
      via: ['se.http-route'],
    });
    expect(http.how).toMatch(/plain HTTP takes the HTTP chain ServiceEntry frontend\/joined added to it, route joined\.example\.com:9000/);
    expect(ends(land(l, probe('tcp://192.0.2.1:9000'), '192.0.2.1', REGISTRY_ONLY)).cluster).toBe('outbound|9000||holder.example.com');
  });

  it("an HTTP chain whose route the port's egress listener does not fill: Envoy's 404 for plain HTTP only", () => {
    // sidecar.go GetEgressListenerForRDS: the route `<host>:<port>` is cut from the port's egress listener's services.
    const lost = sp('lost', 'sniffed', 9000, { ips: ['192.0.2.1'], catchAll: true });
    const own = land(addr(lost), probe('http://192.0.2.1:9000/'), '192.0.2.1', ALLOW_ANY);
    expect(ends(own)).toEqual({
      cluster: '(no route)',
      blocked: true,
      signal: 'http-404',
      rule: 'se.sniffed-route-no-virtual-host',
      via: [],
    });
    expect(own.how).toMatch(
      /route lost\.example\.com:9000, which has no virtual host: the Sidecar's egress listener for port 9000 does not import lost\.example\.com/,
    );
    expect(ends(land(addr(lost), probe('tcp://192.0.2.1:9000'), '192.0.2.1', ALLOW_ANY)).rule).toBe('se.address-listener');
    const holder = sp('holder', 'tcp', 9000, { ips: ['192.0.2.1'] });
    expect(ends(land(addr(holder, { http: lost }), probe('http://192.0.2.1:9000/'), '192.0.2.1', ALLOW_ANY)).signal).toBe('http-404');
    // A TCP service brought by the port-less listener has no HTTP chain: no route to miss.
    const tcp = sp('tcp', 'tcp', 9000, { ips: ['192.0.2.1'], catchAll: true });
    expect(ends(land(addr(tcp), probe('http://192.0.2.1:9000/'), '192.0.2.1', ALLOW_ANY)).rule).toBe('se.address-listener');
  });

  it('VirtualService tls routes replace its chain by SNI chains: an unmatched call takes the default chain, a later match-all one first', () => {
    // tls.go buildSidecarOutboundTLSFilterChainOpts.
    const s = sp('s', 'tls', 443, { ips: ['192.0.2.1'] });
    const at = (url: string, l: AddressListener = addr(s), sni = ['a.example.com', '*.b.example.com']) =>
      land(l, probe(url), '192.0.2.1', REGISTRY_ONLY, sni);
    for (const url of ['https://a.example.com/', 'https://z.b.example.com/'])
      expect(ends(at(url))).toEqual({
        cluster: 'outbound|443||s.example.com',
        blocked: false,
        signal: undefined,
        rule: 'se.address-listener',
        via: [],
      });
    const miss = at('https://c.example.com/');
    expect(ends(miss)).toEqual({
      cluster: BLACKHOLE,
      blocked: true,
      signal: 'tcp-close',
      rule: 'mesh.registry-only',
      via: ['listener.default-chain'],
    });
    expect(miss.how).toMatch(
      /tls routes give it chains for SNI a\.example\.com, \*\.b\.example\.com only; none matches c\.example\.com; default chain/,
    );
    for (const url of ['https://192.0.2.1/', 'tcp://a.example.com:443', 'http://a.example.com:443/']) {
      const noSni = at(url);
      expect(ends(noSni).via).toEqual(['listener.default-chain']);
      expect(noSni.how).toMatch(/the call carries no SNI/);
    }
    const later = sp('later', 'tcp', 443, { ips: ['192.0.2.1'] });
    const fallback = at('https://c.example.com/', addr(s, { fallback: later }));
    expect(ends(fallback)).toEqual({
      cluster: 'outbound|443||later.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.tcp-port-capture',
      via: [],
    });
    expect(fallback.how).toMatch(/none matches c\.example\.com; the default chain is the match-all chain of later\.example\.com/);
    expect(at('tcp://a.example.com:443', addr(s, { fallback: later })).how).toMatch(/the call carries no SNI; the default chain/);
    expect(ends(at('https://a.example.com/', addr(s, { fallback: later }))).cluster).toBe('outbound|443||s.example.com');
    // Only a TLS holder's chain is replaced.
    const t = sp('t', 'tcp', 443, { ips: ['192.0.2.1'] });
    expect(ends(at('https://c.example.com/', addr(t))).rule).toBe('se.address-listener');
  });

  it('a DYNAMIC_DNS wildcard keeps its SNI match on its own address: a call without a name under it takes the default chain', () => {
    // tls.go keeps the SNI match: its dynamic forward proxy cluster needs the server name.
    const s = sp('s', 'tls', 443, { host: '*.example.com', se: { resolution: 'DYNAMIC_DNS' }, autoAllocated: true });
    const at = (url: string) => land(addr(s), probe(url), '240.240.0.1', ALLOW_ANY);
    const hit = at('https://a.example.com/');
    expect(ends(hit)).toEqual({
      cluster: 'outbound|443||*.example.com',
      blocked: false,
      signal: undefined,
      rule: 'se.auto-address-listener',
      via: [],
    });
    expect(hit.how).toMatch(/: TLS with SNI under \*\.example\.com →/);
    const other = at('https://a.elsewhere.org/');
    expect(ends(other)).toEqual({
      cluster: 'PassthroughCluster',
      blocked: false,
      signal: undefined,
      rule: 'mesh.allow-any',
      via: ['listener.default-chain'],
    });
    expect(other.how).toMatch(/takes only TLS with SNI under \*\.example\.com; a\.elsewhere\.org is not; default chain/);
    for (const url of ['https://240.240.0.1/', 'tcp://a.example.com:443']) {
      expect(ends(at(url)).via).toEqual(['listener.default-chain']);
      expect(at(url).how).toMatch(/the call carries no SNI; default chain/);
    }
    // Another resolution, or a concrete host: every connection goes to it.
    const dns = sp('d', 'tls', 443, { host: '*.example.com', se: { resolution: 'NONE' }, ips: ['192.0.2.1'] });
    expect(ends(land(addr(dns), probe('tcp://192.0.2.1:443'), '192.0.2.1', ALLOW_ANY)).rule).toBe('se.address-listener');
    const concrete = sp('c', 'tls', 443, { se: { resolution: 'DYNAMIC_DNS' }, ips: ['192.0.2.1'] });
    expect(ends(land(addr(concrete), probe('tcp://192.0.2.1:443'), '192.0.2.1', ALLOW_ANY)).rule).toBe('se.address-listener');
    const tcp = sp('w', 'tcp', 443, { host: '*.example.com', se: { resolution: 'DYNAMIC_DNS' }, ips: ['192.0.2.1'] });
    expect(ends(land(addr(tcp), probe('tcp://192.0.2.1:443'), '192.0.2.1', ALLOW_ANY)).rule).toBe('se.address-listener');
  });
});
