// Rules the fuzzer (`egress-conformance fuzz`) found the oracle getting wrong against the real istiod.
// Each test names the Istio source the fix rests on and the shrunk fixture (fixtures/rules/fuzz-*.yaml)
// that found it; that fixture is also run on the lane by suites/rules.test.ts.
import { describe, expect, it } from 'vitest';
import { expectProbe } from './index.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import type { PolicyMode, ProbeSource, ResourceSet } from '../model/types.ts';
import { PINNED } from '../tools/versions.ts';

const V = PINNED.controlPlane.istioVersion;
const res = (yaml: string): ResourceSet => loadYamlText(yaml, 'test.yaml', emptyResources());
const probe = (r: ResourceSet, from: string, to: string, policy: PolicyMode, labels?: Record<string, string>) =>
  expectProbe(r, { from: { namespace: from, ...(labels ? { labels } : {}) }, to: parseProbeUrl(to) }, { istioVersion: V, policy });

describe('Sidecar selection (pilot/pkg/model/push_context.go initSidecarScopes, doGetSidecarScope)', () => {
  const emptySelector = (ns: string, name = 'a') => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${name}, namespace: ${ns}}
spec:
  workloadSelector: {labels: {}}
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
---
`;
  it('a root-namespace Sidecar with an empty workloadSelector is not the mesh default (fuzz-s1-1)', () => {
    // istiod tests `WorkloadSelector != nil`, not the number of labels.
    expect(probe(res(emptySelector('istio-system')), 'default', 'tcp://a.example.com:80', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
    });
  });

  it('an empty workloadSelector selects every workload of its own namespace, ahead of a selector-less Sidecar', () => {
    const nsWide = `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: b-wide, namespace: default}
spec:
  outboundTrafficPolicy: {mode: ALLOW_ANY}
---
`;
    const r = res(nsWide + emptySelector('default', 'z-empty'));
    expect(probe(r, 'default', 'tcp://a.example.com:80', 'ALLOW_ANY', { app: 'curl' })).toMatchObject({
      verdict: 'blocked',
      policy: 'REGISTRY_ONLY',
    });
    expect(probe(r, 'default', 'tcp://a.example.com:80', 'ALLOW_ANY')).toMatchObject({ verdict: 'blocked', policy: 'REGISTRY_ONLY' });
  });
});

describe('egressProxy (pilot/pkg/networking/core/listener_builder.go buildOutboundCatchAllNetworkFiltersOnly, httproute.go, route.GetDestinationCluster)', () => {
  const sidecarWith = (ep: string) => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: via-proxy, namespace: default}
spec:
  outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: ${ep}}
---
`;
  const proxySe = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: proxy, namespace: default}
spec: {hosts: [b.example.com], ports: [{number: 8080, name: http, protocol: HTTP}], resolution: DNS}
---
`;
  it('names the cluster outbound|port|subset|host, and a subset cluster without a DestinationRule does not exist: the call fails (fuzz seed 2)', () => {
    const r = res(proxySe + sidecarWith('{host: b.example.com, subset: v1, port: {number: 8080}}'));
    expect(probe(r, 'default', 'tcp://x.example.net:7000', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|8080|v1|b.example.com',
    });
  });

  it('an egressProxy whose service the workload cannot see names a cluster it does not have: the call fails (fuzz seed 2)', () => {
    const r = res(sidecarWith('{host: a.example.com, port: {number: 443}}'));
    expect(probe(r, 'default', 'tcp://x.example.net:7000', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|443||a.example.com',
    });
    expect(probe(r, 'default', 'http://x.example.net/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|443||a.example.com',
    });
  });

  it('with the service visible on that port the proxy takes the call', () => {
    const r = res(proxySe + sidecarWith('{host: b.example.com, port: {number: 8080}}'));
    expect(probe(r, 'default', 'tcp://x.example.net:7000', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|8080||b.example.com',
    });
    const otherPort = res(proxySe + sidecarWith('{host: b.example.com, port: {number: 3128}}'));
    expect(probe(otherPort, 'default', 'tcp://x.example.net:7000', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|3128||b.example.com',
    });
  });
});

// Found by Istio's own simulation tests translated into fixtures/rules/upstream-*.yaml.
describe('CIDR chains on a shared port (listener.go, FilterChainMatch prefix_ranges; upstream TestServiceEntry)', () => {
  const cidrSe = (name: string, host: string, cidr: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: default}
spec: {hosts: [${host}], addresses: ["${cidr}"], ports: [{number: 9998, name: tcp, protocol: TCP}]}
---
`;
  it('the longest matching prefix wins, whichever entry came first (upstream-serviceentry-cidr)', () => {
    const r = res(cidrSe('se3', 'wide.example.com', '10.30.0.0/16') + cidrSe('se4', 'narrow.example.com', '10.30.7.0/24'));
    expect(probe(r, 'default', 'tcp://10.30.7.7:9998', 'REGISTRY_ONLY').cluster).toBe('outbound|9998||narrow.example.com');
    expect(probe(r, 'default', 'tcp://10.30.1.1:9998', 'REGISTRY_ONLY').cluster).toBe('outbound|9998||wide.example.com');
  });
});

