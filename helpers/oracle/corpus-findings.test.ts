// Rules the corpus of real istiod answers (fixtures/corpus/<build>/) showed the model getting wrong, each
// read in the pinned source (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad) and pinned by the corpus
// probe that found it.
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import type { ProbeSource } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const V = PINNED.controlPlane.istioVersion;

describe("a DNS entry's workloadSelector selects the Pods of its namespace, the install's gateway among them", () => {
  // pilot/pkg/serviceregistry/serviceentry/conversion.go: with a selector, the entry's instances are
  // workloadsByNamespace.Fetch(cfg.Namespace, krt.FilterLabel(selector labels)): every workload of its
  // namespace whose labels hold the selector's, so `labels: {}` takes them all; without instances
  // cluster_builder.go skips the DNS cluster.
  const entry = (ns: string, selector: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: ${ns}}
spec:
  hosts: [db.example.org]
  ports: [{number: 9000, name: p9000}]
  resolution: DNS_ROUND_ROBIN
  exportTo: ["*"]
  workloadSelector: {labels: ${selector}}
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (r: ReturnType<typeof entry>, workloads: ProbeSource[] = []) =>
    expectProbe(
      r,
      { from: { namespace: 'frontend', labels: { app: 'other' } }, to: parseProbeUrl('http://db.example.org:9000/') },
      { istioVersion: V, policy: 'ALLOW_ANY', workloads },
    );

  it('in istio-system, an empty selector takes the egress gateway Pod: the cluster is built (corpus master-2026-08-27 s10-6#1-5)', () => {
    expect(ask(entry('istio-system', '{}'))).toMatchObject({ verdict: 'allowed', cluster: 'outbound|9000||db.example.org' });
    // A selector the gateway's labels do not hold still leaves the entry without endpoints.
    expect(ask(entry('istio-system', '{app: db}'))).toMatchObject({ verdict: 'blocked', rule: 'se.dns-cluster-not-built' });
  });

  it("elsewhere the lane's Pods decide: the plain client of default, a selector's own Pod (s6-4#0-2, s15-1#1-4)", () => {
    expect(ask(entry('default', '{}'))).toMatchObject({ verdict: 'blocked', rule: 'se.dns-cluster-not-built' });
    expect(ask(entry('default', '{}'), [{ namespace: 'default' }])).toMatchObject({ verdict: 'allowed' });
    expect(ask(entry('default', '{app: db}'), [{ namespace: 'default' }])).toMatchObject({ verdict: 'blocked' });
    expect(ask(entry('default', '{app: db}'), [{ namespace: 'default', labels: { app: 'db' } }])).toMatchObject({ verdict: 'allowed' });
  });
});

describe('a resolution-NONE entry without addresses and with a workloadSelector, even an empty one', () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners: a Passthrough service without an
  // address falls back to the wildcard listener of a TCP port only when it has no instances and
  // `service.Attributes.LabelSelectors == nil`; serviceentry/conversion.go sets LabelSelectors from any
  // workloadSelector, `labels: {}` included. Otherwise each instance (a selected Pod) gets a listener of its
  // own address, which no probe dials.
  const entry = (selector: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec:
  hosts: ["*.example.com"]
  ports: [{number: 9000, name: tcp-9000, protocol: TCP}]
  resolution: NONE
  exportTo: [".", frontend]
  location: MESH_EXTERNAL
${selector}`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (r: ReturnType<typeof entry>) =>
    expectProbe(
      r,
      { from: { namespace: 'frontend', labels: { app: 'curl' } }, to: parseProbeUrl('tcp://w.example.com:9000') },
      { istioVersion: V, policy: 'ALLOW_ANY', workloads: [{ namespace: 'payments' }] },
    );

  it('binds no wildcard listener: the call finds no listener (corpus master-2026-08-27 s3-7#0-1, s4-7#1-2)', () => {
    expect(ask(entry('  workloadSelector: {labels: {}}'))).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
      listener: 'virtualOutbound',
    });
    // Without a selector the entry has no instances and no LabelSelectors: the wildcard listener is built.
    expect(ask(entry(''))).toMatchObject({ verdict: 'allowed', cluster: 'outbound|9000||*.example.com', listener: '0.0.0.0_9000' });
  });
});

describe("a Sidecar's egressProxy the sidecar has no cluster for", () => {
  // httproute.go buildCatchAllVirtualHost: under ALLOW_ANY with an egressProxy, a port's HTTP route ends in
  // the allow_any virtual host naming the proxy's cluster; with no such cluster Envoy's router answers 503
  // (NC), where virtualOutbound's tcp_proxy closes the connection. Found by fuzzing (seed 7 path 24, probe 5).
  const r = loadYamlText(
    `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec: {hosts: [db.example.org], ports: [{number: 9000, name: grpc-9000, protocol: GRPC}], resolution: NONE, addresses: [198.51.0.0/16]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: frontend}
spec: {outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: a.example.com, port: {number: 443}}}}
`,
    'egress-proxy.yaml',
    emptyResources(),
  );
  const ask = (to: string) =>
    expectProbe(r, { from: { namespace: 'frontend' }, to: parseProbeUrl(to) }, { istioVersion: V, policy: 'ALLOW_ANY' });

  it("fails a request on a port's HTTP route with a 503, a connection without a listener with a close", () => {
    expect(ask('http://203.0.113.9:9000/')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|443||a.example.com',
      listener: '0.0.0.0_9000',
      signal: 'http-503',
      rule: 'sidecar.egress-proxy-missing',
    });
    expect(ask('tcp://203.0.113.9:7000')).toMatchObject({ verdict: 'blocked', listener: 'virtualOutbound', signal: 'tcp-close' });
  });
});

describe('a wildcard DYNAMIC_DNS entry gets an auto-allocated address like any other host', () => {
  // pilot/pkg/controllers/ipallocate/ipallocate.go keepHost: wildcard hosts are kept for allocation when the
  // resolution is DYNAMIC_DNS (istio/istio#57658, in both pinned builds); serviceentry/conversion.go
  // convertServices sets the host's AutoAllocatedIPv4Address from the entry's status, and a sidecar capturing
  // DNS binds a TLS port to it (listener.go buildSidecarOutboundListener via GetAddressForProxy; tls.go keeps
  // the SNI match for such a per-VIP listener), not to 0.0.0.0. The sidecar's DNS proxy answers a name under the
  // wildcard with that address (pkg/dns/client/dns.go lookupHost walks "*." + each parent domain), so such a
  // name reaches the entry; a call dialling another name's real address finds no listener on the port.
  const entry = (mesh: string) =>
    loadYamlText(
      `${mesh}
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: payments}
spec:
  hosts: ["*.example.com"]
  ports: [{number: 8080, name: tls-8080, protocol: TLS}]
  resolution: DYNAMIC_DNS
`,
      'se.yaml',
      emptyResources(),
    );
  const capture = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    defaultConfig:
      proxyMetadata:
        ISTIO_META_DNS_CAPTURE: "true"
---`;
  const ask = (r: ReturnType<typeof entry>, url = 'https://w.example.com:8080/') =>
    expectProbe(r, { from: { namespace: 'payments' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it('under DNS capture the TLS port leaves 0.0.0.0 for the allocated address, which names under the wildcard resolve to (fixtures/rules/dns-capture-wildcard.yaml; corpus master-2026-08-27 s33-0, s52-10, s57-1 before the lane looked wildcards up)', () => {
    expect(ask(entry(capture))).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|8080||*.example.com',
      listener: '240.240.1.1_8080',
    });
    expect(ask(entry(capture), 'https://w.example.org:8080/')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: 'virtualOutbound',
    });
    // Without DNS capture the sidecar does not use the address: the SNI chain on 0.0.0.0_8080 takes the call.
    expect(ask(entry(''))).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||*.example.com', listener: '0.0.0.0_8080' });
  });
});

describe('an unset-protocol port with a CIDR address, processed after an HTTP service on the same port', () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListener: a CIDR binds 0.0.0.0_<port> with a prefix
  // match, the same listener key an HTTP service's port takes; the HTTP service left that entry Unsupported, and
  // an Auto (sniffed) port meeting an Unsupported entry exits early, so the CIDR chain is never built (both pinned
  // builds). Services come in creation order, then host name (push_context.go SortServicesByCreationTime).
  const entries = (httpHost: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: ["${httpHost}"]
  ports: [{number: 5432, name: grpc-web-5432, protocol: GRPC-WEB}]
  resolution: NONE
  addresses: [192.0.2.0/28]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec:
  hosts: [api.example.net]
  ports: [{number: 5432, name: port-5432}]
  resolution: NONE
  addresses: [198.51.100.0/24]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (r: ReturnType<typeof entries>) =>
    expectProbe(
      r,
      { from: { namespace: 'frontend' }, to: parseProbeUrl('http://198.51.100.5:5432/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );

  it('loses its prefix chain: the request meets the route (corpus master-2026-08-27 s48-14#1,#3,#6, s6-7#0; master-2026-04-23 s6-15#0-2)', () => {
    expect(ask(entries('*.example.org'))).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: '0.0.0.0_5432',
      signal: 'http-502',
    });
    // Processed first (its host sorts before the HTTP one), the sniffed entry keeps its chain.
    expect(ask(entries('z.example.org'))).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||api.example.net',
      listener: '0.0.0.0_5432',
    });
  });
});

describe('a cluster istiod does not build, named by an HTTP route', () => {
  // Listeners and routes name the cluster while cluster_builder.go skips it (here a DNS entry whose selector
  // matches no Pod: no endpoints). On a port's HTTP route Envoy's router answers 503 (no cluster); a tcp_proxy
  // chain closes the connection instead.
  const entry = (protocol: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 9000, name: p9000, protocol: ${protocol}}]
  resolution: DNS
  workloadSelector: {labels: {app: db}}
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (protocol: string, to: string) =>
    expectProbe(entry(protocol), { from: { namespace: 'frontend' }, to: parseProbeUrl(to) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it('fails a request with a 503, a TCP connection with a close (corpus master-2026-08-27 s40-12#0; master-2026-04-23 s1-8#0,#2)', () => {
    expect(ask('HTTP', 'http://db.example.org:9000/')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|9000||db.example.org',
      listener: '0.0.0.0_9000',
      signal: 'http-503',
      rule: 'se.dns-cluster-not-built',
    });
    expect(ask('TCP', 'tcp://db.example.org:9000')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|9000||db.example.org',
      signal: 'tcp-close',
    });
  });
});

describe('an unset-protocol port with an IP address still has a virtual host on the shared route of its port', () => {
  // listener.go: the sniffed port binds <address>_<port> of its own (its HTTP chain uses route "<host>:<port>"), but
  // route "<port>", the one the HTTP chain of 0.0.0.0_<port> uses, is built from every service of the egress
  // listener with that port whose protocol is HTTP or sniffed (httproute.go BuildSidecarOutboundVirtualHosts,
  // route/route.go BuildSidecarVirtualHostWrapper). A request dialling the host's real address reaches
  // 0.0.0.0_<port> through another service's HTTP chain and is routed to it by Host.
  const r = loadYamlText(
    `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend}
spec: {hosts: [api.example.net], ports: [{number: 80, name: p80}], resolution: DNS, addresses: [192.0.2.10], endpoints: [{address: 10.1.2.3}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: h, namespace: frontend}
spec: {hosts: [b.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
`,
    'se.yaml',
    emptyResources(),
  );
  const ask = (to: string) =>
    expectProbe(r, { from: { namespace: 'frontend' }, to: parseProbeUrl(to) }, { istioVersion: V, policy: 'ALLOW_ANY' });

  it('routes a request for its host on 0.0.0.0_<port> (corpus master-2026-08-27 s38-1#2)', () => {
    expect(ask('http://api.example.net:80/')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||api.example.net',
      listener: '0.0.0.0_80',
    });
    // Its own address still has a listener of its own.
    expect(ask('tcp://192.0.2.10:80')).toMatchObject({ cluster: 'outbound|80||api.example.net', listener: '192.0.2.10_80' });
  });
});

