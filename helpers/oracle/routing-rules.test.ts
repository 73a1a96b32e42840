// The routing model (routing.ts applyRouting) on small scenarios aimed at what its mutation run left alive: which
// chain a port gives the call and so which of a VirtualService's routes apply, which services a route holds and
// which VirtualService hosts get a virtual host of their own, which destinations get a cluster, and the gateway's
// view of its own namespace. Each expectation is read in the pinned source (istio.io/istio
// v0.0.0-20260827124520-eed52ebb66ad, pilot/pkg/networking/core and pilot/pkg/model) or pinned by a real istiod
// answer, as each case says.
import { describe, expect, it } from 'vitest';
import { askModel, loadTestYaml } from '../testing/ask-model.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe as sidecarAnswer } from './expect.ts';
import { applyRouting } from './routing.ts';

const load = (yaml: string) => loadTestYaml(yaml, 'routing-rules.test.ts');
const ask = askModel;

const ENTRY_A = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`;

const VS_HTTP_TO_8080 = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: a.example.com, port: {number: 8080}}}]}]
`;

describe('every HTTP protocol of a port gives its http routes (route.go IsHTTPOrSniffed, protocol.IsHTTP)', () => {
  for (const protocol of ['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY']) {
    it(`${protocol}: the http route takes the call to port 8080`, () => {
      const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: p, protocol: ${protocol}}, {number: 8080, name: h8080, protocol: HTTP}]
  resolution: DNS
${VS_HTTP_TO_8080}`;
      const e = ask(yaml, 'http://a.example.com/');
      expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||a.example.com' });
      expect(e.reason).toMatch(/VirtualService default\/vs \(mesh\) routes it to outbound\|8080\|\|a\.example\.com/);
    });
  }
});

describe('a TLS or HTTPS port takes tls routes, a TCP port tcp routes (tls.go buildSidecarOutboundTLSFilterChainOpts, tcp)', () => {
  const yaml = (protocol: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 443, name: p, protocol: ${protocol}}, {number: 8443, name: q, protocol: TLS}, {number: 9443, name: r, protocol: TCP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  tls: [{match: [{sniHosts: [a.example.com]}], route: [{destination: {host: a.example.com, port: {number: 8443}}}]}]
  tcp: [{route: [{destination: {host: a.example.com, port: {number: 9443}}}]}]
`;

  it('TLS and HTTPS: the SNI chain routes by the tls route, never the tcp one', () => {
    for (const protocol of ['TLS', 'HTTPS']) {
      const e = ask(yaml(protocol), 'https://a.example.com:443/');
      expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8443||a.example.com' });
      expect(e.path).toEqual(['sidecar outbound|8443||a.example.com']);
    }
  });

  it('TCP: the tcp route takes TLS and plain bytes alike', () => {
    expect(ask(yaml('TCP'), 'https://a.example.com:443/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|9443||a.example.com' });
    expect(ask(yaml('TCP'), 'tcp://a.example.com:443')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|9443||a.example.com' });
  });
});

describe("the chain of a host's port is read from the entries of that host, the proxy's own namespace first (sidecar.go selectServices)", () => {
  // Listed before the proxy's own entry: another host's TCP port 80 (its own address listener) and the same host's
  // TCP port 80 in payments. Neither is the service default keeps for a.example.com, whose port 80 is HTTP.
  const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: default}
spec:
  hosts: [db.example.com]
  addresses: [192.0.2.50]
  ports: [{number: 80, name: tcp, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.51}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: p, namespace: payments}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: tcp, protocol: TCP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: h8080, protocol: HTTP}]
  resolution: DNS
${VS_HTTP_TO_8080}`;

  it("default's HTTP port: the VirtualService's http route applies", () => {
    const e = ask(yaml, 'http://a.example.com/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||a.example.com' });
    expect(e.reason).toMatch(/VirtualService default\/vs \(mesh\) routes it to outbound\|8080\|\|a\.example\.com/);
  });

  it("a host no ServiceEntry declares (istiod's own Service) is left as the sidecar answered it", () => {
    const e = ask(yaml, 'http://istiod.istio-system.svc.cluster.local:15014/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|15014||istiod.istio-system.svc.cluster.local' });
    expect(e.path).toEqual(['sidecar outbound|15014||istiod.istio-system.svc.cluster.local']);
    expect(e.reason).not.toMatch(/VirtualService default\/vs/);
  });
});

describe("a VirtualService host that is no service of the route's egress listener gets a virtual host of its own (route.go separateVSHostsAndServices)", () => {
  it("a service the Sidecar's egress hosts do not import is not one of the route's services (httproute.go servicesByName)", () => {
    const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: payments}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: alias, namespace: default}
spec:
  hosts: [b.example.com]
  http: [{route: [{destination: {host: a.example.com}}]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: own, namespace: default}
spec:
  egress: [{hosts: ["./*"]}]
`;
    const e = ask(yaml, 'http://b.example.com/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
    expect(e.reason).toMatch(
      /VirtualService default\/alias \(mesh\) has a virtual host b\.example\.com on route 80, no service of the route having that host/,
    );
  });

  // Off port 80 such a host gets a virtual host only beside a service the VirtualService takes whose port there is
  // HTTP or sniffed (route.go buildSidecarVirtualHostsForVirtualService: serviceByPort keeps IsHTTPOrSniffed ports,
  // and only port 80 gets one without any).
  const yaml = (protocol: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 8080, name: p, protocol: ${protocol}}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: both, namespace: default}