describe('the capture port (listener_builder.go blackholeFilterChain; upstream TestLoop)', () => {
  it('a call to port 15001 is blocked under any policy (upstream-loop)', () => {
    expect(probe(res(''), 'default', 'tcp://foo:15001', 'ALLOW_ANY')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
});

describe('resolution NONE entries that select workloads (listener.go buildSidecarOutboundListeners)', () => {
  const selecting = (ports: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec: {hosts: [a.example.com], ports: ${ports}, resolution: NONE, workloadSelector: {labels: {app: curl}}}
---
`;
  it('build no wildcard listener for a TCP port: without selected workloads there is nothing to bind (fuzz-s3-119)', () => {
    const r = res(selecting('[{number: 81, name: tcp, protocol: TCP}]'));
    expect(probe(r, 'default', 'tcp://a.example.com:81', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
      listener: 'virtualOutbound',
    });
    expect(probe(r, 'default', 'tcp://a.example.com:81', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
  });

  it('still route HTTP on their ports (HTTP listeners are built for every service)', () => {
    const r = res(selecting('[{number: 80, name: http, protocol: HTTP}]'));
    expect(probe(r, 'default', 'http://a.example.com/', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||a.example.com',
    });
  });
});

describe('clusters istiod does not build (cluster_builder.go buildCluster, serviceentry/conversion.go)', () => {
  it('a DNS entry with a workloadSelector and no endpoints has no cluster: its listener names it and the call fails (fuzz-s1-239)', () => {
    const r = res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec: {hosts: [a.example.com], ports: [{number: 80, name: tcp, protocol: TCP}], resolution: DNS, workloadSelector: {labels: {app: curl}}}
`);
    expect(probe(r, 'default', 'tcp://192.0.2.10:80', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|80||a.example.com',
    });
  });
});

describe('filter chain order on a wildcard listener (Envoy FilterChainMatch: prefix ranges before server names)', () => {
  const tlsCidr = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec: {hosts: [a.example.com], addresses: [192.0.2.0/28], ports: [{number: 443, name: tls, protocol: TLS}], resolution: NONE}
`;
  it('a TLS entry with a CIDR takes only TLS to that range with its SNI; anything else in the range gets the default chain (fuzz-s1-355, fuzz-s1-448)', () => {
    const r = res(tlsCidr);
    expect(probe(r, 'frontend', 'https://192.0.2.5:443/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
    });
    expect(probe(r, 'frontend', 'tcp://192.0.2.10:443', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
  });
});

describe('ports istiod does not share (listener.go isConflictWithWellKnownPort; sidecar.go appendSidecarServices)', () => {
  const se = (name: string, spec: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: default}
spec: ${spec}
---
`;
  it('a MySQL entry processed after another protocol on its port loses the port (fuzz-s12-306)', () => {
    const http = se(
      'b',
      '{hosts: [b.example.com], addresses: [192.0.2.10], ports: [{number: 443, name: p, protocol: GRPC-WEB}], resolution: STATIC, exportTo: [frontend]}',
    );
    const mysql = se(
      'a',
      '{hosts: ["*.wild.example.com"], ports: [{number: 443, name: p, protocol: MYSQL}], resolution: STATIC, endpoints: [{address: 10.1.2.3}]}',
    );
    expect(probe(res(http + mysql), 'frontend', 'tcp://x.wild.example.com:443', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
    // The same entry with TCP is merged into the sniffed listener instead.
    const tcp = mysql.replace('MYSQL', 'TCP');
    expect(probe(res(http + tcp), 'frontend', 'tcp://x.wild.example.com:443', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|443||*.wild.example.com',
    });
  });

  it('an entry without ports still owns its host name in its namespace (fuzz-s12-300)', () => {
    const portless = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec: {hosts: ["*.example.com"], resolution: NONE, exportTo: ["."]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend}
spec: {hosts: ["*.example.com"], addresses: [192.0.2.0/24], ports: [{number: 443, name: p, protocol: TCP}], resolution: STATIC, exportTo: [default, frontend]}
`;
    expect(probe(res(portless), 'default', 'tcp://192.0.2.5:443', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
    expect(probe(res(portless), 'frontend', 'tcp://192.0.2.5:443', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|443||*.example.com',
    });
  });
});

describe('address auto-allocation opt-out (serviceentry/ip_autoallocation.go)', () => {
  it('an entry labelled enable-autoallocate-ip "false" keeps the wildcard listener under DNS capture (fuzz-s5-559)', () => {
    const r = res(`
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec: {meshConfig: {defaultConfig: {proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}}}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default, labels: {networking.istio.io/enable-autoallocate-ip: "False"}}
spec: {hosts: [x.wild.example.com], ports: [{number: 5432, name: p, protocol: REDIS}], resolution: STATIC}
`);
    expect(probe(r, 'default', 'tcp://db.example.org:5432', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||x.wild.example.com',
      listener: '0.0.0.0_5432',
    });
  });
});

describe('Sidecar egress ports (listener.go buildSidecarOutboundListeners)', () => {
  it("a Sidecar egress listener's port protocol (unset: sniffed) builds the listener, and it always binds (fuzz-s2-301)", () => {
    const r = res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec: {hosts: [db.example.org], ports: [{number: 443, name: p, protocol: REDIS}], resolution: NONE, workloadSelector: {labels: {app: curl}}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: default}
spec: {workloadSelector: {labels: {app: curl}}, egress: [{port: {number: 443, name: e443}, hosts: ["./*"]}]}
`);
    expect(probe(r, 'default', 'https://b.example.com/', 'ALLOW_ANY', { app: 'curl' })).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|443||db.example.org',
    });
    expect(probe(r, 'default', 'tcp://b.example.com:443', 'ALLOW_ANY')).toMatchObject({
      cluster: 'PassthroughCluster',
      listener: 'virtualOutbound',
    });
  });
});