describe('a destination inside a TLS-only CIDR chain, on a port that has a match-all TCP chain', () => {
  // Envoy narrows filter chains by destination prefix before SNI and does not backtrack, so a call in the CIDR
  // without one of its SNIs takes the listener's default filter chain; listener.go buildListenerFromEntry makes a
  // match-all chain (here a TCP entry without addresses) that default chain, and only without one is it the
  // policy's PassthroughFilterChain.
  const entries = (withTcp: boolean) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec: {hosts: [db.example.org], ports: [{number: 443, name: tls-443, protocol: TLS}], resolution: NONE, addresses: [192.0.2.0/24]}
${
  withTcp
    ? `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: istio-system}
spec: {hosts: [x.wild.example.com], ports: [{number: 443, name: redis-443, protocol: REDIS}], resolution: DNS_ROUND_ROBIN, endpoints: [{address: 10.1.2.3}]}`
    : ''
}`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (withTcp: boolean) =>
    expectProbe(
      entries(withTcp),
      { from: { namespace: 'default' }, to: parseProbeUrl('https://192.0.2.5:443/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );

  it('takes the match-all TCP chain (corpus master-2026-08-27 s41-12#0)', () => {
    expect(ask(true)).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||x.wild.example.com', listener: '0.0.0.0_443' });
    expect(ask(false)).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', listener: '0.0.0.0_443' });
  });
});

describe('a Sidecar imports and excludes the services of an entry one host at a time', () => {
  // serviceentry/conversion.go convertServices makes one service per host; sidecar.go selectServices tests each
  // service's Hostname against the egress hosts (hostClassification.Matches, and Excluded for "~" hosts), so an
  // entry's other hosts keep their chains when one host is excluded or not named.
  const entries = (egressHosts: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec: {hosts: [a.example.com, db.example.org], ports: [{number: 5432, name: https-5432, protocol: HTTPS}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: frontend}
spec: {egress: [{hosts: ${egressHosts}}]}
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (egressHosts: string, to: string) =>
    expectProbe(
      entries(egressHosts),
      { from: { namespace: 'frontend' }, to: parseProbeUrl(to) },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );

  it('"~/a.example.com" drops only a.example.com (corpus master-2026-08-27 s44-10#3)', () => {
    const hosts = '["~/a.example.com", "*/*"]';
    expect(ask(hosts, 'https://db.example.org:5432/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.org' });
    expect(ask(hosts, 'https://a.example.com:5432/')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: '0.0.0.0_5432',
    });
  });

  it('"*/db.example.org" imports only db.example.org', () => {
    const hosts = '["*/db.example.org"]';
    expect(ask(hosts, 'https://db.example.org:5432/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.org' });
    expect(ask(hosts, 'https://a.example.com:5432/')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: '0.0.0.0_5432',
    });
  });
});

describe('clusters keep the namespace an earlier egress listener imported a host from', () => {
  // sidecar.go collectImportedServices appends each egress listener's services in the Sidecar's order and
  // appendSidecarServices keeps the first namespace of a host (services of two namespaces never merge);
  // clusters are built from that list (SidecarScope.Services()). Listeners and routes of the port-less egress
  // listener still use its own pick (selectServices), so its route names a cluster the sidecar lacks.
  const r = (egress: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec: {hosts: [db.example.org], ports: [{number: 5432, name: https-5432, protocol: HTTPS}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec: {hosts: [db.example.org], ports: [{number: 9000, name: grpc-9000, protocol: GRPC}], resolution: DNS, endpoints: [{address: 192.0.2.50}], exportTo: [frontend]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: frontend}
spec: {egress: ${egress}}
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (egress: string) =>
    expectProbe(
      r(egress),
      { from: { namespace: 'frontend' }, to: parseProbeUrl('http://db.example.org:9000/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );

  it("a port listener importing default's host first leaves payments' port 9000 without a cluster (corpus master-2026-08-27 s44-10#2)", () => {
    expect(ask('[{port: {number: 5432, name: tls, protocol: TLS}, hosts: ["default/*"]}, {hosts: ["*/*"]}]')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|9000||db.example.org',
      listener: '0.0.0.0_9000',
      signal: 'http-503',
      rule: 'hosts.one-per-name',
    });
    // With the port-less listener alone, the entry exported to frontend by name comes first and keeps its cluster.
    expect(ask('[{hosts: ["*/*"]}]')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|9000||db.example.org' });
  });
});

describe('a Sidecar egress listener with a port that imports nothing on that port', () => {
  // listener.go buildSidecarOutboundListeners: the port-less egress listener builds every port of its services and
  // skips only the listener entries the listeners with ports made before it (locked); one that imports no service
  // with its port makes none. The port's route is still the one of the listener with the port
  // (sidecar.go GetEgressListenerForRDS), whose services give it no virtual host.
  const r = (portHosts: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend}
spec: {hosts: [api.example.net], ports: [{number: 5432, name: p5432, protocol: GRPC}], resolution: NONE}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: frontend}
spec: {egress: [{port: {number: 5432, name: egress-5432, protocol: TCP}, hosts: ${portHosts}}, {hosts: ["*/*"]}]}
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (portHosts: string) =>
    expectProbe(
      r(portHosts),
      { from: { namespace: 'frontend' }, to: parseProbeUrl('http://api.example.net:5432/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );

  it('leaves the port to the port-less listener, whose HTTP chain meets a route without the entry (corpus master-2026-08-27 s14-9#1)', () => {
    expect(ask('["*/*.example.com"]')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: '0.0.0.0_5432',
      signal: 'http-502',
    });
    // Importing the entry on its port, that listener builds (and locks) the port itself, as TCP.
    expect(ask('["*/*"]')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||api.example.net', listener: '0.0.0.0_5432' });
  });
});

describe("plain HTTP to one of an entry's several addresses", () => {
  // Left listed in known-disagreements.json (e.g. master-2026-08-27 s24-7#1, s35-7#0, s57-7#1): conversion.go
  // convertServices makes one service per host and address, and httproute.go BuildSidecarOutboundVirtualHosts keeps
  // one service per host name (servicesByName), in krt collection order (a Go map's): which address becomes a
  // domain of the virtual host is arbitrary. The model routes every address and says so.
  const r = loadYamlText(
    `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec: {hosts: [x.wild.example.com], ports: [{number: 80, name: grpc-80, protocol: GRPC}], resolution: STATIC, addresses: [198.51.100.7, 192.0.2.10], endpoints: [{address: 192.0.2.50}]}
`,
    'se.yaml',
    emptyResources(),
  );
  it('names the choice arbitrary in its reason', () => {
    const a = expectProbe(
      r,
      { from: { namespace: 'default' }, to: parseProbeUrl('http://198.51.100.7:80/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );
    expect(a).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||x.wild.example.com', rule: 'se.http-route-address' });
    expect(a.reason).toMatch(/one of 2 addresses; istiod keeps one per host, which one is arbitrary/);
  });
});

describe('a route through the egress gateway needs a cluster on both proxies', () => {
  // Clusters are built for the non-UDP ports of the services in a proxy's scope (cluster_builder.go
  // buildOutboundClusters over SidecarScope.Services()); a gateway's scope is the services exported to its
  // namespace (sidecar.go DefaultSidecarScopeForGateway, push_context.go servicesExportedToNamespace), and a
  // sidecar's the services exported to its own. A route naming a cluster the proxy lacks gets Envoy's 503 (NC).
  const scenario = (entry: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec:
  hosts: [db.example.org]
  ${entry}
  resolution: DNS
  endpoints: [{address: 10.1.2.3}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [db.example.org]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway, namespace: frontend}
spec:
  hosts: [db.example.org]
  gateways: [istio-system/egress, mesh]
  http:
  - match: [{gateways: [mesh], port: 9000}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [istio-system/egress], port: 80}]
    route: [{destination: {host: db.example.org, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: edition}]
`,
      'gateway.yaml',
      emptyResources(),
    );
  const GW = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';
  const ask = (r: ReturnType<typeof scenario>) =>
    expectProbe(
      r,
      { from: { namespace: 'frontend' }, to: parseProbeUrl('http://db.example.org:9000/') },
      { istioVersion: V, policy: 'ALLOW_ANY', workloads: [{ namespace: 'frontend' }] },
    );
  const gatewayCluster = (e: ReturnType<typeof ask>) => e.hops?.find((h) => h.kind === 'gateway')?.cluster;

  it('the gateway has no cluster for a port the entry lacks (corpus master-2026-08-27 s125-11#0, s116-2#3, s81-6#1)', () => {
    const lacks = ask(scenario('ports: [{number: 9000, name: http-9000, protocol: HTTP}]'));
    expect(lacks).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-503' });
    expect(gatewayCluster(lacks)).toBe('outbound|443||db.example.org');
    const has = ask(scenario('ports: [{number: 9000, name: http-9000, protocol: HTTP}, {number: 443, name: https, protocol: HTTPS}]'));
    expect(has).toMatchObject({ verdict: 'allowed', cluster: GW });
  });

  it('nor for an entry not exported to istio-system (s119-12#7, s68-3#0)', () => {
    const ports = 'ports: [{number: 9000, name: http-9000, protocol: HTTP}, {number: 443, name: https, protocol: HTTPS}]';
    const hidden = ask(scenario(`${ports}\n  exportTo: [payments, frontend]`));
    expect(hidden).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-503' });
    expect(gatewayCluster(hidden)).toBe('outbound|443||db.example.org');
  });

  it("a sidecar the gateway's Service is not exported to has no cluster for it, subset or not (s89-7#0, s140-13#9)", () => {
    const r = scenario('ports: [{number: 9000, name: http-9000, protocol: HTTP}, {number: 443, name: https, protocol: HTTPS}]');
    r.mesh.defaultServiceExportTo = ['.'];
    // The entry itself is then private to payments: make it public so that only the gateway's Service is hidden.
    for (const se of r.serviceEntries) se.exportTo = ['*'];
    const e = ask(r);
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-503' });
    expect(gatewayCluster(e)).toBeUndefined();
  });
});

describe("a sidecar's VirtualService route to a port its service lacks, and which VirtualService a host takes", () => {
  const scenario = (vs: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: frontend}
spec:
  hosts: [b.example.com]
  ports: [{number: 5432, name: http2-5432, protocol: HTTP2}]
  resolution: NONE
  addresses: [198.51.0.0/16]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: originate, namespace: frontend}
spec:
  host: b.example.com
  trafficPolicy: {tls: {mode: SIMPLE}}
${vs}`,
      'vs.yaml',
      emptyResources(),
    );
  const toTls = (exportTo: string) => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-tls-port, namespace: frontend}
spec:
  hosts: [b.example.com]
  http: [{match: [{port: 5432}], route: [{destination: {host: b.example.com, port: {number: 443}}}]}]
  exportTo: ${exportTo}
`;
  const catchAll = (extra = '') => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes, namespace: frontend}
spec:
  hosts: [b.example.com]
  http: [{${extra}route: [{destination: {host: b.example.com}}]}]