spec:
  hosts: [a.example.com, c.example.com]
  http: [{route: [{destination: {host: a.example.com}}]}]
`;

  it('port 8080 beside an HTTP or sniffed service port: c.example.com is routed with it', () => {
    for (const protocol of ['HTTP', '""']) {
      const e = ask(yaml(protocol), 'http://c.example.com:8080/');
      expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||a.example.com' });
      expect(e.reason).toMatch(/VirtualService default\/both \(mesh\) has a virtual host c\.example\.com on route 8080/);
    }
  });

  it('port 8080 beside a TCP service port: no virtual host, the call meets the TCP chain', () => {
    const e = ask(yaml('TCP'), 'http://c.example.com:8080/');
    expect(e.reason).not.toMatch(/has a virtual host c\.example\.com/);
    expect(e.reason).toMatch(/VirtualService default\/both has no tcp route, and plain HTTP here took a TCP chain/);
  });
});

describe('a VirtualService for a host whose kept service has no HTTP port there builds no virtual host (httproute.go servicesByName, route.go IsHTTPOrSniffed)', () => {
  // frontend has no entry of a.example.com: it keeps other's, the older (sidecar.go selectServices), whose port 80
  // is TCP. With DNS capture that entry binds its auto-allocated address, so the call meets a tcp_proxy
  // (listener.go buildSidecarOutboundListener), which no http route reaches; payments' HTTP port plays no part.
  const yaml = `
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    defaultConfig: {proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: p, namespace: payments, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: h8080, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: o, namespace: other, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: tcp, protocol: TCP}, {number: 8080, name: h8080, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: frontend}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: a.example.com, port: {number: 8080}}}]}]
`;

  it('frontend: the call keeps the entry cluster, and the reason says why', () => {
    const e = ask(yaml, 'http://a.example.com/', 'frontend');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
    expect(e.path).toEqual(['sidecar outbound|80||a.example.com']);
    // other's entry is the older, so its TCP port 80 decides the chain (push_context.go SortServicesByCreationTime).
    expect(e.reason).toMatch(/VirtualService frontend\/vs has no tcp route, and plain HTTP here took a TCP chain/);
  });

  it("payments keeps its own entry, whose HTTP port takes the VirtualService's route", () => {
    const e = ask(yaml, 'http://a.example.com/', 'payments');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||a.example.com' });
    expect(e.reason).not.toMatch(/has no virtual host/);
  });
});

describe('a DestinationRule is named in the reason only when it sets TLS or a subset on the call (cluster_traffic_policy.go)', () => {
  it('a connection pool alone: not named', () => {
    const e = ask(
      `${ENTRY_A}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: default}