describe('HTTP routes of sniffed ports with CIDR addresses (httproute.go)', () => {
  it("the host keeps its virtual host on the port's HTTP chain (fuzz-s3-187)", () => {
    const r = res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec: {hosts: ["*.example.com"], addresses: [198.51.0.0/16], ports: [{number: 8080, name: p8080}], resolution: NONE}
`);
    expect(probe(r, 'default', 'http://y.wild.example.com:8080/', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|8080||*.example.com',
    });
    expect(probe(r, 'default', 'http://unlisted.example.net:8080/', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      signal: 'http-502',
    });
  });
});

describe('a UDP port of the service istiod keeps for a host (sidecar.go appendSidecarServices, cluster.go buildOutboundClusters)', () => {
  // The older entry keeps the host; a later one it cannot merge is dropped from SidecarScope.Services(), and a
  // mergeable one does not add a port number the kept service already has. buildOutboundClusters skips UDP ports,
  // so a UDP port number of the kept service leaves the later entry's TCP listener naming a cluster that is not
  // there. The same at both pinned builds.
  const entries = (bExtra: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: frontend, creationTimestamp: "2026-01-01T00:00:02Z"}
spec: {hosts: [a.example.com], ports: [{number: 5432, name: tcp-5432, protocol: TCP}], resolution: NONE}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: frontend, creationTimestamp: "2026-01-01T00:00:01Z"}
spec: {hosts: [a.example.com], ports: [{number: 443, name: port-443}, {number: 5432, name: udp-5432, protocol: UDP}], resolution: NONE${bExtra}}
`;
  it('gives the later entry no cluster on that port, merged or not: the TCP chain fails the call (fuzz-s1-146)', () => {
    for (const bExtra of [', exportTo: ["*"]', '']) {
      expect(probe(res(entries(bExtra)), 'default', 'tcp://a.example.com:5432', 'REGISTRY_ONLY')).toMatchObject({
        verdict: 'blocked',
        cluster: 'outbound|5432||a.example.com',
        signal: 'tcp-close',
        rule: 'se.unmerged-no-cluster',
      });
    }
  });

  it('without the UDP port the later entry keeps its cluster when it can be merged', () => {
    const r = res(entries('').replace(', {number: 5432, name: udp-5432, protocol: UDP}', ''));
    expect(probe(r, 'default', 'tcp://a.example.com:5432', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||a.example.com',
    });
  });
});

describe('an unset-protocol entry on a TCP entry’s address (listener.go buildSidecarOutboundListener, mergeTCPFilterChains)', () => {
  // Both entries bind 192.0.2.10_443. The one exported to `default` alone comes first there
  // (push_context.go servicesExportedToNamespace); the unset-protocol one meets its TCP listener (AutoOverTCP):
  // its match-all TCP chain conflicts and is dropped, its HTTP chain (ALPN-matched) is merged in, with route
  // `db.example.org:443` whose one virtual host takes any Host (httproute.go getVirtualHostsForSniffedServicePort).
  const r = (tcpProtocol: string) =>
    res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: default}
spec: {hosts: [db.example.org], ports: [{number: 443, name: port-443}], resolution: DNS_ROUND_ROBIN, addresses: [198.51.100.7, 192.0.2.10], endpoints: [{address: 192.0.2.50}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec: {hosts: [b.example.com], ports: [{number: 443, name: p-443, protocol: ${tcpProtocol}}], resolution: DNS, addresses: [192.0.2.10], endpoints: [{address: 10.1.2.3}], exportTo: [default]}
`);
  it('plain HTTP takes the later entry’s HTTP chain; other traffic keeps the TCP entry’s chain (fuzz-s1-212)', () => {
    expect(probe(r('TCP'), 'default', 'http://192.0.2.10:443/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|443||db.example.org',
      listener: '192.0.2.10_443',
      rule: 'se.http-route',
    });
    expect(probe(r('TCP'), 'default', 'tcp://192.0.2.10:443', 'ALLOW_ANY')).toMatchObject({
      cluster: 'outbound|443||b.example.com',
      listener: '192.0.2.10_443',
    });
  });

  it('a MySQL entry shares its port with no other protocol: no HTTP chain joins it (isConflictWithWellKnownPort)', () => {
    expect(probe(r('MYSQL'), 'default', 'http://192.0.2.10:443/', 'ALLOW_ANY')).toMatchObject({
      cluster: 'outbound|443||b.example.com',
      listener: '192.0.2.10_443',
    });
  });
});

describe('what the DNS proxy answers for a resolution-NONE entry that selects Pods (pkg/dns/server/name_table.go BuildNameTable)', () => {
  const dns = `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec: {meshConfig: {defaultConfig: {proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}}}}
---
`;
  const ask = (r: ResourceSet, from: ProbeSource, to: string, workloads: ProbeSource[]) =>
    expectProbe(r, { from, to: parseProbeUrl(to) }, { istioVersion: V, policy: 'ALLOW_ANY', workloads });

  it('an entry with UDP ports only still answers its host name, ahead of a wildcard entry above it (fuzz seed 1 path 346)', () => {
    // The table walks every service of the egress listeners, whatever its ports; the UDP-only entry builds no
    // listener, so the call to its address meets none: virtualOutbound.
    const r = res(`${dns}
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: istio-system}
spec: {hosts: ["*.wild.example.com", x.wild.example.com], ports: [{number: 9000, name: tls-9000, protocol: TLS}], resolution: NONE, workloadSelector: {labels: {}}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec: {hosts: [x.wild.example.com], ports: [{number: 80, name: udp-80, protocol: UDP}], resolution: DNS_ROUND_ROBIN, addresses: [198.51.100.7], endpoints: [{address: 10.1.2.3}]}
`);
    const curl = { namespace: 'default', labels: { app: 'curl' } };
    expect(ask(r, curl, 'https://x.wild.example.com:9000/', [curl])).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
      listener: 'virtualOutbound',
    });
    // A name only the wildcard entry answers resolves to its selected Pod (the egress gateway's), which has a listener.
    expect(ask(r, curl, 'https://deep.w.wild.example.com:9000/', [curl])).toMatchObject({ cluster: 'outbound|9000||*.wild.example.com' });
  });

  it("lists the selected Pods by name (serviceentry/conversion.go services): the namespace's plain client first, whose own address has no outbound listener (fuzz-s1-346)", () => {
    // listener.go buildSidecarOutboundListeners skips the instance at the node's own IP; the call to it takes 0.0.0.0_80.
    const r = res(`${dns}
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec: {hosts: [a.example.com], ports: [{number: 80, name: tls-80, protocol: TLS}], resolution: NONE, workloadSelector: {labels: {}}}
`);
    const plain = { namespace: 'default' };
    const curl = { namespace: 'default', labels: { app: 'curl' } };
    expect(ask(r, plain, 'http://a.example.com:80/', [plain, curl])).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
      listener: '0.0.0.0_80',
    });
    // From another Pod the first answer is the plain client's address, bound for the entry.
    expect(ask(r, curl, 'http://a.example.com:80/', [plain, curl])).toMatchObject({ cluster: 'outbound|80||a.example.com' });
  });
});

describe("an imported VirtualService's destinations join the Sidecar's services (pilot/pkg/model/sidecar.go collectImportedServices)", () => {
  const scenario = (egressHosts: string) =>
    res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: default}
spec:
  hosts: [b.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: default}
spec:
  workloadSelector: {labels: {app: curl}}
  egress: [{hosts: ["${egressHosts}"]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [b.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway, namespace: default}
spec:
  hosts: [b.example.com]
  gateways: [istio-system/gw, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [istio-system/gw], port: 80}]
    route: [{destination: {host: b.example.com, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: default}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: edition}]
`);
  const GW = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';

  it('a Sidecar importing ./* alone still has the egress gateway subset cluster its VirtualService routes to (fuzz seed 1 path 6)', () => {
    // "Infer more possible destinations from virtual services": the gateway's Service, in istio-system, which `./*`
    // does not import, is added as the destination of default/through-gateway, which `./*` does.
    const e = probe(scenario('./*'), 'default', 'http://b.example.com/', 'REGISTRY_ONLY', { app: 'curl' });
    expect(e).toMatchObject({ verdict: 'allowed', cluster: GW });
    expect(e.hops?.map((h) => h.cluster)).toEqual([GW, 'outbound|80||b.example.com']);
    expect(e.reason).toMatch(/joins Sidecar default\/a's services as a destination of VirtualService default\/through-gateway/);
  });

  it('a Sidecar that imports the VirtualService from no namespace has no route and no cluster through it', () => {
    const e = probe(scenario('payments/*'), 'default', 'http://b.example.com/', 'REGISTRY_ONLY', { app: 'curl' });
    expect(e.cluster).not.toBe(GW);
    expect(e.verdict).toBe('blocked');
  });
});

describe('an entry serviceEntryVisibility hides still joins its own namespace through a VirtualService (sidecar.go collectImportedServices)', () => {
  const r = (visibility: string) => {
    const x = res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: z, namespace: frontend}
spec:
  hosts: [db.example.org]
  ports: [{number: 80, name: http-80, protocol: HTTP}]
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes-0, namespace: payments}
spec:
  hosts: [db.example.org]
  http: [{route: [{destination: {host: db.example.org, port: {number: 80}}}]}]
`);
    x.mesh.meshConfig = { serviceEntryVisibility: { defaultVisibility: visibility, applyToSidecars: true } };
    return x;
  };

  it("the VirtualService's destination is taken from the proxy's own namespace without a visibility check (corpus s198-10#0)", () => {
    // byNamespace[configNamespace] is used as found; only other namespaces go through pickFirstVisibleNamespace.
    expect(probe(r('NONE'), 'frontend', 'http://db.example.org/', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||db.example.org',
    });
  });

  it('another namespace gets no cluster for the hidden entry: the call fails on the route', () => {
    expect(probe(r('NONE'), 'default', 'http://db.example.org/', 'REGISTRY_ONLY').verdict).toBe('blocked');
  });
});

describe('a Sidecar egress listener imports VirtualServices by its hosts (pilot/pkg/model/virtualservice.go SelectVirtualServices)', () => {
  // A VirtualService is taken when a host of it is imported by `<its namespace>/…` or `*/…` hosts of the listener
  // serving the port and not excluded by `~<its namespace>/…` or `~*/…` (sidecar.go hostClassification.Excluded).
  const scenario = (catchAllHosts: string) =>
    res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: frontend}
spec:
  hosts: [b.example.com]
  ports: [{number: 9000, name: grpc-9000, protocol: GRPC}]
  resolution: DNS_ROUND_ROBIN
  endpoints: [{address: 10.1.2.3}]
  location: MESH_EXTERNAL
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: z, namespace: default}
spec:
  egress:
  - port: {number: 443, name: egress-443}
    hosts: ["~/*", "*/*"]
  - hosts: ${catchAllHosts}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: default}
spec:
  hosts: [b.example.com]
  gateways: [mesh]
  http:
  - match: [{port: 9000}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 80}}}]
`);

  it('`~default/*` on the catch-all listener leaves the VirtualService of default out: the call goes straight to the entry (fixtures/rules/fuzz-s777-88.yaml)', () => {
    expect(probe(scenario('["*/*", "~default/*"]'), 'default', 'http://b.example.com:9000/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|9000||b.example.com',
    });
  });

  it('without the exclusion the VirtualService routes it to the egress gateway', () => {
    expect(probe(scenario('["*/*"]'), 'default', 'http://b.example.com:9000/', 'ALLOW_ANY')).toMatchObject({
      cluster: 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local',
    });
  });

  it('hosts of other namespaces only (`frontend/*`) do not import a VirtualService of default', () => {
    expect(probe(scenario('["frontend/*"]'), 'default', 'http://b.example.com:9000/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|9000||b.example.com',
    });
  });
});