`;
  const ask = (r: ReturnType<typeof scenario>) =>
    expectProbe(
      r,
      { from: { namespace: 'frontend' }, to: parseProbeUrl('http://b.example.com:5432/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );

  it('names a cluster the sidecar does not build: 503, and no TLS is originated on it (corpus master-2026-08-27 s84-4#1, s68-12#1)', () => {
    // cluster_builder.go buildOutboundClusters: one cluster per non-UDP port of each service in scope; the route
    // still names outbound|443||b.example.com (route.go GetDestinationCluster).
    const e = ask(scenario(toTls('["*"]')));
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|443||b.example.com', signal: 'http-503' });
    expect(e.hops?.[0]?.tls).toBeUndefined();
  });

  it("takes its own namespace's private VirtualService before a public one created earlier (s91-7#3)", () => {
    // model/virtualservice.go SelectVirtualServices: private, then exported by name, then public; httproute.go
    // keeps the first virtual host of a domain.
    expect(ask(scenario(`${catchAll()}${toTls('["."]')}`))).toMatchObject({ verdict: 'blocked', cluster: 'outbound|443||b.example.com' });
    expect(ask(scenario(`${catchAll()}${toTls('["*"]')}`))).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||b.example.com' });
  });

  it('skips a VirtualService with no HTTP route for the port: it builds no virtual host (s89-10#4)', () => {
    // route.go buildSidecarVirtualHostsForVirtualService returns nothing when no route survives the port match.
    const other = catchAll('match: [{port: 9000}], ');
    expect(ask(scenario(`${other}${toTls('["*"]')}`))).toMatchObject({ verdict: 'blocked', cluster: 'outbound|443||b.example.com' });
  });
});

describe("under DNS capture, a resolution-NONE entry's hosts resolve to the Pods it selects", () => {
  // pkg/dns/server/name_table.go BuildNameTable: a headless Passthrough service with ports lists its instances'
  // addresses (the Pods its workloadSelector matches in its namespace, serviceentry/conversion.go), and
  // listener.go buildSidecarOutboundListeners binds its non-HTTP ports to each instance address, except the
  // listening workload's own. Names under a wildcard host resolve the same way (pkg/dns/client/dns.go lookupHost).
  const entry = (capture: boolean) => {
    const r = loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec:
  hosts: [db.example.org, "*.example.com"]
  ports: [{number: 5432, name: p5432}]
  resolution: NONE
  workloadSelector: {labels: {app: curl}}
`,
      'se.yaml',
      emptyResources(),
    );
    r.mesh.dnsCapture = capture;
    return r;
  };
  const selected = { namespace: 'payments', labels: { app: 'curl' } };
  const ask = (capture: boolean, from: ProbeSource, url: string) =>
    expectProbe(entry(capture), { from, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY', workloads: [selected] });

  it('a TCP call dials a selected Pod and takes the listener on its address (corpus master-2026-08-27 s88-4#0, s63-2#6, s98-10#5)', () => {
    const e = ask(true, { namespace: 'frontend' }, 'tcp://w.example.com:5432');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||*.example.com' });
    expect(e.listener).toMatch(/^10\.244\.0\.\d+_5432$/);
    // Without DNS capture the name resolves elsewhere: no listener on 5432 for it.
    expect(ask(false, { namespace: 'frontend' }, 'tcp://w.example.com:5432')).toMatchObject({
      verdict: 'blocked',
      listener: 'virtualOutbound',
    });
  });

  it('the selected Pod itself has no listener on its own address (s63-2#2, s63-2#7)', () => {
    expect(ask(true, selected, 'tcp://w.example.com:5432')).toMatchObject({ verdict: 'blocked', listener: 'virtualOutbound' });
  });
});

describe('two entries of one namespace declare a host and a port: the later one decides the virtual host', () => {
  // httproute.go BuildSidecarOutboundVirtualHosts keeps one service per host name on route <port>, the last of the
  // egress listener's services with that port (servicesByName), which come in push_context.go order (exported to
  // the namespace by name before public ones, then creation time); route.go builds a virtual host only for an HTTP
  // or sniffed port. The older entry's HTTP2 port still opens the HTTP chain on 0.0.0.0_443.
  const entries = (laterProtocol: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: frontend, creationTimestamp: "2026-01-01T00:00:01Z"}
spec:
  hosts: [b.example.com]
  ports: [{number: 443, name: http2-443, protocol: HTTP2}]
  resolution: DNS
  exportTo: ["."]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: frontend, creationTimestamp: "2026-01-01T00:00:02Z"}
spec:
  hosts: [b.example.com]
  ports: [{number: 443, name: p443, protocol: ${laterProtocol}}]
  resolution: DNS
  endpoints: [{address: 10.1.2.3}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (laterProtocol: string) =>
    expectProbe(
      entries(laterProtocol),
      { from: { namespace: 'frontend' }, to: parseProbeUrl('http://b.example.com:443/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );

  it('an HTTPS port there leaves the host without a virtual host: the catch-all takes it (corpus master-2026-08-27 s139-0#0)', () => {
    expect(ask('HTTPS')).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster', listener: '0.0.0.0_443' });
    expect(ask('HTTP')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||b.example.com', listener: '0.0.0.0_443' });
  });
});

describe("a mesh VirtualService's tls routes replace a TLS port's chain on its address listener", () => {
  // tls.go buildSidecarOutboundTLSFilterChainOpts: each tls route match that fits the port and the mesh gateway
  // builds a chain matching its sniHosts, and with any such chain the service gets no chain of its own; a call
  // none matches (an IP literal carries no SNI) takes the listener's default chain, by policy.
  const scenario = (vs: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: istio-system}
spec:
  hosts: [api.example.net]
  ports: [{number: 5432, name: https-5432, protocol: HTTPS}]
  resolution: DNS
  addresses: [192.0.2.10]
  endpoints: [{address: 192.0.2.50}]
${vs}`,
      'se.yaml',
      emptyResources(),
    );
  const tlsRoute = (port: number) => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes, namespace: istio-system}
spec:
  hosts: [api.example.net]
  tls: [{match: [{port: ${port}, sniHosts: [api.example.net]}], route: [{destination: {host: api.example.net, port: {number: 5432}}}]}]
`;
  const ask = (vs: string, url: string) =>
    expectProbe(scenario(vs), { from: { namespace: 'frontend' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it('TLS to the address without SNI takes the default chain (corpus master-2026-08-27 s135-12#1, s123-14#3, s114-9#4)', () => {
    const e = ask(tlsRoute(5432), 'https://192.0.2.10:5432/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', listener: '192.0.2.10_5432' });
    expect(e.rules).toContain('listener.default-chain');
    // Without the route, or with one for another port, every connection to the address goes to the entry.
    expect(ask('', 'https://192.0.2.10:5432/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||api.example.net' });
    expect(ask(tlsRoute(443), 'https://192.0.2.10:5432/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||api.example.net' });
  });
});

describe("plain HTTP to an address two hosts of one entry share takes the VirtualService-routed host's virtual host", () => {
  // route.go BuildSidecarVirtualHostWrapper builds the virtual hosts of hosts a mesh VirtualService routes first,
  // the others after in map order; httproute.go dedupeDomains leaves a domain (here the shared address, from
  // generateVirtualHostDomains) with the first virtual host that claims it.
  const scenario = (vs: boolean) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: frontend}
spec:
  hosts: [b.example.com, db.example.org]
  ports: [{number: 443, name: http-443, protocol: HTTP}]
  resolution: DNS
  addresses: [198.51.100.7]
  endpoints: [{address: 10.1.2.3}]
${
  vs
    ? `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-db, namespace: default}
spec:
  hosts: [db.example.org]
  http: [{match: [{port: 443}], route: [{destination: {host: db.example.org, port: {number: 443}}}]}]
`
    : ''
}`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (vs: boolean) =>
    expectProbe(
      scenario(vs),
      { from: { namespace: 'payments' }, to: parseProbeUrl('http://198.51.100.7:443/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );

  it('the routed host wins the address (corpus master-2026-08-27 s107-2#4)', () => {
    expect(ask(true)).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||db.example.org' });
    // Without a VirtualService the order is a Go map's: the model keeps processing order.
    expect(ask(false)).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||b.example.com' });
  });
});

describe("on port 80 a mesh VirtualService routes a host no service of the sidecar's route has", () => {
  // httproute.go BuildSidecarOutboundVirtualHosts keeps VirtualServices for hosts outside the registry only on port
  // 80; route.go separateVSHostsAndServices gives such a host a virtual host of its own, while a host that names a
  // service of the route takes that service's virtual host, built only for an HTTP or sniffed port.
  const scenario = (entryPort: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [${entryPort}]
  resolution: DNS
  exportTo: ["."]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-b, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: b.example.com, port: {number: 80}}}]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (entryPort: string, from: string) =>
    expectProbe(
      scenario(entryPort),
      { from: { namespace: from }, to: parseProbeUrl('http://a.example.com:80/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );

  it('a host hidden from the namespace follows the VirtualService (corpus master-2026-08-27 s81-9#1)', () => {
    expect(ask('{number: 80, name: https, protocol: HTTPS}', 'frontend')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||b.example.com',
    });
    // Where the entry is visible with a non-HTTP port 80, the host has no virtual host: the catch-all (s101-3#6).
    expect(ask('{number: 80, name: https, protocol: HTTPS}', 'default')).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
    });
  });
});

describe("an own-namespace entry without ports keeps a host's route and clusters from another namespace's entry", () => {
  // sidecar.go selectServices and appendSidecarServices keep one namespace per host name, the workload's own
  // first, ports or not: route 80 has no service for the host (so a mesh VirtualService gives it a virtual host of
  // its own), and the sidecar has no cluster outbound|443 for it (cluster_builder.go buildOutboundClusters).
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: frontend}
spec:
  hosts: [api.example.net]
  resolution: DNS_ROUND_ROBIN
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: istio-system}
spec:
  hosts: [api.example.net]
  ports: [{number: 443, name: mongo-443, protocol: MONGO}, {number: 80, name: https-80, protocol: HTTPS}]
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-tls-port, namespace: payments}
spec:
  hosts: [api.example.net]
  http: [{match: [{port: 80}], route: [{destination: {host: api.example.net, port: {number: 443}}}]}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (from: string) =>
    expectProbe(
      r(),
      { from: { namespace: from }, to: parseProbeUrl('http://api.example.net:80/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );

  it('the route follows the VirtualService to a cluster the sidecar lacks: 503 (corpus master-2026-08-27 s140-6#8)', () => {
    expect(ask('frontend')).toMatchObject({ verdict: 'blocked', cluster: 'outbound|443||api.example.net', signal: 'http-503' });
    // In istio-system its own entry is the host's, and its HTTPS port 80 gives the host no virtual host.
    expect(ask('istio-system')).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster' });
  });
});

describe('a VirtualService applies by the protocol of the entry the sidecar keeps for the host', () => {
  // sidecar.go selectServices keeps the workload's own namespace's entry for a host: its HTTP port 443 builds the
  // virtual host a mesh VirtualService's http route replaces, whatever another namespace's entry declares there.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: istio-system}
spec:
  hosts: [api.example.net]
  ports: [{number: 443, name: redis-443, protocol: REDIS}]
  resolution: STATIC
  addresses: [192.0.2.10]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec:
  hosts: [api.example.net]
  ports: [{number: 443, name: http-443, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-b, namespace: payments}
spec:
  hosts: [api.example.net]
  http: [{route: [{destination: {host: b.example.com, port: {number: 80}}}]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: payments}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`,
      'se.yaml',
      emptyResources(),
    );
  it('the own namespace HTTP port lets the http route apply (corpus master-2026-08-27 s127-13#0)', () => {
    expect(
      expectProbe(
        r(),
        { from: { namespace: 'payments' }, to: parseProbeUrl('http://api.example.net:443/') },
        { istioVersion: V, policy: 'ALLOW_ANY' },
      ),
    ).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||b.example.com' });
  });
});

describe("under DNS capture a name several services declare resolves first to the first one's address", () => {
  // pkg/dns/server/name_table.go BuildNameTable appends the addresses of later services of one host name to the
  // first's, in the egress listener's order: services exported to the namespace by name before public ones
  // (push_context.go servicesExportedToNamespace), then creation time. The first address is the one dialled.
  const r = () => {
    const res = loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 9000, name: p9000, protocol: HTTP}]
  resolution: STATIC
  addresses: [198.51.100.7]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 9000, name: tls-9000, protocol: TLS}]
  resolution: NONE
  addresses: [192.0.2.10]
  exportTo: [frontend]
`,
      'se.yaml',
      emptyResources(),
    );
    res.mesh.dnsCapture = true;
    return res;
  };
  it('the entry exported to the namespace by name comes first (corpus master-2026-08-27 s82-11#11)', () => {
    expect(
      expectProbe(
        r(),
        { from: { namespace: 'frontend' }, to: parseProbeUrl('https://db.example.org:9000/') },
        { istioVersion: V, policy: 'REGISTRY_ONLY' },
      ),
    ).toMatchObject({ verdict: 'allowed', listener: '192.0.2.10_9000', cluster: 'outbound|9000||db.example.org' });
  });
});

describe('a VirtualService replaces a route to a cluster istiod does not build', () => {
  // The virtual host of an HTTP port exists whether or not the port's cluster is built (route.go builds it from the
  // service), so a mesh VirtualService's route takes the call to its own destination; here the later, unmergeable
  // entry's port 80 has no cluster (sidecar.go canMergeServices) but the route sends port 80 to 9000, which has one.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 80, name: grpc-web-80, protocol: GRPC-WEB}, {number: 9000, name: p9000, protocol: HTTP}]
  resolution: DNS_ROUND_ROBIN
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 9000, name: tls-9000, protocol: TLS}]
  resolution: NONE
  addresses: [192.0.2.10]
  exportTo: [frontend]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-9000, namespace: default}
spec:
  hosts: [db.example.org]
  http: [{match: [{port: 80}], route: [{destination: {host: db.example.org, port: {number: 9000}}}]}]
`,
      'se.yaml',
      emptyResources(),
    );
  it('the call follows the route (corpus master-2026-08-27 s82-11#0)', () => {
    const ask = (url: string) =>
      expectProbe(r(), { from: { namespace: 'frontend' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });
    expect(ask('http://db.example.org:80/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|9000||db.example.org' });
  });
});

describe("a sidecar's HTTP route to a destination without a port names the listener's port", () => {
  // route.go GetDestinationCluster takes the service's only port when the destination has none, but a sidecar's
  // HTTP routes look services up among the route's own (httproute.go servicesByName), each trimmed to the
  // listener's port: the port is always the listener's. Here db.example.org is hidden, so its port 9000 is unknown.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: payments}
spec:
  hosts: [db.example.org]
  ports: [{number: 9000, name: tls-9000, protocol: TLS}]
  resolution: NONE
  exportTo: ["~"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: p80, protocol: HTTP}]
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes, namespace: default}
spec:
  hosts: [b.example.com]
  http: [{match: [{uri: {prefix: /v2}}], route: [{destination: {host: db.example.org}}]}, {route: [{destination: {host: b.example.com}}]}]
`,
      'se.yaml',
      emptyResources(),
    );
  it('outbound|80||db.example.org, which the sidecar lacks: 503 (corpus master-2026-08-27 s114-8#11)', () => {
    expect(
      expectProbe(
        r(),
        { from: { namespace: 'frontend' }, to: parseProbeUrl('http://b.example.com:80/v2/x') },
        { istioVersion: V, policy: 'ALLOW_ANY' },
      ),
    ).toMatchObject({ verdict: 'blocked', cluster: 'outbound|80||db.example.org', signal: 'http-503' });
  });
});

describe("a plain HTTP request the egress gateway's HTTP server does not name gets the gateway's 404", () => {
  // pilot/pkg/networking/core/gateway.go createGatewayHTTPFilterChainOpts: a plain HTTP server's filter chain has
  // no SNI match (sniHosts nil), so the gateway's listener takes every plain-text request on the port, whatever its
  // Host; buildGatewayHTTPRouteConfig gives route http.80 virtual hosts for the servers' hosts only, and Envoy
  // answers a Host none of them names with 404 (NR), which the sidecar's router hands back.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: istio-system}
spec:
  hosts: [api.example.net]
  ports: [{number: 8080, name: p8080, protocol: HTTP}]
  resolution: STATIC
  addresses: [192.0.2.10]
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: default}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [api.example.net]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway, namespace: default}
spec:
  hosts: [api.example.net]
  gateways: [egress, mesh]
  http:
  - match: [{gateways: [mesh], port: 8080}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [egress], port: 80}]
    route: [{destination: {host: api.example.net, port: {number: 8080}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: edition}]
`,
      'gateway.yaml',
      emptyResources(),
    );
  const GW = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';
  const ask = (url: string) =>
    expectProbe(r(), { from: { namespace: 'default' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'ALLOW_ANY' });
  const hops = (e: ReturnType<typeof ask>) => e.hops?.map((h) => [h.kind, h.cluster]);

  it('an address as Host reaches the gateway, which has no virtual host for it (corpus master-2026-08-27 s107-8#5)', () => {
    const e = ask('http://192.0.2.10:8080/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-404', listener: '0.0.0.0_8080' });
    expect(hops(e)).toEqual([
      ['sidecar', GW],
      ['gateway', '(no route)'],
    ]);
    // The host the server names is routed on to the entry.
    const named = ask('http://api.example.net:8080/');
    expect(named).toMatchObject({ verdict: 'allowed', cluster: GW });
    expect(hops(named)).toEqual([
      ['sidecar', GW],
      ['gateway', 'outbound|8080||api.example.net'],
    ]);
  });
});