spec:
  host: a.example.com
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 10}}}
`,
      'http://a.example.com/',
    );
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
    expect(e.reason).not.toMatch(/DestinationRule default\/dr/);
    expect(e.reason).not.toMatch(/bypasses the gateway/);
  });

  it('a subset no DestinationRule defines: no rule to name, no cluster (push_context.go destinationRule)', () => {
    const e = ask(
      `${ENTRY_A}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: a.example.com, subset: v1}}]}]
`,
      'http://a.example.com/',
    );
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|80|v1|a.example.com', signal: 'http-503' });
    expect(e.reason).not.toMatch(/undefined|applies for/);
    // The route's own destination is a service of the scope: it does not "join" it through the VirtualService.
    expect(e.reason).not.toMatch(/joins/);
  });

  it("a route away from a cluster istiod does not build: the TLS is set on the route's cluster, which is built", () => {
    // The unbuilt cluster (a DNS entry whose workloadSelector matches no Pod, cluster_builder.go) is not the one the
    // call takes: the VirtualService replaces the route, and b.example.com's cluster carries the DestinationRule's TLS.
    const e = ask(
      `${ENTRY_A}
  workloadSelector: {labels: {app: nothing}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: b.example.com}}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: default}
spec:
  host: b.example.com
  trafficPolicy: {tls: {mode: SIMPLE}}
`,
      'http://a.example.com/',
    );
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||b.example.com' });
    expect(e.path).toEqual(['sidecar outbound|80||b.example.com tls:SIMPLE']);
    expect(e.reason).toMatch(/DestinationRule default\/dr applies for default/);
    expect(e.reason).not.toMatch(/not built: no TLS/);
  });
});

describe("a VirtualService's destination joins the scope only from the proxy's own namespace or a visible one (sidecar.go collectImportedServices)", () => {
  it("a host exported to payments only: the Sidecar's scope has no cluster for it, the router's 503", () => {
    // pickFirstVisibleNamespace finds no namespace visible to default: the host is not added, no cluster is built.
    const e = ask(
      `${ENTRY_A}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: hidden, namespace: payments}
spec:
  hosts: [hidden.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  exportTo: [payments]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: hidden.example.com}}]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: own, namespace: default}
spec:
  egress: [{hosts: ["*/*"]}]
`,
      'http://a.example.com/',
    );
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|80||hidden.example.com', signal: 'http-503' });
    expect(e.reason).not.toMatch(/joins/);
  });

  // serviceEntryVisibility NONE hides every entry from the sidecars; the entry of the proxy's own namespace is
  // still taken as the VirtualService's destination (byNamespace[configNamespace], no visibility check), but only
  // for a port that gets a cluster: cluster_builder.go buildOutboundClusters skips UDP ports.
  const hidden = () => {
    const r = load(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: unrelated, namespace: default}
spec:
  hosts: [other.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend}
spec:
  hosts: [db.example.org]
  ports: [{number: 80, name: http-80, protocol: HTTP}, {number: 8080, name: udp-8080, protocol: UDP}]
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes, namespace: payments}
spec:
  hosts: [db.example.org]
  http:
  - match: [{uri: {prefix: /udp}}]
    route: [{destination: {host: db.example.org, port: {number: 8080}}}]
  - route: [{destination: {host: db.example.org, port: {number: 80}}}]
`);
    r.mesh.meshConfig = { serviceEntryVisibility: { defaultVisibility: 'NONE', applyToSidecars: true } } as never;
    return r;
  };

  it('the own entry, whatever other entries exist, gets its TCP port', () => {
    const e = ask(hidden(), 'http://db.example.org/', 'frontend');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||db.example.org' });
    expect(e.reason).toMatch(/the entry of frontend itself, taken whatever its visibility/);
  });

  it('not its UDP port', () => {
    const e = ask(hidden(), 'http://db.example.org/udp', 'frontend');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|8080||db.example.org', signal: 'http-503' });
  });
});