describe('captureMode NONE listeners and captured calls (listener.go buildSidecarOutboundListeners)', () => {
  const scenario = (egress: string) =>
    res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec: {hosts: [a.example.com], ports: [{number: 80, name: tcp-80, protocol: TCP}], resolution: NONE, exportTo: [default]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: default}
spec: {egress: [${egress}]}
`);

  it('`bind: 0.0.0.0` keys the bound listener 0.0.0.0_80, which captured calls to the port reach (fixtures/rules/fuzz-s4321-42.yaml)', () => {
    const r = scenario('{bind: 0.0.0.0, captureMode: NONE, hosts: ["./*"]}');
    expect(probe(r, 'default', 'tcp://a.example.com:80', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||a.example.com',
      listener: '0.0.0.0_80',
    });
  });

  it('a bind of one address is reached by a call to that address only (checked on istiod eed52ebb66ad)', () => {
    const r = scenario('{bind: 192.0.2.10, captureMode: NONE, hosts: ["./*"]}');
    expect(probe(r, 'default', 'tcp://192.0.2.10:80', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||a.example.com',
      listener: '192.0.2.10_80',
    });
    expect(probe(r, 'default', 'tcp://a.example.com:80', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: 'virtualOutbound',
    });
  });

  it('without a bind, captureMode NONE binds 127.0.0.1_80, out of a captured call’s reach', () => {
    const r = scenario('{port: {number: 80, protocol: TCP, name: t}, captureMode: NONE, hosts: ["./*"]}');
    expect(probe(r, 'default', 'tcp://a.example.com:80', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: 'virtualOutbound',
    });
  });
});

describe('a CIDR prefix chain is a TCP chain (listener.go buildSidecarOutboundListener: only the TCP opts get the CIDR)', () => {
  const r = res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: frontend, creationTimestamp: "2026-01-01T00:00:02Z"}
spec:
  hosts: [b.example.com]
  ports: [{number: 5432, name: p5432, protocol: GRPC, targetPort: 8000}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}, {address: 10.1.2.3}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: istio-system, creationTimestamp: "2026-01-01T00:00:01Z"}
spec:
  hosts: [b.example.com]
  ports: [{number: 5432, name: p5432}]
  resolution: NONE
  addresses: [192.0.2.0/24, 192.0.2.0/28]
  location: MESH_INTERNAL
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway-0, namespace: frontend}
spec:
  hosts: [b.example.com]
  gateways: [mesh]
  http:
  - match: [{port: 5432}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 80}}}]
`);

  it('plain HTTP into the range takes the tcp_proxy chain of the CIDR entry; another entry of the host being GRPC brings no http route to it (fuzz --seed 6262 --path 23)', () => {
    expect(probe(r, 'default', 'http://192.0.2.255:5432/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||b.example.com',
      listener: '0.0.0.0_5432',
      rule: 'se.cidr-chain',
    });
  });
});