describe("a Sidecar egress listener's `bind: 0.0.0.0` keys every listener it builds on the wildcard", () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners copies an egress listener's bind into the
  // listener binding whatever it is, and buildSidecarOutboundListener looks for the service's own address (an IP,
  // an auto-allocated one, or a CIDR chain on the wildcard) only when that binding is empty: a TCP service is then
  // keyed 0.0.0.0_<port> like one without addresses. The same at both pinned builds (b01690e6db7d, eed52ebb66ad).
  // Exported to default by name, the MySQL entry comes before the install's gateway Service, whose HTTP2 port 80
  // would otherwise hold 0.0.0.0_80 first (a server-first protocol shares no port: isConflictWithWellKnownPort).
  const r = (bind: string) => {
    const res = loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: p80, protocol: MYSQL}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]
  exportTo: [default]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 5432, name: tcp-5432, protocol: TCP}]
  resolution: STATIC
  addresses: [198.51.100.7]
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: default}
spec:
  workloadSelector: {labels: {app: curl}}
  egress: [{${bind}hosts: ["*/*"]}]
`,
      'se.yaml',
      emptyResources(),
    );
    res.mesh.dnsCapture = true;
    return res;
  };
  const april = PINNED_BUILDS.find((b) => b.label === 'master-2026-04-23')!.istioVersion;
  const ask = (bind: string, url: string, istioVersion: string) =>
    expectProbe(
      r(bind),
      { from: { namespace: 'default', labels: { app: 'curl' } }, to: parseProbeUrl(url) },
      { istioVersion, policy: 'REGISTRY_ONLY' },
    );

  it('an auto-allocated entry is reached on 0.0.0.0_80, not on its own address (corpus master-2026-04-23 s5-7#1)', () => {
    for (const version of [april, V]) {
      expect(ask('bind: 0.0.0.0, ', 'tcp://b.example.com:80', version)).toMatchObject({
        verdict: 'allowed',
        cluster: 'outbound|80||b.example.com',
        listener: '0.0.0.0_80',
      });
      // Without the bind the auto-allocated address has its listener.
      expect(ask('', 'tcp://b.example.com:80', version).listener).toMatch(/^240\.240\.\d+\.\d+_80$/);
    }
  });

  it("so is an entry's own IP address, and under captureMode NONE the bound 0.0.0.0 listener still takes captured calls", () => {
    expect(ask('bind: 0.0.0.0, ', 'tcp://198.51.100.7:5432', V)).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||db.example.org',
      listener: '0.0.0.0_5432',
    });
    expect(ask('', 'tcp://198.51.100.7:5432', V)).toMatchObject({ listener: '198.51.100.7_5432' });
    // Checked on istiod eed52ebb66ad (2026-12-03): 0.0.0.0_5432 → outbound|5432||db.example.org (fuzz-s4321-42).
    expect(ask('bind: 0.0.0.0, captureMode: NONE, ', 'tcp://198.51.100.7:5432', V)).toMatchObject({
      verdict: 'allowed',
      listener: '0.0.0.0_5432',
    });
  });
});

describe("plain HTTP on an unset-protocol port's HTTP chain follows a mesh VirtualService's http routes", () => {
  // pilot/pkg/networking/core/route/route.go buildSidecarVirtualHostsForVirtualService groups a VirtualService's
  // services by every port whose protocol IsHTTPOrSniffed, so an unset-protocol port's virtual host on route
  // <port> carries the VirtualService's http routes (BuildSidecarVirtualHostWrapper does the same for the
  // services without one). The sniffed listener's HTTP chain takes plain HTTP, its TCP chain (or a CIDR's prefix
  // chain, s115-3#1) everything else. Corpus master-2026-08-27 s142-12#1, #6, #8 (the entry also lost the port's
  // match-all chain to the gateway's HTTP2 port 80, which leaves the HTTP chain as it is).
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 80, name: port-80}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [api.example.net]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v, namespace: default}
spec:
  hosts: [db.example.org]
  http: [{route: [{destination: {host: api.example.net, port: {number: 80}}}]}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (url: string) =>
    expectProbe(r(), { from: { namespace: 'default' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it('HTTP is routed by the VirtualService, TCP keeps the entry (corpus master-2026-08-27 s142-12#1)', () => {
    expect(ask('http://db.example.org:80/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||api.example.net' });
    expect(ask('tcp://db.example.org:80').cluster).not.toBe('outbound|80||api.example.net');
  });
});

describe("an address listener of an unset-protocol port routes plain HTTP by the port's VirtualService too", () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListener: a service with an address (its own, or one
  // auto-allocated for a DNS-capturing sidecar) and an unset protocol gets <ip>_<port> with a TCP chain and an
  // HTTP chain whose RDS is `<host>:<port>`; route.go buildSidecarVirtualHostsForVirtualService puts the
  // VirtualService's http routes on its virtual host (IsHTTPOrSniffed). A route to a port the entry lacks has no
  // cluster: 503. Corpus master-2026-08-27 s166-5#0, #7 (an auto-allocated address).
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 443, name: port-443}]
  resolution: DNS_ROUND_ROBIN
  addresses: [192.0.2.20]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes-0, namespace: frontend}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: a.example.com, port: {number: 80}}}]}]
  tls: [{match: [{port: 443, sniHosts: [a.example.com]}], route: [{destination: {host: a.example.com, port: {number: 443}}}]}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (url: string) =>
    expectProbe(r(), { from: { namespace: 'frontend' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'ALLOW_ANY' });

  it('plain HTTP takes the http route to the missing port 80 cluster (corpus master-2026-08-27 s166-5#0)', () => {
    expect(ask('http://192.0.2.20:443/')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|80||a.example.com',
      signal: 'http-503',
      listener: '192.0.2.20_443',
    });
    // TCP takes the TCP chain to the entry.
    expect(ask('tcp://192.0.2.20:443')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||a.example.com' });
  });
});

describe("a proxy applies the exported DestinationRules of the namespace of the service it keeps for a host, no other's", () => {
  // pilot/pkg/model/push_context.go destinationRule: the proxy's own namespace's rules, else those the service's
  // namespace (service.Attributes.Namespace) exports, else the root namespace's. With a host declared in several
  // namespaces the proxy keeps one service (sidecar.go selectServices: its own namespace's, else the first in
  // processing order, DefaultSidecarScopeForGateway alike), so a rule in another declaring namespace is not used.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: payments}
spec:
  hosts: [api.example.net]
  ports: [{number: 443, name: http2-443, protocol: HTTP2}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [api.example.net]
  ports: [{number: 443, name: grpc-443, protocol: GRPC}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.51}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: originate-0, namespace: payments}
spec:
  host: api.example.net
  trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: SIMPLE, sni: api.example.net}}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway-0, namespace: frontend}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [frontend/api.example.net]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: frontend}
spec:
  hosts: [api.example.net]
  gateways: [istio-egressgateway-0, mesh]
  http:
  - match: [{gateways: [mesh], port: 443}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [istio-egressgateway-0], port: 80}]
    route: [{destination: {host: api.example.net, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-1, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: edition}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (ns: string) =>
    expectProbe(
      r(),
      { from: { namespace: ns }, to: parseProbeUrl('http://api.example.net:443/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );
  const GW = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';

  it("the gateway keeps default's entry (the first by namespace), so payments' rule originates no TLS (corpus master-2026-08-27 s173-2#3, #6-9)", () => {
    const e = ask('default');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: GW });
    expect(e.hops?.map((h) => [h.kind, h.cluster, h.tls])).toEqual([
      ['sidecar', GW, undefined],
      ['gateway', 'outbound|443||api.example.net', undefined],
    ]);
  });

  it("a sidecar keeps its own namespace's entry, else the first: another declaring namespace's rule originates nothing (s188-7#12)", () => {
    const res = (drNs: string) =>
      loadYamlText(
        `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: payments}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.51}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: originate-0, namespace: ${drNs}}