describe('without a scope, a destination counts as missing only when no entry has its host', () => {
  it('b.example.com, declared by one entry of two, is reached', () => {
    const resources = load(`${ENTRY_A}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: b.example.com}}]}]
`);
    const probe = { from: { namespace: 'default' }, to: parseProbeUrl('http://a.example.com/', 'test') };
    const e = applyRouting(
      resources,
      probe,
      sidecarAnswer(resources, probe, { istioVersion: PINNED.controlPlane.istioVersion, policy: 'REGISTRY_ONLY' }),
    );
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||b.example.com' });
  });
});

describe("a mesh VirtualService's own virtual host for a host no service has (route.go separateVSHostsAndServices)", () => {
  const alias = (http: string) => `${ENTRY_A}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: alias, namespace: default}
spec:
  hosts: [b.example.com]
  http: ${http}
`;

  it('answers a direct response itself (route.go translateRoute: direct_response names no cluster)', () => {
    const e = ask(alias('[{directResponse: {status: 418}}]'), 'http://b.example.com/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: '(direct response)', signal: 'http-local' });
    expect(e.path).toEqual(['sidecar (direct response)']);
    expect(e.reason).toMatch(/VirtualService default\/alias \(mesh\) answers it itself: a direct response, HTTP 418/);
  });

  it('with a route the model does not read, a request none of its routes match is not called a 404', () => {
    // The mesh default exportTo `.` is not modelled (routing.ts): the model does not claim Envoy's 404 then, and
    // leaves the sidecar's answer (the catch-all's 502) as it is.
    const resources = load(alias('[{match: [{uri: {prefix: /api}}], route: [{destination: {host: a.example.com}}]}]'));
    resources.mesh.meshConfig.defaultVirtualServiceExportTo = ['.'];
    const e = ask(resources, 'http://b.example.com/other');
    expect(e.notModelled?.length).toBeGreaterThan(0);
    expect(e.signal).not.toBe('http-404');
    expect(e.cluster).toBe('BlackHoleCluster');
  });
});

describe("the gateway's view of an entry of its own namespace that its exportTo keeps elsewhere (corpus s107-8#7)", () => {
  // As corpus-findings.test.ts pins it on the real istiod's answer: alone, such an entry still gets its gateway
  // cluster (the gateway takes istio-system's default sidecar scope, sidecar.go collectImportedServices). An entry
  // of another host elsewhere is no rival for x.wild.example.com and changes nothing.
  const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: unrelated, namespace: frontend}
spec:
  hosts: [other.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: istio-system}
spec:
  hosts: [x.wild.example.com]
  ports: [{number: 443, name: p443, protocol: HTTP}]
  resolution: STATIC
  addresses: [198.51.100.0/24]
  exportTo: [default]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway-1, namespace: frontend}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [x.wild.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-1, namespace: frontend}
spec:
  hosts: [x.wild.example.com]
  gateways: [istio-egressgateway-1, mesh]
  http:
  - match: [{gateways: [mesh], port: 443}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [istio-egressgateway-1], port: 80}]
    route: [{destination: {host: x.wild.example.com, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-1, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: edition}]
`;

  it('the gateway has outbound|443||x.wild.example.com', () => {
    const GW = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';
    const e = ask(yaml, 'http://x.wild.example.com:443/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: GW });
    expect(e.path).toEqual([`sidecar ${GW}`, 'istio-system/istio-egressgateway outbound|443||x.wild.example.com']);
  });
});

describe("a VirtualService host's own virtual host takes only plain HTTP of the wildcard listener (httproute.go: an RDS route of the HTTP chain)", () => {
  const yaml = `${ENTRY_A}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: alias, namespace: default}