describe('an address listener of a sniffed service has an HTTP chain (listener.go buildSidecarOutboundListener, ListenerProtocolAuto)', () => {
  const r = res(`
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec: {meshConfig: {defaultConfig: {proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}}}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: payments}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: port-80}]
  resolution: DNS_ROUND_ROBIN
  workloadSelector: {labels: {}}
`);

  it('plain HTTP to the auto-allocated address meets the unbuilt cluster on route a.example.com:80: Envoy answers 503 (fixtures/rules/fuzz-s6262-160.yaml)', () => {
    expect(probe(r, 'default', 'http://a.example.com/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|80||a.example.com',
      signal: 'http-503',
      rule: 'se.dns-cluster-not-built',
    });
  });

  it('a TCP connection takes the TCP chain, whose tcp_proxy closes it', () => {
    expect(probe(r, 'default', 'tcp://a.example.com:80', 'ALLOW_ANY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'outbound|80||a.example.com',
      signal: 'tcp-close',
    });
  });
});

describe("an HTTP Sidecar egress port routes by the entry's own port protocol (httproute.go BuildSidecarOutboundVirtualHosts, route.go BuildSidecarVirtualHostWrapper)", () => {
  const scenario = (protocol: string, extra = '') =>
    res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: w, namespace: istio-system}
spec:
  hosts: ["*.example.com"]
  ports: [{number: 80, name: p-80${protocol ? `, protocol: ${protocol}` : ''}}]
  resolution: NONE
  workloadSelector: {labels: {}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: frontend}
spec: {egress: [{port: {number: 80, name: egress-80, protocol: HTTP}, hosts: ["istio-system/*"]}]}
${extra}`);

  it('a TCP entry gets the HTTP chain but no virtual host: route 80 answers from its catch-all (fixtures/rules/fuzz-s8888-38.yaml)', () => {
    const r = scenario('TCP');
    expect(probe(r, 'frontend', 'http://w.example.com:80/', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      listener: '0.0.0.0_80',
      signal: 'http-502',
    });
    expect(probe(r, 'frontend', 'http://w.example.com:80/', 'REGISTRY_ONLY').rules).toContain('se.http-no-virtual-host');
    expect(probe(r, 'frontend', 'http://w.example.com:80/', 'ALLOW_ANY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
      listener: '0.0.0.0_80',
    });
  });

  it.each(['TLS', 'HTTPS', 'MONGO'])('so does a %s entry', (protocol) => {
    expect(probe(scenario(protocol), 'frontend', 'http://w.example.com:80/', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
  });

  it.each(['', 'HTTP', 'GRPC'])('an entry whose own port is HTTP or unset (%s) keeps its virtual host', (protocol) => {
    expect(probe(scenario(protocol), 'frontend', 'http://w.example.com:80/', 'REGISTRY_ONLY')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||*.example.com',
      listener: '0.0.0.0_80',
    });
  });
});