spec:
  host: a.example.com
  trafficPolicy: {portLevelSettings: [{port: {number: 80}, tls: {mode: SIMPLE}}]}
`,
        'se.yaml',
        emptyResources(),
      );
    const tls = (drNs: string) =>
      expectProbe(
        res(drNs),
        { from: { namespace: 'frontend' }, to: parseProbeUrl('http://a.example.com:80/') },
        { istioVersion: V, policy: 'REGISTRY_ONLY' },
      ).hops?.[0]?.tls;
    // From frontend the first by namespace, default's entry, is kept: default's rule applies, payments' does not.
    expect(tls('default')).toEqual({ mode: 'SIMPLE' });
    expect(tls('payments')).toBeUndefined();
  });
});

describe("the gateway's own-namespace entry that its exportTo keeps elsewhere gives no cluster when another namespace's entry has the host", () => {
  // pilot/pkg/model/push_context.go servicesExportedToNamespace: an entry exported to `default` only is not in
  // istio-system's list, so DefaultSidecarScopeForGateway (sidecar.go appendSidecarServices) keeps the other
  // namespace's entry for the host, whose ports lack 443: the gateway's route names a cluster it does not have
  // (cluster_builder.go buildOutboundClusters). Alone, such an entry still gets its cluster (s107-8#7; s238-75#0
  // with the mesh's defaultServiceExportTo instead of its own exportTo): the gateway takes istio-system's default
  // sidecar scope (push_context.go doGetSidecarScope), which adds an imported VirtualService's destination of its
  // own namespace whatever its exportTo (sidecar.go collectImportedServices).
  // Corpus master-2026-08-27 s159-14#1, #8.
  const r = (rival: boolean, meshDefault = false) =>
    loadYamlText(
      `
${
  meshDefault
    ? `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    defaultServiceExportTo: [default]
---`
    : ''
}
${
  rival
    ? `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: frontend}
spec:
  hosts: [x.wild.example.com]
  ports: [{number: 80, name: p80, protocol: GRPC-WEB}]
  resolution: DNS
---`
    : ''
}
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: istio-system}
spec:
  hosts: [x.wild.example.com]
  ports: [{number: 443, name: p443, protocol: HTTP}]
  resolution: STATIC
  addresses: [198.51.100.0/24]
${meshDefault ? '' : '  exportTo: [default]'}
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
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (rival: boolean, meshDefault = false) =>
    expectProbe(
      r(rival, meshDefault),
      { from: { namespace: 'default' }, to: parseProbeUrl('http://x.wild.example.com:443/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );
  const GW = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';

  it("with frontend's entry kept, the gateway has no outbound|443||x.wild.example.com: 503 (s159-14#1)", () => {
    const e = ask(true);
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-503' });
    expect(e.hops?.map((h) => [h.kind, h.cluster])).toEqual([
      ['sidecar', GW],
      ['gateway', 'outbound|443||x.wild.example.com'],
    ]);
    // Alone, the entry gets its gateway cluster (s107-8#7).
    expect(ask(false)).toMatchObject({ verdict: 'allowed', cluster: GW });
  });

  it("alone, kept from istio-system by the mesh's defaultServiceExportTo, it gets its gateway cluster too (s238-75#0)", () => {
    expect(ask(false, true)).toMatchObject({ verdict: 'allowed', cluster: GW });
  });
});

describe("an ISTIO_MUTUAL gateway server's chain matches its hosts as SNI, which the sidecar's auto mTLS does not carry", () => {
  // With no TLS in the DestinationRule, the sidecar's cluster to the gateway originates Istio mTLS by auto mTLS
  // (cluster_tls.go buildUpstreamTLSSettings) with the SNI outbound_.443_.edition_.<gateway host>. A server's
  // hosts are its chain's server_names (model/gateway.go GetSNIHostsForServer), except that `*` among them leaves
  // none (listener.go toFilterChainMatch): a `*` server takes the call and routes it, a named one never does.
  const r = (serverHost: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: frontend}
spec:
  hosts: [api.example.net]
  ports: [{number: 443, name: http2-443, protocol: HTTP2}]
  resolution: DNS
  addresses: [198.51.100.7]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway-0, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["${serverHost}"], tls: {mode: ISTIO_MUTUAL}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: frontend}
spec:
  hosts: [api.example.net]
  gateways: [istio-system/istio-egressgateway-0, mesh]
  http:
  - match: [{gateways: [mesh], port: 443}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 443}}}]
  - match: [{gateways: [istio-system/istio-egressgateway-0], port: 443}]
    route: [{destination: {host: api.example.net, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-0, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: edition}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (serverHost: string, url: string) =>
    expectProbe(r(serverHost), { from: { namespace: 'frontend' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'ALLOW_ANY' });
  const GW = 'outbound|443|edition|istio-egressgateway.istio-system.svc.cluster.local';
  const hops = (e: ReturnType<typeof ask>) => e.hops?.map((h) => [h.kind, h.cluster]);

  it('a `*` server takes the plain text and its TLS socket fails the handshake (corpus master-2026-08-27 s219-4#0, #10)', () => {
    // Stored once as routed, when the lane read plain text on a TLS-terminating chain as HTTP; applied again on
    // istiod (2026-12-03) after the lane learned that Envoy's TLS socket cannot read it. No auto mTLS: the gateway
    // Pods are not labelled security.istio.io/tlsMode=istio.
    const e = ask('*', 'http://api.example.net:443/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-503' });
    expect(hops(e)).toEqual([
      ['sidecar', GW],
      ['gateway', '(handshake failed)'],
    ]);
    // A server of the host itself matches its host as SNI, which plain text does not carry.
    expect(hops(ask('api.example.net', 'http://api.example.net:443/'))).toEqual([
      ['sidecar', GW],
      ['gateway', '(no filter chain)'],
    ]);
  });

  it('a call no server takes (an address dialled) finds no filter chain either: the router answers 503 (s218-5#4)', () => {
    const e = ask('a.example.com', 'http://198.51.100.7:443/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-503' });
    expect(hops(e)).toEqual([
      ['sidecar', GW],
      ['gateway', '(no filter chain)'],
    ]);
  });
});

describe('of several mesh VirtualServices for a host, the first by creation time, then name, then namespace routes it', () => {
  // pilot/pkg/model/virtualservice_controller.go sortMergedVirtualServicesByCreationTime orders them by
  // config.go configCompareByCreationTime (creation time, then name, then namespace), not by when they were
  // written; the route of the host is the first one's (s170-3#5, #8: default/routes-1 before
  // payments/through-gateway-0). A TLS or TCP chain takes the first one with routes of its kind (tls.go
  // buildSidecarOutboundTLSFilterChainOpts, buildSidecarOutboundTCPFilterChainOpts; s62-3#7).
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: istio-system}
spec:
  hosts: [a.example.com]
  ports: [{number: 5432, name: p5432, protocol: HTTP2}, {number: 443, name: tls, protocol: TLS}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: y, namespace: istio-system}
spec:
  hosts: [b.example.com]
  ports: [{number: 5432, name: p5432, protocol: HTTP2}, {number: 443, name: tls, protocol: TLS}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.51}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: payments}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: b.example.com, port: {number: 5432}}}]}]
  tls: [{match: [{port: 443, sniHosts: [a.example.com]}], route: [{destination: {host: b.example.com, port: {number: 443}}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes-1, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: a.example.com, port: {number: 5432}}}]}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (url: string) =>
    expectProbe(r(), { from: { namespace: 'frontend' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it('routes-1 comes before through-gateway-0, written later or not (corpus master-2026-08-27 s170-3#5)', () => {
    expect(ask('http://a.example.com:5432/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||a.example.com' });
  });

  it('TLS takes the first one with tls routes (s62-3#7)', () => {
    expect(ask('https://a.example.com:443/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||b.example.com' });
  });
});

describe("a plain HTTP gateway server's chain takes a call no server names, TLS included", () => {
  // pilot/pkg/networking/core/gateway.go createGatewayHTTPFilterChainOpts: a plain HTTP server's chain matches no
  // host (sniHosts nil), so the sidecar's Istio mTLS to it reaches its HTTP connection manager, which reads the
  // TLS bytes as a broken request; the sidecar's router answers 503. Corpus master-2026-08-27 s166-9#1 (an address
  // dialled, the server's host unnamed; without TLS the same call gets the route's 404, s107-8#5).
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 443, name: http-443, protocol: HTTP}]
  resolution: STATIC
  addresses: [192.0.2.10]
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway-0, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [db.example.org]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: frontend}
spec:
  hosts: [db.example.org]
  gateways: [istio-system/istio-egressgateway-0, mesh]
  http:
  - match: [{gateways: [mesh], port: 443}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: Edition, port: {number: 80}}}]
  - match: [{gateways: [istio-system/istio-egressgateway-0], port: 80}]
    route: [{destination: {host: db.example.org, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-0, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: Edition, trafficPolicy: {portLevelSettings: [{port: {number: 80}, tls: {mode: ISTIO_MUTUAL, sni: db.example.org}}]}}]
`,
      'se.yaml',
      emptyResources(),
    );
  const GW = 'outbound|80|Edition|istio-egressgateway.istio-system.svc.cluster.local';

  it('the address as Host: a protocol error at the gateway, 503 to the client (s166-9#1)', () => {
    const e = expectProbe(
      r(),
      { from: { namespace: 'default' }, to: parseProbeUrl('http://192.0.2.10:443/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-503' });
    expect(e.hops?.map((h) => [h.kind, h.cluster])).toEqual([
      ['sidecar', GW],
      ['gateway', '(protocol error)'],
    ]);
  });
});

describe("under REGISTRY_ONLY a mesh VirtualService's host still gets its virtual host on route 80", () => {
  // pilot/pkg/networking/core/route/route.go buildSidecarVirtualHostsForVirtualService: a VirtualService whose
  // hosts no service of the route has gets a virtual host on port 80 all the same (serviceByPort[80] = nil, "a
  // gross HACK"), ahead of the block_all catch-all REGISTRY_ONLY adds. Here the kept entry for the host (the
  // first by creation, frontend's) lacks port 80. Corpus master-2026-08-27 s157-3#11 (a subset no rule visible
  // from default defines: 503).
  const r = (subset: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend, creationTimestamp: "2026-01-01T00:00:01Z"}
spec:
  hosts: [db.example.org]
  ports: [{number: 443, name: p443, protocol: GRPC-WEB}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: payments, creationTimestamp: "2026-01-01T00:00:03Z"}
spec:
  hosts: [db.example.org]
  ports: [{number: 80, name: http-80, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 192.0.2.51}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: payments}
spec:
  hosts: [db.example.org]
  http: [{route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: ${subset}, port: {number: 80}}}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-0, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: other}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (subset: string) =>
    expectProbe(
      r(subset),
      { from: { namespace: 'default' }, to: parseProbeUrl('http://db.example.org:80/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );

  it('a subset without a cluster: 503, not the catch-all 502 (s157-3#11)', () => {
    expect(ask('edition')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local',
      signal: 'http-503',
    });
  });

  it('a defined subset: the call is routed to the gateway, which has no server on port 80 here', () => {
    const e = ask('other');
    expect(e.cluster).toBe('outbound|80|other|istio-egressgateway.istio-system.svc.cluster.local');
    expect(e.hops?.map((h) => h.cluster)).toEqual([
      'outbound|80|other|istio-egressgateway.istio-system.svc.cluster.local',
      '(connection refused)',
    ]);
  });
});

describe('a mesh VirtualService for a host whose kept service has no HTTP port there has no virtual host on that route', () => {
  // pilot/pkg/networking/core/route/route.go separateVSHostsAndServices: a VirtualService host naming a service
  // of the sidecar's registry takes that service; buildSidecarVirtualHostsForVirtualService then builds virtual
  // hosts only on its IsHTTPOrSniffed ports (and port 80 when none). The kept service for a.example.com has a UDP
  // port only, so on route 8080 the request stays with *.example.com's virtual host. Corpus master-2026-08-27
  // s225-11#0, #9.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: udp-80, protocol: UDP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: ["*.example.com"]
  ports: [{number: 8080, name: http-8080, protocol: HTTP}]
  resolution: DYNAMIC_DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-tls-port-0, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{match: [{port: 8080}], route: [{destination: {host: a.example.com, port: {number: 443}}}]}]
`,
      'se.yaml',
      emptyResources(),
    );

  it('the request takes *.example.com:8080, not the VirtualService (s225-11#0)', () => {
    expect(
      expectProbe(
        r(),
        { from: { namespace: 'default' }, to: parseProbeUrl('http://a.example.com:8080/') },
        { istioVersion: V, policy: 'ALLOW_ANY' },
      ),
    ).toMatchObject({ verdict: 'allowed', cluster: 'outbound|8080||*.example.com' });
  });
});