spec:
  hosts: [b.example.com]
  http: [{route: [{destination: {host: a.example.com}}]}]
`;

  it('HTTP is routed by it; TLS and other bytes meet no HTTP route and pass through (ALLOW_ANY)', () => {
    expect(ask(yaml, 'http://b.example.com/', 'default', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||a.example.com',
    });
    for (const url of ['tcp://b.example.com:80', 'https://b.example.com:80/']) {
      const e = ask(yaml, url, 'default', 'ALLOW_ANY');
      expect(e).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster' });
      expect(e.reason).not.toMatch(/VirtualService default\/alias/);
    }
  });

  it("a less specific wildcard domain does not take a service's exact alternative name (Envoy: exact domain first)", () => {
    // web.default is a domain of web.default.svc.cluster.local's virtual host (httproute.go GenerateAltVirtualHosts);
    // `*.default` overlaps no service (host.Name.Matches), so the VirtualService builds its own virtual host for it
    // (route.go separateVSHostsAndServices), which takes only the names no virtual host has exactly.
    const wide = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: default}
spec:
  hosts: [web.default.svc.cluster.local]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: default}
spec:
  hosts: [api.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wide, namespace: default}
spec:
  hosts: ["*.default"]
  http: [{route: [{destination: {host: api.example.com}}]}]
`;
    const e = ask(wide, 'http://web.default/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||web.default.svc.cluster.local' });
    expect(e.reason).not.toMatch(/VirtualService default\/wide/);
    const other = ask(wide, 'http://other.default/');
    expect(other).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||api.example.com' });
    expect(other.reason).toMatch(/VirtualService default\/wide \(mesh\) has a virtual host \*\.default on route 80/);
  });
});

describe("a CIDR entry's prefix chain is a TCP chain (listener.go buildSidecarOutboundListener: outboundListenerOpts.cidr)", () => {
  const yaml = (routes: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  addresses: [198.51.100.0/24]
  ports: [{number: 80, name: tcp, protocol: TCP}, {number: 8080, name: tcp2, protocol: TCP}]
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
${routes}`;

  it('TLS into the range takes the tcp route (tcp.go buildSidecarOutboundTCPFilterChainOpts: no tls route, the tcp one)', () => {
    const e = ask(yaml('  tcp: [{route: [{destination: {host: a.example.com, port: {number: 8080}}}]}]'), 'https://198.51.100.7:80/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||a.example.com' });
    expect(e.reason).toMatch(/VirtualService default\/vs \(mesh\) routes it to outbound\|8080\|\|a\.example\.com/);
  });

  it('plain HTTP into the range meets no http route', () => {
    const e = ask(yaml('  http: [{route: [{destination: {host: a.example.com, port: {number: 8080}}}]}]'), 'http://198.51.100.7/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
    expect(e.reason).toMatch(/VirtualService default\/vs has no tcp route, and plain HTTP here took a TCP chain/);
  });
});

describe("the route's service of a host two other namespaces declare is the older one (sidecar.go selectServices, creation order)", () => {
  it("other's HTTP port 8080, not payments' later TCP one, gives the VirtualService's other host a virtual host on route 8080", () => {
    // payments' entry is listed first but created later; the proxy of default keeps other's (route.go
    // buildSidecarVirtualHostsForVirtualService: serviceByPort holds only IsHTTPOrSniffed ports off port 80).
    const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: p, namespace: payments, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  hosts: [s.example.com]
  ports: [{number: 8080, name: tcp, protocol: TCP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: o, namespace: other, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  hosts: [s.example.com]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: both, namespace: default}
spec:
  hosts: [s.example.com, c.example.com]
  http: [{route: [{destination: {host: s.example.com}}]}]
`;
    const e = ask(yaml, 'http://c.example.com:8080/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||s.example.com' });
    expect(e.reason).toMatch(/VirtualService default\/both \(mesh\) has a virtual host c\.example\.com on route 8080/);
  });
});