describe("a VirtualService route back to the service's own unbuilt cluster leaves the call failing", () => {
  // pilot/pkg/model/sidecar.go appendSidecarServices keeps istio-system/b for api.example.net and drops z, which it
  // cannot merge (canMergeServices), so cluster_builder.go builds no outbound|80||api.example.net; a route that
  // names that very cluster (route.go, the VirtualService's catch-all route) still finds none: 503 (NC).
  // Corpus master-2026-08-27 s145-2#4.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: istio-system, creationTimestamp: "2026-01-01T00:00:01Z"}
spec:
  hosts: [api.example.net]
  ports: [{number: 8080, name: p8080, protocol: TLS}]
  resolution: NONE
  addresses: [192.0.2.10]
  exportTo: [frontend]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: istio-system, creationTimestamp: "2026-01-01T00:00:02Z"}
spec:
  hosts: [api.example.net]
  ports: [{number: 80, name: p80, protocol: GRPC}]
  resolution: DNS
  exportTo: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes-0, namespace: default}
spec:
  hosts: [api.example.net]
  http: [{timeout: 10s, route: [{destination: {host: api.example.net}}]}]
`,
      'se.yaml',
      emptyResources(),
    );

  it('503 at the sidecar, as without the VirtualService (s145-2#4)', () => {
    expect(
      expectProbe(
        r(),
        { from: { namespace: 'frontend' }, to: parseProbeUrl('http://api.example.net:80/') },
        { istioVersion: V, policy: 'ALLOW_ANY' },
      ),
    ).toMatchObject({ verdict: 'blocked', cluster: 'outbound|80||api.example.net' });
  });
});

describe("a Sidecar egress listener bound on 0.0.0.0 gives its port's chain to the cluster's first Service with that port", () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners: an egress listener with a port and a
  // bind builds one filter chain per imported service, all matching every destination, and the first wins;
  // services come ordered by push_context.go SortServicesByCreationTime (second, then Service name). On the
  // lane's cluster `kubernetes` and `istiod` share a second, so `istiod` (port 443 https-webhook) comes first.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: default}
spec:
  workloadSelector: {labels: {app: other}}
  egress:
  - port: {number: 443, name: egress-443, protocol: HTTPS}
    bind: 0.0.0.0
    hosts: ["*/*"]
`,
      'sidecar.yaml',
      emptyResources(),
    );
  const ask = (url: string) =>
    expectProbe(
      r(),
      { from: { namespace: 'default', labels: { app: 'other' } }, to: parseProbeUrl(url) },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );

  it("TCP to an unlisted name on 443 goes to istiod's Service, not the egress gateway's (corpus master-2026-08-27 s161-9#5)", () => {
    expect(ask('tcp://unlisted.example.net:443')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|443||istiod.istio-system.svc.cluster.local',
      listener: '0.0.0.0_443',
    });
  });
});

describe('DestinationRules of one host and namespace whose exportTo differ stand apart, and the later one applies whole', () => {
  // pilot/pkg/model/destination_rule.go mergeDestinationRule: a rule merges into an earlier one of its host only
  // when its exportTo equals that one's or is a superset of a non-empty one; otherwise it is a separate entry.
  // push_context.go destinationRule returns every entry exported to the client, and sidecar.go
  // SidecarScope.DestinationRule applies the last one without a workloadSelector: the later rule's subsets only.
  const r = (secondExport: string | undefined, secondSubset: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: frontend}
spec:
  hosts: [b.example.com]
  ports: [{number: 443, name: grpc-443, protocol: GRPC}]
  resolution: DNS
  addresses: [192.0.2.10]
  endpoints: [{address: 10.1.2.3}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway, namespace: default}
spec:
  hosts: [b.example.com]
  gateways: [mesh]
  http:
  - route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-0, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets:
  - name: edition
    trafficPolicy: {portLevelSettings: [{port: {number: 80}, tls: {mode: ISTIO_MUTUAL, sni: b.example.com}}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-1, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: ${secondSubset}}]
${secondExport ? `  exportTo: ${secondExport}\n` : ''}`,
      'routing.yaml',
      emptyResources(),
    );
  const ask = (res: ReturnType<typeof r>) =>
    expectProbe(
      res,
      { from: { namespace: 'default' }, to: parseProbeUrl('http://b.example.com:443/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );

  it("the later rule's subset, without TLS, is the sidecar's cluster to the gateway (corpus master-2026-08-27 s229-97#2-6)", () => {
    const e = ask(r('["*"]', 'edition'));
    expect(e).toMatchObject({ cluster: 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local' });
    expect(e.hops?.[0]?.tls).toBeUndefined();
  });

  it('the later rule lacks the subset: the sidecar has no cluster, 503 (s233-13#3)', () => {
    expect(ask(r('[default]', 'other'))).toMatchObject({
      verdict: 'blocked',
      signal: 'http-503',
      hops: [{ kind: 'sidecar', cluster: 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local' }],
    });
  });

  it('with equal exportTo they merge, the first subset of a name kept', () => {
    const e = ask(r(undefined, 'edition'));
    expect(e.hops?.[0]?.tls).toMatchObject({ mode: 'ISTIO_MUTUAL', sni: 'b.example.com' });
  });
});

describe("a DestinationRule's TLS origination needs the cluster it is set on", () => {
  // pilot/pkg/networking/core/cluster_traffic_policy.go applyTrafficPolicy: the rule's TLS becomes the transport
  // socket of a cluster istiod builds; a route to a cluster istiod names but does not build carries no TLS.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: istio-system}
spec:
  hosts: [db.example.org]
  ports: [{number: 443, name: p443, protocol: HTTP2}]
  resolution: DNS
  endpoints: [{address: backend.example.com}]
  location: MESH_INTERNAL
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: istio-system}
spec:
  hosts: [db.example.org]
  resolution: DNS
  endpoints: [{address: backend.example.com}]
  exportTo: [default]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: originate-0, namespace: default}
spec:
  host: db.example.org
  trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: SIMPLE, sni: db.example.org}}]}
  exportTo: ["*"]
`,
      'routing.yaml',
      emptyResources(),
    );

  it('the unbuilt cluster of the kept portless entry: 503, no TLS on the hop (corpus master-2026-08-27 s233-49#0, #2, #5)', () => {
    const e = expectProbe(
      r(),
      { from: { namespace: 'default' }, to: parseProbeUrl('http://db.example.org:443/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );
    expect(e).toMatchObject({
      verdict: 'blocked',
      signal: 'http-503',
      hops: [{ kind: 'sidecar', cluster: 'outbound|443||db.example.org' }],
    });
    expect(e.hops?.[0]?.tls).toBeUndefined();
  });
});

describe("a PASSTHROUGH gateway server passes the sidecar's Istio mTLS on by its SNI", () => {
  // pilot/pkg/networking/core/gateway.go buildGatewayNetworkFiltersFromTLSRoutes: a PASSTHROUGH server's filter
  // chains match the bound tls routes' sniHosts and carry no TLS context: the gateway reads only the SNI of the
  // sidecar's ISTIO_MUTUAL handshake and proxies the connection to the route's cluster.
  const r = (exportTo: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: frontend}
spec:
  hosts: [api.example.net]
  ports: [{number: 5432, name: p5432, protocol: HTTPS}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]
  exportTo: ${exportTo}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway-0, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: ["*"], tls: {mode: PASSTHROUGH}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: default}
spec:
  hosts: [api.example.net]
  gateways: [istio-system/istio-egressgateway-0, mesh]
  tls:
  - match: [{gateways: [mesh], port: 5432, sniHosts: [api.example.net]}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 443}}}]
  - match: [{gateways: [istio-system/istio-egressgateway-0], port: 443, sniHosts: [api.example.net]}]
    route: [{destination: {host: api.example.net, port: {number: 5432}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-0, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets:
  - name: edition
    trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: ISTIO_MUTUAL, sni: api.example.net}}]}
`,
      'routing.yaml',
      emptyResources(),
    );
  const ask = (res: ReturnType<typeof r>) =>
    expectProbe(
      res,
      { from: { namespace: 'default' }, to: parseProbeUrl('https://api.example.net:5432/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );
  const gatewayHop = { kind: 'gateway', proxy: 'istio-system/istio-egressgateway', cluster: 'outbound|5432||api.example.net' };

  it("the gateway routes it to the tls route's cluster", () => {
    expect(ask(r('["*"]'))).toMatchObject({ verdict: 'allowed', hops: [{ kind: 'sidecar', tls: { mode: 'ISTIO_MUTUAL' } }, gatewayHop] });
  });

  it('a cluster the gateway lacks (the entry not exported to it) closes the call there (corpus master-2026-08-27 s233-26#7)', () => {
    expect(ask(r('[default]'))).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', hops: [{ kind: 'sidecar' }, gatewayHop] });
  });
});

describe("a TLS-terminating gateway server is picked by the sidecar's SNI, and its route by the request's Host", () => {
  // pilot/pkg/networking/core/gateway.go createGatewayHTTPFilterChainOpts: an HTTPS server's chain matches its hosts
  // as server_names (model/gateway.go GetSNIHostsForServer), so the SNI the sidecar's DestinationRule sets takes it;
  // buildGatewayHTTPRouteConfig gives its route virtual hosts named by hosts only, so a request whose Host is an
  // address finds none: Envoy answers 404.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec:
  hosts: [x.wild.example.com]
  ports: [{number: 80, name: p80, protocol: HTTP2}]
  resolution: STATIC
  addresses: [192.0.2.10/32]
  endpoints: [{address: 10.1.2.3}]
  exportTo: [default, istio-system]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway-0, namespace: default}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: [x.wild.example.com], tls: {mode: ISTIO_MUTUAL}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: default}
spec:
  hosts: [x.wild.example.com]
  gateways: [istio-egressgateway-0, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 443}}}]
  - match: [{gateways: [istio-egressgateway-0], port: 443}]
    route: [{destination: {host: x.wild.example.com, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset-0, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets:
  - name: edition
    trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: ISTIO_MUTUAL, sni: x.wild.example.com}}]}
`,
      'routing.yaml',
      emptyResources(),
    );
  const ask = (url: string) =>
    expectProbe(r(), { from: { namespace: 'default' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });
  const toGateway = {
    kind: 'sidecar',
    cluster: 'outbound|443|edition|istio-egressgateway.istio-system.svc.cluster.local',
    tls: { mode: 'ISTIO_MUTUAL', sni: 'x.wild.example.com' },
  };

  it('a request to the address: the server takes it, its route has no virtual host for the Host, 404 (corpus master-2026-08-27 s229-102#2)', () => {
    expect(ask('http://192.0.2.10:80/')).toMatchObject({
      verdict: 'blocked',
      signal: 'http-404',
      hops: [toGateway, { kind: 'gateway', cluster: '(no route)' }],
    });
  });

  it('a request to the name is routed on', () => {
    expect(ask('http://x.wild.example.com:80/')).toMatchObject({
      verdict: 'allowed',
      hops: [toGateway, { kind: 'gateway', cluster: 'outbound|80||x.wild.example.com' }],
    });
  });
});

describe("a DYNAMIC_DNS wildcard's TLS chain keeps its SNI match on its own auto-allocated address", () => {
  // pilot/pkg/networking/core/tls.go buildSidecarOutboundTLSFilterChainOpts: a chain matches the service's host as
  // SNI when its address is a CIDR or none, or when the service is a wildcard with resolution DYNAMIC_DNS, whose
  // dynamic forward proxy cluster needs the server name; a listener on the auto-allocated address
  // (listener.go buildSidecarOutboundListener) therefore still passes a call without that SNI to its default chain.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: ["*.wild.example.com"]
  ports: [{number: 5432, name: tls-5432, protocol: TLS}]
  resolution: DYNAMIC_DNS
  location: MESH_EXTERNAL
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (url: string) => {
    const res = r();
    res.mesh.dnsCapture = true;
    return expectProbe(res, { from: { namespace: 'frontend' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'ALLOW_ANY' });
  };

  it('plain TCP to a name under the wildcard passes through; TLS with its SNI takes the chain (corpus master-2026-08-27 s229-12#1)', () => {
    expect(ask('tcp://deep.w.wild.example.com:5432')).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
      listener: expect.stringMatching(/^240\.240\.\d+\.\d+_5432$/),
      rules: expect.arrayContaining(['listener.default-chain']),
    });
    expect(ask('https://deep.w.wild.example.com:5432/')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||*.wild.example.com',
      listener: expect.stringMatching(/^240\.240\.\d+\.\d+_5432$/),
    });
  });
});

describe("a Sidecar egress port's protocol builds a listener even for a service's UDP port of that number", () => {
  // pilot/pkg/model/sidecar.go serviceMatchingListenerPort keeps a service whose port has the egress listener's
  // number, whatever its protocol, and listener.go buildSidecarOutboundListeners builds it with the egress
  // port's protocol: a TCP egress port gives the UDP-only entry a match-all TCP chain on 0.0.0.0_8080. Its
  // cluster is never built (cluster.go buildOutboundClusters skips UDP ports), so Envoy closes the connection.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: payments}
spec:
  hosts: ["*.wild.example.com"]
  ports: [{number: 8080, name: udp-8080, protocol: UDP}, {number: 443, name: udp-443, protocol: UDP}]
  resolution: DNS_ROUND_ROBIN
  endpoints: [{address: backend.example.com}]
  exportTo: ["*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: default}
spec:
  egress:
  - port: {number: 8080, name: egress-8080, protocol: TCP}
    hosts: ["*/*.example.com"]
  - hosts: ["default/*"]
`,
      'se.yaml',
      emptyResources(),
    );

  it('a call under the wildcard on 8080 meets the chain and fails (corpus master-2026-08-27 s230-159#0)', () => {
    expect(
      expectProbe(
        r(),
        { from: { namespace: 'default' }, to: parseProbeUrl('http://deep.w.wild.example.com:8080/') },
        { istioVersion: V, policy: 'REGISTRY_ONLY' },
      ),
    ).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|8080||*.wild.example.com',
      listener: '0.0.0.0_8080',
      signal: 'tcp-close',
      rule: 'listener.sidecar-port-protocol',
    });
  });
});

describe('a resolution-NONE entry without addresses binds per instance when another entry of its namespace and host gives it one', () => {
  // pilot/pkg/serviceregistry/serviceentry/conversion.go mergeServicesInstancesByNamespaceHost keeps one endpoint
  // set per namespace and host, every entry's instances merged (a DNS entry without endpoints contributes its host
  // name), and push_context.go initServiceRegistry files it by each service's port numbers. listener.go
  // buildSidecarOutboundListeners falls back to 0.0.0.0_<port> for a Passthrough service without an address only
  // when it has no instances; otherwise it binds each instance whose addresses are IPs, and a host name is none.
  const r = (dnsPort: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: istio-system, creationTimestamp: "2026-01-01T00:00:01Z"}
spec:
  hosts: [a.example.com]
  ports: [{number: 9000, name: grpc-web-9000, protocol: GRPC-WEB}, {number: 5432, name: p5432, protocol: TCP}]
  resolution: NONE
  exportTo: [".", frontend]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: b
  namespace: istio-system
  labels: {networking.istio.io/enable-autoallocate-ip: "false"}
  creationTimestamp: "2026-01-01T00:00:02Z"
spec:
  hosts: [a.example.com]
  ports: [${dnsPort}]
  resolution: DNS
  endpoints: [{address: backend.example.com}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (res: ReturnType<typeof r>) => {
    res.mesh.dnsCapture = true;
    return expectProbe(
      res,
      { from: { namespace: 'frontend' }, to: parseProbeUrl('tcp://a.example.com:5432') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );
  };

  it("the DNS entry's endpoint on 5432 leaves the TCP port without a listener (corpus master-2026-08-27 s231-105#0,#3,#5,#6)", () => {
    expect(ask(r('{number: 5432, name: p5432, protocol: UDP}'))).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
      listener: 'virtualOutbound',
      rules: expect.arrayContaining(['listener.instances-only']),
    });
    // An endpoint on another port number is not filed under 5432: the wildcard listener stays.
    expect(ask(r('{number: 5433, name: p5433, protocol: UDP}'))).toMatchObject({
      cluster: 'outbound|5432||a.example.com',
      listener: '0.0.0.0_5432',
    });
  });
});

describe("a Sidecar egress listener's bind, or captureMode NONE, keys every listener it builds on that address", () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners: an egress listener's `bind` (or, under
  // captureMode NONE without one, the loopback address) becomes the bind of every listener it builds, and
  // buildSidecarOutboundListener keys a TCP, TLS or sniffed service on `<bind>_<port>` rather than its own address;
  // captureMode NONE makes it a socket bound to the port, which captured traffic does not reach. tls.go
  // buildSidecarOutboundTLSFilterChainOpts gives a service with an IP address a chain matching every destination
  // there, so the first Service processed (push_context.go SortServicesByCreationTime) takes the listener.
  it('a port-less listener under captureMode NONE leaves no 0.0.0.0_80 for its HTTP2 entry (corpus master-2026-08-27 s229-49#2,#4)', () => {
    const r = loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: istio-system}
spec:
  hosts: [api.example.net, a.example.com]
  ports: [{number: 80, name: p80, protocol: HTTP2}]
  resolution: NONE
  addresses: [198.51.100.7, 192.0.2.10/32]
  location: MESH_EXTERNAL
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: default}
spec:
  egress:
  - port: {number: 80, name: egress-80}
    hosts: ["*/*"]
  - captureMode: NONE
    hosts: ["*/*"]
  outboundTrafficPolicy: {mode: ALLOW_ANY}
`,
      'se.yaml',
      emptyResources(),
    );
    const ask = (url: string) =>
      expectProbe(r, { from: { namespace: 'default' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });
    expect(ask('http://a.example.com:80/')).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
      listener: 'virtualOutbound',
    });
    // The egress listener with the port keys the unset-protocol port on the entry's address, as without a Sidecar.
    expect(ask('http://198.51.100.7:80/')).toMatchObject({ cluster: 'outbound|80||a.example.com', listener: '198.51.100.7_80' });
  });

  it("route 9000 keeps the bound port listener's services for the port-less listener's 0.0.0.0_9000 (corpus master-2026-08-27 s102-13#3)", () => {
    // sidecar.go GetEgressListenerForRDS: route `<port>` comes from the egress listener with the port, wherever
    // that listener's own chains are keyed.
    const r = loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: frontend}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: mysql-80, protocol: MYSQL}, {number: 9000, name: http2-9000, protocol: HTTP2}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: default}
spec:
  egress:
  - port: {number: 9000, name: egress-9000}
    bind: 192.0.2.10
    hosts: ["*/*"]
  - hosts: ["*/*"]
`,
      'se.yaml',
      emptyResources(),
    );
    expect(
      expectProbe(
        r,
        { from: { namespace: 'default' }, to: parseProbeUrl('http://b.example.com:9000/') },
        { istioVersion: V, policy: 'ALLOW_ANY' },
      ),
    ).toMatchObject({ verdict: 'allowed', cluster: 'outbound|9000||b.example.com', listener: '0.0.0.0_9000' });
  });

  it("`bind: 192.0.2.10` gives 192.0.2.10_443 to istiod's Service, not the entry that owns the address (corpus master-2026-08-27 s232-0#0)", () => {
    const r = loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec:
  hosts: [b.example.com, db.example.org]
  ports: [{number: 443, name: p443, protocol: TLS}]
  resolution: STATIC
  addresses: [192.0.2.0/24, 192.0.2.10/32]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: frontend}
spec:
  egress:
  - bind: 192.0.2.10
    hosts: ["*/*"]
`,
      'se.yaml',
      emptyResources(),
    );
    expect(
      expectProbe(
        r,
        { from: { namespace: 'frontend' }, to: parseProbeUrl('https://192.0.2.10:443/') },
        { istioVersion: V, policy: 'ALLOW_ANY' },
      ),
    ).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||istiod.istio-system.svc.cluster.local', listener: '192.0.2.10_443' });
  });
});

describe("the egress gateway's plain HTTP servers of one port share one route, whatever their Gateway", () => {
  // pilot/pkg/model/gateway.go mergeGateways and gatewayRDSRouteName: every plain HTTP server of a port is named
  // route http.<port>, whichever Gateway declares it; pilot/pkg/networking/core/gateway.go
  // buildGatewayHTTPRouteConfig builds that route from all of them, each server bringing the VirtualServices bound
  // to its own Gateway, and a host's routes from several VirtualServices join one virtual host.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: istio-system}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: http-80, protocol: HTTP}]
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress-0, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [b.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress-1, namespace: default}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [b.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-1, namespace: default}
spec:
  hosts: [b.example.com]
  gateways: [egress-1, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [egress-1], port: 80}]
    route: [{destination: {host: b.example.com, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: edition}]
`,
      'gateway.yaml',
      emptyResources(),
    );
  const GW = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';

  it("egress-0's server, declared first, does not hide the route egress-1's VirtualService gives (corpus master-2026-08-27 s234-104#2, #3, #9, #10)", () => {
    const e = expectProbe(
      r(),
      { from: { namespace: 'default' }, to: parseProbeUrl('http://b.example.com:80/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );
    expect(e).toMatchObject({ verdict: 'allowed', cluster: GW, listener: '0.0.0.0_80' });
    expect(e.hops?.map((h) => [h.kind, h.cluster])).toEqual([
      ['sidecar', GW],
      ['gateway', 'outbound|80||b.example.com'],
    ]);
    // The route is named by the port the server resolves to, the gateway Service's targetPort (model/gateway.go
    // resolvePorts, gatewayRDSRouteName).
    expect(e.reason).toContain('shares route http.8080');
  });
});

describe("a later service's match-all chain joins an address listener whose holder's tls routes match SNIs only", () => {
  // tls.go buildSidecarOutboundTLSFilterChainOpts: a TLS service with mesh tls routes gets one chain per route
  // match, matching its sniHosts, and no chain of its own; the next service on the same <ip>_<port> (one service
  // per host of the entry, in hostname order) brings a chain matching everything, and listener.go
  // mergeTCPFilterChains keeps every incoming chain whose match no existing chain repeats: a call no SNI chain
  // takes reaches that service, not the policy's default.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: istio-system}
spec:
  hosts: [db.example.org, a.example.com]
  ports: [{number: 443, name: p443, protocol: HTTPS}]
  resolution: STATIC
  addresses: [192.0.2.10/32]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes, namespace: payments}
spec:
  hosts: [a.example.com]
  tls: [{match: [{port: 443, sniHosts: [a.example.com]}], route: [{destination: {host: db.example.org, port: {number: 443}}}]}]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (url: string) =>
    expectProbe(r(), { from: { namespace: 'payments' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it('TLS to the address without SNI takes db.example.org’s chain (corpus master-2026-08-27 s237-168#0, #1, #4, #5)', () => {
    const e = ask('https://192.0.2.10:443/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||db.example.org', listener: '192.0.2.10_443' });
    expect(e.rules).not.toContain('listener.tcp-conflict');
  });
});

describe('of one host declared in two other namespaces, the cluster a route names comes from the first in processing order', () => {
  // pilot/pkg/model/sidecar.go selectServices keeps one namespace per host name, the proxy's own, else the first of
  // the services as push_context.go sorts them (SortServicesByCreationTime: creation, then hostname, then
  // namespace), and collectImportedServices builds SidecarScope.Services(), whose ports get the clusters
  // (cluster_builder.go buildOutboundClusters), from those: here default's entry, whatever the order written.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: payments}
spec:
  hosts: [db.example.org]
  ports: [{number: 9000, name: tcp-9000, protocol: TCP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec:
  hosts: [db.example.org]
  ports: [{number: 443, name: http-443, protocol: HTTP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes, namespace: frontend}
spec:
  hosts: [db.example.org]
  http: [{timeout: 10s, route: [{destination: {host: db.example.org}}]}]
`,
      'se.yaml',
      emptyResources(),
    );

  it("a sidecar of frontend has default's port 443 cluster, payments' entry written first (corpus master-2026-08-27 s238-54#0, #7, s235-122#5, #8)", () => {
    expect(
      expectProbe(
        r(),
        { from: { namespace: 'frontend' }, to: parseProbeUrl('http://db.example.org:443/') },
        { istioVersion: V, policy: 'ALLOW_ANY' },
      ),
    ).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||db.example.org', listener: '0.0.0.0_443' });
  });
});

describe("the egress gateway picks an HTTPS server by the SNI the sidecar's DestinationRule sends, then the virtual host by Host", () => {
  // pilot/pkg/model/gateway.go GetSNIHostsForServer and listener.go toFilterChainMatch: an HTTPS server's chain
  // matches its hosts as server names; the sidecar originating ISTIO_MUTUAL sends the sni of its DestinationRule
  // (cluster_tls.go), so that chain takes the call whatever the request's Host, and the server's route
  // (gateway.go buildGatewayHTTPRouteConfig: virtual hosts of the server's hosts only) answers an address with 404.
  const r = () =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: payments}
spec:
  hosts: [api.example.net]
  ports: [{number: 443, name: http-443, protocol: HTTP}]
  resolution: DNS
  addresses: [198.51.100.7]
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: [api.example.net], tls: {mode: ISTIO_MUTUAL}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway, namespace: payments}
spec:
  hosts: [api.example.net]
  gateways: [istio-system/egress, mesh]
  http:
  - match: [{gateways: [mesh], port: 443}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 443}}}]
  - match: [{gateways: [istio-system/egress], port: 443}]
    route: [{destination: {host: api.example.net, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets:
  - name: edition
    trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: ISTIO_MUTUAL, sni: api.example.net}}]}
`,
      'gateway.yaml',
      emptyResources(),
    );
  const GW = 'outbound|443|edition|istio-egressgateway.istio-system.svc.cluster.local';
  const ask = (url: string) =>
    expectProbe(r(), { from: { namespace: 'frontend' }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'ALLOW_ANY' });
  const hops = (e: ReturnType<typeof ask>) => e.hops?.map((h) => [h.kind, h.cluster]);

  it("the entry's address as Host: the server's chain, then no virtual host, 404 (corpus master-2026-08-27 s238-25#0, #7)", () => {
    const e = ask('http://198.51.100.7:443/');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'http-404', listener: '0.0.0.0_443' });
    expect(hops(e)).toEqual([
      ['sidecar', GW],
      ['gateway', '(no route)'],
    ]);
    expect(hops(ask('http://api.example.net:443/'))).toEqual([
      ['sidecar', GW],
      ['gateway', 'outbound|443||api.example.net'],
    ]);
  });
});

describe('an egress gateway whose only servers on a port have no route builds no listener there, whatever TLS arrives', () => {
  // pilot/pkg/networking/core/gateway.go: a TLS server gets filter chains only from the tls routes of
  // VirtualServices bound to its Gateway (buildGatewayNetworkFiltersFromTLSRoutes), and
  // MutableGatewayListener.build refuses a listener without chains, so buildGatewayListeners leaves the port
  // without a listener: the connection is refused before the sidecar's mTLS meets the PASSTHROUGH server.
  const r = (gateways: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec:
  hosts: [x.wild.example.com]
  ports: [{number: 443, name: tls-443, protocol: TLS}]
  resolution: DNS
  exportTo: ["*"]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: [x.wild.example.com], tls: {mode: PASSTHROUGH}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway, namespace: payments}
spec:
  hosts: [x.wild.example.com]
  gateways: [${gateways}, mesh]
  tls:
  - match: [{gateways: [mesh], port: 443, sniHosts: [x.wild.example.com]}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 443}}}]
  - match: [{gateways: [${gateways}], port: 443, sniHosts: [x.wild.example.com]}]
    route: [{destination: {host: x.wild.example.com, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: istio-system}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets:
  - name: edition
    trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: ISTIO_MUTUAL, sni: x.wild.example.com}}]}
`,
      'gateway.yaml',
      emptyResources(),
    );
  const GW = 'outbound|443|edition|istio-egressgateway.istio-system.svc.cluster.local';

  it('`egress` in payments names no Gateway there: connection refused (corpus master-2026-08-27 s235-117#2, #8)', () => {
    const e = expectProbe(
      r('egress'),
      { from: { namespace: 'frontend' }, to: parseProbeUrl('https://x.wild.example.com:443/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );
    expect(e).toMatchObject({ verdict: 'blocked', cluster: GW, signal: 'tcp-close' });
    expect(e.hops?.map((h) => [h.kind, h.cluster])).toEqual([
      ['sidecar', GW],
      ['gateway', '(connection refused)'],
    ]);
    // Bound to the Gateway, the route gives the server its chain: the listener exists.
    const bound = expectProbe(
      r('istio-system/egress'),
      { from: { namespace: 'frontend' }, to: parseProbeUrl('https://x.wild.example.com:443/') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );
    expect(bound.hops?.some((h) => h.cluster === '(connection refused)')).toBe(false);
  });
});

describe('a port-less Sidecar egress listener that imports no service with a port leaves it to the bound listener with the port', () => {
  // pilot/pkg/networking/core/listener.go buildSidecarOutboundListeners: the egress listener with the port binds
  // its listener on its `bind`, which captured traffic to other addresses never reaches, and the port-less one
  // builds a listener only per port of a service it imports: importing none with the port, it builds nothing there.
  const r = (catchAllHosts: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: payments}
spec:
  hosts: ["*.example.org"]
  ports: [{number: 9000, name: tcp-9000, protocol: TCP}]
  resolution: STATIC
  addresses: [198.51.100.0/24]
  endpoints: [{address: 192.0.2.50}]
  exportTo: ["*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: default}
spec:
  egress:
  - port: {number: 9000, name: egress-9000, protocol: TCP}
    bind: 192.0.2.10
    hosts: ["*/*"]
  - hosts: [${catchAllHosts}]
`,
      'sidecar.yaml',
      emptyResources(),
    );
  const ask = (hosts: string) =>
    expectProbe(
      r(hosts),
      { from: { namespace: 'default' }, to: parseProbeUrl('tcp://198.51.100.255:9000') },
      { istioVersion: V, policy: 'ALLOW_ANY' },
    );

  it('the entry’s range on port 9000 finds no listener: virtualOutbound (corpus master-2026-08-27 s236-124#0, #2)', () => {
    expect(ask('"./a.example.com"')).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster', listener: 'virtualOutbound' });
    // Importing the entry, the port-less listener builds 0.0.0.0_9000 with its CIDR chain.
    expect(ask('"*/*"')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|9000||*.example.org', listener: '0.0.0.0_9000' });
  });
});

describe("an address listener's HTTP chain for a service the port-less egress listener brought", () => {
  // httproute.go getVirtualHostsForSniffedServicePort cuts route `<host>:<port>` from route `<port>`, whose virtual
  // hosts come from the egress listener with the port (sidecar.go GetEgressListenerForRDS); `~default/*` keeps the
  // entry of default off that listener, so the route has no virtual host and Envoy answers 404.
  const r = (portHosts: string) =>
    loadYamlText(
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [api.example.net]
  ports: [{number: 5432, name: p5432}]
  resolution: DNS
  addresses: [198.51.100.7]
  endpoints: [{address: 192.0.2.50}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: default}
spec:
  egress:
  - port: {number: 5432, name: egress-5432}
    bind: 0.0.0.0
    hosts: ${portHosts}
  - hosts: ["*/*"]
`,
      'se.yaml',
      emptyResources(),
    );
  const ask = (portHosts: string) =>
    expectProbe(
      r(portHosts),
      { from: { namespace: 'default' }, to: parseProbeUrl('http://198.51.100.7:5432/') },
      { istioVersion: V, policy: 'REGISTRY_ONLY' },
    );

  it('has no virtual host: Envoy answers 404 (corpus master-2026-08-27 s230-165#9)', () => {
    expect(ask('["*/*", "~default/*"]')).toMatchObject({
      verdict: 'blocked',
      cluster: '(no route)',
      listener: '198.51.100.7_5432',
      signal: 'http-404',
      rule: 'se.sniffed-route-no-virtual-host',
    });
  });
});
