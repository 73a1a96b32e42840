// Tests aimed at expect.ts's own decisions (found by mutation testing: survivors of `npm run mutation -- --mutate
// helpers/oracle/expect.ts`). Each expectation rests on the Istio source named beside it; where only the reason or
// the rule ids can tell a decision apart, the test reads those, as the reports and the rule-coverage count do.
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import type { PolicyMode, ProbeSource, ResourceSet } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe, gateDependencies, type OracleOptions } from './expect.ts';

const V = PINNED.controlPlane.istioVersion;

const load = (...docs: string[]): ResourceSet => loadYamlText(docs.join('\n---\n'), 'expect-rules.yaml', emptyResources());
const se = (name: string, spec: string, ns = 'default', meta = '') => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ${ns}${meta}}
spec: ${spec}
`;
const sidecar = (spec: string, ns = 'default') => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: ${ns}}
spec: ${spec}
`;
const mesh = (meshConfig: string) => `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec: {meshConfig: ${meshConfig}}
`;
const DNS_CAPTURE = mesh('{defaultConfig: {proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}}}');

const ask = (
  r: ResourceSet,
  to: string,
  o: { policy?: PolicyMode; from?: ProbeSource; workloads?: ProbeSource[]; extra?: Partial<OracleOptions> } = {},
) =>
  expectProbe(
    r,
    { from: o.from ?? { namespace: 'default' }, to: parseProbeUrl(to) },
    {
      istioVersion: V,
      policy: o.policy ?? 'REGISTRY_ONLY',
      ...(o.workloads ? { workloads: o.workloads } : {}),
      ...o.extra,
    },
  );

describe('which version gates an answer depends on (expect.ts gateDependencies, gateCanMatter)', () => {
  const deps = (r: ResourceSet, to: string, opts: Partial<OracleOptions> & { from?: string } = {}) =>
    gateDependencies(r, { from: { namespace: opts.from ?? 'default' }, to: parseProbeUrl(to) }, { istioVersion: V, ...opts }).map(
      (d) => `${d.gate.id} ${d.open ? 'open' : 'shut'}: ${d.otherwise.verdict} ${d.otherwise.cluster}`,
    );

  it('ALLOW_ANY_DYNAMIC_DNS depends on the build implementing it', () => {
    // pilot/pkg/networking/util/util.go IsAllowAnyOutbound: before istio/istio#59802 only ALLOW_ANY allows, so the
    // catch-all of a build without the mode blocks; with it, plain HTTP to an unknown host goes to
    // AllowAnyDynamicDNSCluster.
    expect(deps(emptyResources(), 'http://unknown.example.com/', { istioVersion: '1.30.3', policy: 'ALLOW_ANY_DYNAMIC_DNS' })).toEqual([
      'allow-any-dynamic-dns shut: allowed AllowAnyDynamicDNSCluster',
    ]);
  });

  it('serviceEntryVisibility depends on the build having the mesh field', () => {
    // pilot/pkg/model/push_context.go serviceExportTo (istio/istio#60870): defaultVisibility NONE hides an entry
    // without exportTo from sidecars; a build without the field keeps it exported everywhere.
    const r = load(
      mesh('{serviceEntryVisibility: {applyToSidecars: true, defaultVisibility: NONE}}'),
      se('db', '{hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
    );
    expect(deps(r, 'tcp://db.example.com:5432', { istioVersion: '1.30.3', policy: 'REGISTRY_ONLY' })).toEqual([
      'service-entry-visibility shut: blocked BlackHoleCluster',
    ]);
  });

  it('a named defaultServiceExportTo depends on the build honouring the whole list', () => {
    // pilot/pkg/model/push_context.go serviceExportTo (istio/istio#60701): before the fix only "." and "*" of
    // defaultServiceExportTo counted, so an entry without exportTo was exported to no named namespace.
    const r = load(
      mesh('{defaultServiceExportTo: [frontend]}'),
      se('db', '{hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
    );
    expect(deps(r, 'tcp://db.example.com:5432', { from: 'frontend', policy: 'REGISTRY_ONLY' })).toEqual([
      'default-export-to open: blocked BlackHoleCluster',
    ]);
  });

  it('auto-allocation matters only to a sidecar that captures DNS, and then names the gate', () => {
    // model/service.go nodeUsesAutoallocatedIPs: only a DNS-capturing proxy uses the 240.240/16 address; without one
    // both address-less entries share 0.0.0.0_5432, whose match-all chain the first processed keeps (listener.go).
    const entries = [
      se('a', '{hosts: [a.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
      se('b', '{hosts: [b.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
    ];
    expect(deps(load(DNS_CAPTURE, ...entries), 'tcp://b.example.com:5432', { policy: 'REGISTRY_ONLY' })).toEqual([
      'dns-auto-allocation open: allowed outbound|5432||a.example.com',
    ]);
    expect(deps(load(...entries), 'tcp://b.example.com:5432', { policy: 'REGISTRY_ONLY' })).toEqual([]);
  });

  it('a gate the question already forces is not flipped again', () => {
    expect(
      deps(emptyResources(), 'http://unknown.example.com/', {
        istioVersion: '1.30.3',
        policy: 'ALLOW_ANY_DYNAMIC_DNS',
        gates: { 'allow-any-dynamic-dns': false },
      }),
    ).toEqual([]);
  });

  it('the reason names the dependency unless the caller asks for the bare answer', () => {
    const r = load(
      mesh('{defaultServiceExportTo: [frontend]}'),
      se('db', '{hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
    );
    const from = { namespace: 'frontend' };
    expect(ask(r, 'tcp://db.example.com:5432', { from }).reason).toMatch(
      /depends on version gate default-export-to \(since 1\.30\.3, .*\): Istio .* has it; without it: blocked BlackHoleCluster$/,
    );
    expect(ask(r, 'tcp://db.example.com:5432', { from, extra: { explainGates: false } }).reason).not.toContain('version gate');
  });
});

describe("the sidecar's own capture ports (model/context.go conflictWithReservedListener)", () => {
  // conflictWithReservedListener: a listener that binds the wildcard (a bind equal to it, or no bind and an HTTP
  // protocol) may not take push.Mesh.ProxyListenPort or ProxyInboundListenPort; a bind of another address never
  // conflicts; listener.go buildSidecarOutboundListeners skips what CanBindToPort refuses.
  const tcp15006 = se('r', '{hosts: [r.example.com], ports: [{number: 15006, name: tcp, protocol: TCP}], resolution: DNS}');
  const egress15006 = (extra: string) => sidecar(`{egress: [{port: {number: 15006, protocol: TCP, name: t}, ${extra}, hosts: ["*/*"]}]}`);

  it('a TCP port bound to 0.0.0.0 conflicts: no listener, and the reason says which capture port', () => {
    const e = ask(load(tcp15006, egress15006('bind: 0.0.0.0')), 'tcp://0.0.0.0:15006');
    expect(e).toMatchObject({ verdict: 'blocked', listener: 'virtualOutbound' });
    expect(e.reason).toContain("ServiceEntry default/r port 15006 is an HTTP port on the sidecar's own inbound capture port");
  });

  it('a TCP port bound to another address does not', () => {
    expect(ask(load(tcp15006, egress15006('bind: 127.0.0.1')), 'tcp://127.0.0.1:15006')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|15006||r.example.com',
      listener: '127.0.0.1_15006',
    });
  });

  it('captureMode NONE without a bind binds 127.0.0.1, which does not conflict even for HTTP', () => {
    // listener.go buildSidecarOutboundListeners: captureMode NONE without a bind takes the proxy's loopback.
    const r = load(
      se('r', '{hosts: [r.example.com], ports: [{number: 15006, name: http, protocol: HTTP}], resolution: DNS}'),
      sidecar('{egress: [{port: {number: 15006, protocol: HTTP, name: h}, captureMode: NONE, hosts: ["*/*"]}]}'),
    );
    const e = ask(r, 'http://127.0.0.1:15006/');
    expect(e.listener).toBe('127.0.0.1_15006');
    expect(e.reason).not.toContain('capture port');
  });

  it('the capture ports are the mesh config ones: 15006 is free once proxyInboundListenPort moves', () => {
    const r = load(
      mesh('{proxyListenPort: 16001, proxyInboundListenPort: 16006}'),
      se(
        'r',
        '{hosts: [r.example.com], ports: [{number: 15006, name: http-a, protocol: HTTP}, {number: 16006, name: http-b, protocol: HTTP}, {number: 16001, name: http-c, protocol: HTTP}], resolution: DNS}',
      ),
    );
    expect(ask(r, 'http://r.example.com:15006/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|15006||r.example.com' });
    const inbound = ask(r, 'http://r.example.com:16006/');
    expect(inbound).toMatchObject({ verdict: 'blocked', listener: 'virtualOutbound' });
    expect(inbound.reason).toContain("port 16006 is an HTTP port on the sidecar's own inbound capture port");
    expect(ask(r, 'http://r.example.com:16001/').reason).toContain("port 16001 is an HTTP port on the sidecar's own outbound capture port");
  });

  it('a capture port of 0 in the mesh config is unset: the defaults stay reserved', () => {
    // pkg/config/mesh/mesh.go ApplyMeshConfig merges the YAML onto DefaultMeshConfig; a proto3 zero is no value.
    const r = load(
      mesh('{proxyListenPort: 0, proxyInboundListenPort: 0}'),
      se('r', '{hosts: [r.example.com], ports: [{number: 15006, name: http, protocol: HTTP}], resolution: DNS}'),
    );
    expect(ask(r, 'http://r.example.com:15006/')).toMatchObject({ verdict: 'blocked', listener: 'virtualOutbound' });
  });

  it('says nothing of the capture port when the probe is on another port or names another entry', () => {
    const r = load(
      se(
        'r',
        '{hosts: [r.example.com], ports: [{number: 15006, name: http, protocol: HTTP}, {number: 80, name: h80, protocol: HTTP}], resolution: DNS}',
      ),
      se('o', '{hosts: [o.example.com], ports: [{number: 7000, name: tcp, protocol: TCP}], resolution: DNS}'),
    );
    expect(ask(r, 'http://r.example.com/').reason).not.toContain('capture port');
    expect(ask(r, 'tcp://o.example.com:7000').reason).not.toContain('capture port');
  });
});

describe('what the reason and the rule ids say of visibility and imports (expect.ts visiblePorts)', () => {
  const db = (extra = '') =>
    se('db', `{hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS${extra}}`);

  it('an entry exportTo hides is named, and export.hidden counted, only when it bears on the probe', () => {
    // push_context.go initServiceRegistry: exportTo ["."] keeps the entry in its own namespace.
    const r = load(db(', exportTo: ["."]'));
    const near = ask(r, 'tcp://db.example.com:5432', { from: { namespace: 'frontend' } });
    expect(near).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(near.reason).toContain('not visible from frontend');
    expect(near.rules).toContain('export.hidden');
    const far = ask(r, 'tcp://other.example.com:7000', { from: { namespace: 'frontend' } });
    expect(far.reason).not.toContain('not visible');
    expect(far.rules).not.toContain('export.hidden');
  });

  it('an entry a Sidecar does not import is named with import.not-imported; one of another port is not counted', () => {
    // sidecar.go: only the egress hosts' services are imported.
    const r = load(
      db(),
      se('web', '{hosts: [web.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}'),
      sidecar('{egress: [{hosts: ["./web.example.com"]}]}'),
    );
    const e = ask(r, 'tcp://db.example.com:5432');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(e.rules).toContain('import.not-imported');
    expect(ask(r, 'tcp://other.example.com:5433').rules).not.toContain('import.not-imported');
  });

  it("the import note is the probe port's, not the first port's", () => {
    // A Sidecar egress listener with a port decides that port's imports (sidecar.go serviceMatchingListenerPort).
    const r = load(
      se(
        'db',
        '{hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}, {number: 5433, name: tcp2, protocol: TCP}], resolution: DNS}',
      ),
      sidecar('{egress: [{port: {number: 5433, protocol: TCP, name: t}, hosts: ["./db.example.com"]}, {hosts: ["./db.example.com"]}]}'),
    );
    const e = ask(r, 'tcp://db.example.com:5433');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5433||db.example.com' });
    expect(e.rules).toContain('import.port-listener');
    expect(ask(r, 'tcp://db.example.com:5432').rules).not.toContain('import.port-listener');
  });

  it('an entry with only UDP ports, or none, builds no listener and says so', () => {
    // listener.go buildSidecarOutboundListeners builds no listener for a UDP port; an entry without ports has none.
    const udp = load(se('dns', '{hosts: [db.example.com], ports: [{number: 5432, name: udp, protocol: UDP}], resolution: DNS}'));
    const e = ask(udp, 'tcp://db.example.com:5432');
    expect(e).toMatchObject({ verdict: 'blocked', listener: 'virtualOutbound' });
    expect(e.reason).toContain('it declares only UDP ports, which get no listener');
    const none = load(se('bare', '{hosts: [db.example.com], resolution: DNS}'));
    expect(ask(none, 'tcp://db.example.com:5432').reason).toContain('it declares no port');
  });
});

describe('what a Sidecar egress bind does to the probe port, said aloud (expect.ts bindNotes)', () => {
  // listener.go buildSidecarOutboundListeners keys every listener of a bound egress listener `<bind>_<port>` and
  // gives the service's own addresses none; captureMode NONE binds a real socket (bindToPort), 127.0.0.1 when no
  // bind is given. Envoy hands a captured call to the listener of its original destination, or the port's wildcard.
  const db = se(
    'db',
    '{hosts: [db.example.com], addresses: [192.0.2.7], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: STATIC, endpoints: [{address: 192.0.2.8}]}',
  );
  const web = se('web', '{hosts: [web.example.com], ports: [{number: 8080, name: any}], resolution: DNS}');
  const withEgress = (egress: string) => load(db, web, sidecar(`{egress: [${egress}]}`));

  it("a plain bind: the entry's own address gets no listener, and the call must dial the bind", () => {
    const r = withEgress('{port: {number: 5432, protocol: TCP, name: t}, bind: 192.0.2.50, hosts: ["*/*"]}');
    const byAddress = ask(r, 'tcp://192.0.2.7:5432');
    expect(byAddress).toMatchObject({ verdict: 'blocked', listener: 'virtualOutbound' });
    expect(byAddress.reason).toContain('binds its port 5432 services on 192.0.2.50_5432: their own addresses get no listener');
    expect(ask(r, 'tcp://192.0.2.50:5432')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.com' });
  });

  it('a bind whose services have no address of their own says only where it binds', () => {
    const e = ask(withEgress('{port: {number: 8080, name: u}, bind: 192.0.2.50, hosts: ["*/*"]}'), 'tcp://192.0.2.50:8080');
    expect(e.listener).toBe('192.0.2.50_8080');
    expect(e.reason).toContain('binds its port 8080 services on 192.0.2.50_8080');
    expect(e.reason).not.toContain('their own addresses get no listener');
  });

  it("captureMode NONE on 127.0.0.1 is out of a captured call's reach; on 0.0.0.0 it takes them", () => {
    const loop = ask(
      withEgress('{port: {number: 5432, protocol: TCP, name: t}, captureMode: NONE, hosts: ["*/*"]}'),
      'tcp://192.0.2.7:5432',
    );
    expect(loop.listener).toBe('virtualOutbound');
    expect(loop.reason).toContain('to a socket on 127.0.0.1_5432, which a captured call reaches only by dialling that address');
    const any = ask(
      withEgress('{port: {number: 5432, protocol: TCP, name: t}, captureMode: NONE, bind: 0.0.0.0, hosts: ["*/*"]}'),
      'tcp://192.0.2.7:5432',
    );
    expect(any).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.com', listener: '0.0.0.0_5432' });
    expect(any.reason).toContain('to a socket on 0.0.0.0_5432, which also takes captured calls to the port');
  });

  it("a bind of another port is not the probe's business", () => {
    const e = ask(
      withEgress('{port: {number: 8080, name: u}, bind: 192.0.2.50, hosts: ["*/*"]}, {hosts: ["*/*"]}'),
      'tcp://192.0.2.7:5432',
    );
    expect(e).toMatchObject({ verdict: 'allowed', listener: '192.0.2.7_5432' });
    expect(e.reason).not.toContain('Sidecar egress listener');
  });

  it('HTTP chains on a bound address are not modelled for a sniffed port, but a TCP port there is', () => {
    // listener.go / httproute.go give HTTP on a bind other than 0.0.0.0 no ALPN match and sniffed services a
    // route of their own, which the model does not build; a plain TCP chain is the same on any bind.
    const sniffed = ask(withEgress('{port: {number: 8080, name: u}, bind: 127.0.0.1, hosts: ["*/*"]}'), 'tcp://127.0.0.1:8080');
    expect(sniffed.reason).toContain('not modelled: HTTP chains on a Sidecar egress bind other than 0.0.0.0 (127.0.0.1_8080)');
    const tcp = ask(withEgress('{port: {number: 5432, protocol: TCP, name: t}, bind: 127.0.0.1, hosts: ["*/*"]}'), 'tcp://127.0.0.1:5432');
    expect(tcp).toMatchObject({ verdict: 'allowed', listener: '127.0.0.1_5432' });
    expect(tcp.reason).not.toContain('not modelled');
  });
});

describe('auto-allocated addresses and the DNS proxy (expect.ts autoAllocates, autoAddress, destinationAddress)', () => {
  const tcp = (name: string, spec: string, meta = '') =>
    se(name, `{${spec}, ports: [{number: 5432, name: tcp, protocol: TCP}]}`, 'default', meta);

  it("each host of each of the scenario's entries gets an address of its own, the cluster's Services not counted", () => {
    // ipallocate.go gives every host of an entry without addresses its own 240.240/16 address; the exact value is
    // istiod's (the referee compares such listeners by port): the model numbers entries and hosts from 1.
    const r = load(
      DNS_CAPTURE,
      tcp('a', 'hosts: [a.example.com], resolution: DNS'),
      se('b', '{hosts: [b1.example.com, b2.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}'),
    );
    expect(ask(r, 'https://b2.example.com/')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|443||b2.example.com',
      listener: '240.240.2.2_443',
    });
    expect(ask(r, 'tcp://a.example.com:5432').listener).toBe('240.240.1.1_5432');
  });

  it('no address for an entry that has one, a resolution-NONE entry, or a wildcard host under DNS', () => {
    // ipallocate.go keepHost: resolution NONE and wildcard hosts (but under DYNAMIC_DNS) get none.
    const r = load(
      DNS_CAPTURE,
      tcp('fixed', 'hosts: [fixed.example.com], addresses: [192.0.2.30], resolution: DNS'),
      tcp('none', 'hosts: [none.example.com], resolution: NONE'),
      se(
        'wild',
        '{hosts: ["*.wild.example.com"], ports: [{number: 6000, name: tcp, protocol: TCP}], resolution: DNS, endpoints: [{address: backend.example.com}]}',
      ),
    );
    const fixed = ask(r, 'tcp://fixed.example.com:5432');
    expect(fixed).toMatchObject({ verdict: 'allowed', listener: '192.0.2.30_5432' });
    // A host the DNS proxy answers with its entry's own address: the call lands on that address's listener.
    expect(fixed.rules).toContain('dns.capture-address');
    expect(ask(r, 'tcp://192.0.2.30:5432').rules).not.toContain('dns.capture-address');
    expect(ask(r, 'tcp://none.example.com:5432').listener).toBe('0.0.0.0_5432');
    expect(ask(r, 'tcp://a.wild.example.com:6000').listener).toBe('0.0.0.0_6000');
  });

  it('an auto-allocated address is not counted as a DNS answer of a declared address', () => {
    const e = ask(load(DNS_CAPTURE, tcp('a', 'hosts: [a.example.com], resolution: DNS')), 'tcp://a.example.com:5432');
    expect(e.listener).toBe('240.240.1.1_5432');
    expect(e.rules).not.toContain('dns.capture-address');
  });

  it('the opt-out label keeps an entry off auto-allocation, in any case, and is counted only with DNS capture', () => {
    // serviceentry/ip_autoallocation.go shouldV2AutoAllocateIPFromPieces: the label's value compared without case.
    const optOut = (value: string) =>
      tcp('a', 'hosts: [a.example.com], resolution: DNS', `, labels: {networking.istio.io/enable-autoallocate-ip: "${value}"}`);
    const out = ask(load(DNS_CAPTURE, optOut('False')), 'tcp://a.example.com:5432');
    expect(out.listener).toBe('0.0.0.0_5432');
    expect(out.rules).toContain('se.auto-allocate-opt-out');
    expect(ask(load(DNS_CAPTURE, optOut('true')), 'tcp://a.example.com:5432').listener).toBe('240.240.1.1_5432');
    expect(ask(load(optOut('false')), 'tcp://a.example.com:5432').rules).not.toContain('se.auto-allocate-opt-out');
    expect(ask(load(DNS_CAPTURE, optOut('false')), 'tcp://other.example.com:7000').rules).not.toContain('se.auto-allocate-opt-out');
  });

  it('a name with a declared CIDR only is not answered by the DNS proxy', () => {
    // pkg/dns/server/name_table.go: only addresses (not ranges) answer a name.
    const r = load(DNS_CAPTURE, tcp('net', 'hosts: [net.example.com], addresses: [192.0.2.0/24], resolution: NONE'));
    const e = ask(r, 'tcp://net.example.com:5432');
    expect(e.rules).not.toContain('dns.capture-address');
  });
});

describe('conflicts, per-instance ports and HTTP_PROXY chains, said aloud (expect.ts expectAt)', () => {
  it('an entry that lost the match-all chain of a shared wildcard listener is named', () => {
    // listener.go buildSidecarOutboundListener: two address-less TCP entries on a port share 0.0.0.0_<port>, the
    // first processed keeps the match-all chain.
    const r = load(
      se('a', '{hosts: [a.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
      se('b', '{hosts: [b.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
    );
    const e = ask(r, 'tcp://b.example.com:5432');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||a.example.com' });
    expect(e.reason).toContain("on 0.0.0.0_5432 default/b (b.example.com) lost the port's match-all chain to an entry processed earlier");
    expect(ask(r, 'tcp://c.example.com:7000').reason).not.toContain('lost the port');
  });

  it('a resolution-NONE entry whose only instances are host names binds nothing, and says so', () => {
    // conversion.go mergeServicesInstancesByNamespaceHost gives the NONE entry the DNS entry's instance (its host
    // name); listener.go binds per instance and skips one without an IP. Corpus master-2026-08-27 s231-105.
    const r = load(
      se(
        'n',
        '{hosts: [backend.example.com], ports: [{number: 7000, name: tcp, protocol: TCP}], resolution: NONE}',
        'default',
        ', creationTimestamp: "2026-01-01T00:00:00Z"',
      ),
      se(
        'd',
        '{hosts: [backend.example.com], ports: [{number: 7000, name: tcp, protocol: TCP}], resolution: DNS}',
        'default',
        ', creationTimestamp: "2026-01-02T00:00:00Z"',
      ),
    );
    const e = ask(r, 'tcp://backend.example.com:7000');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|7000||backend.example.com', listener: '0.0.0.0_7000' });
    expect(e.reason).toContain(
      "ServiceEntry default/n (backend.example.com) binds port 7000 per instance, and the instances istiod holds for default/backend.example.com, other entries' included, have no IP address: no listener",
    );
    expect(e.rules).toContain('listener.instances-only');
    const elsewhere = ask(r, 'tcp://other.example.com:7001');
    expect(elsewhere.reason).not.toContain('per instance');
    expect(elsewhere.rules).not.toContain('listener.instances-only');
  });

  it('a non-HTTP call on an HTTP_PROXY port is not modelled; plain HTTP there is', () => {
    // listener.go buildSidecarOutboundListener: an HTTP_PROXY port's HTTP chain has no ALPN match, so TLS or raw
    // bytes reach an HTTP connection manager, whose answer the model does not derive.
    const r = load(sidecar('{egress: [{port: {number: 3128, protocol: HTTP_PROXY, name: p}, hosts: ["*/*"]}, {hosts: ["*/*"]}]}'));
    for (const to of ['https://x.example.com:3128/', 'tcp://x.example.com:3128']) {
      const e = ask(r, to, { policy: 'ALLOW_ANY' });
      expect(e.reason).toContain('not modelled: a non-HTTP call on 0.0.0.0_3128');
      expect(e.notModelled).toEqual(['a non-HTTP call on an HTTP_PROXY port (an HTTP connection manager takes it)']);
    }
    const http = ask(r, 'http://x.example.com:3128/', { policy: 'ALLOW_ANY' });
    expect(http).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster', listener: '0.0.0.0_3128' });
    expect(http.notModelled).toBeUndefined();
    expect(ask(r, 'tcp://x.example.com:7000', { policy: 'ALLOW_ANY' }).notModelled).toBeUndefined();
  });

  it('upper-case host names are flagged as not modelled, in the reason and the list', () => {
    // pkg/config/labels dns1123LabelFmt admits upper case; whether istiod and Envoy then ignore case is not modelled.
    const r = load(se('db', '{hosts: [DB.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'));
    const e = ask(r, 'tcp://DB.example.com:5432');
    expect(e.reason).toMatch(/; not modelled: upper-case letters in host names/);
    expect(e.notModelled).toEqual(['upper-case letters in host names (the model compares host names as written, case included)']);
    expect(ask(emptyResources(), 'tcp://lower.example.com:5432').notModelled).toBeUndefined();
  });
});

describe("whether the workload has its egressProxy's cluster (expect.ts missingCluster)", () => {
  // cluster_builder.go buildOutboundClusters builds a cluster for every non-UDP port of each service in
  // SidecarScope.Services(), one service per host name (sidecar.go selectServices: the workload's own namespace
  // first); listener_builder.go names outbound|port||host on the catch-all whether or not that cluster exists.
  const viaProxy = (extra = '') =>
    sidecar(`{outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: proxy.example.com, port: {number: 3128}}}${extra}}`);
  const proxy = (ports: string, ns = 'default', extra = '') =>
    se('p', `{hosts: [proxy.example.com], ports: ${ports}, resolution: DNS${extra}}`, ns);
  const TCP = '[{number: 3128, name: tcp, protocol: TCP}]';
  const through = (r: ResourceSet, workloads?: ProbeSource[]) =>
    ask(r, 'tcp://x.example.com:7000', { policy: 'ALLOW_ANY', ...(workloads ? { workloads } : {}) });

  it('a TCP port of a visible entry builds it: the call goes to the proxy', () => {
    expect(through(load(viaProxy(), proxy(TCP)))).toMatchObject({ verdict: 'allowed', cluster: 'outbound|3128||proxy.example.com' });
  });

  it('a UDP port builds none', () => {
    const e = through(load(viaProxy(), proxy('[{number: 3128, name: udp, protocol: UDP}, {number: 3129, name: tcp, protocol: TCP}]')));
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|3128||proxy.example.com' });
    expect(e.reason).toContain('proxy.example.com has no port 3128');
  });

  it('an entry with only UDP ports is no service of the host for the cluster', () => {
    const e = through(load(viaProxy(), proxy('[{number: 3128, name: udp, protocol: UDP}]')));
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|3128||proxy.example.com' });
    expect(e.reason).toContain('no ServiceEntry or Service visible from default and imported declares proxy.example.com');
  });

  it('an entry exported elsewhere does not build it', () => {
    const e = through(load(viaProxy(), proxy(TCP, 'default', ', exportTo: [frontend]')));
    expect(e.verdict).toBe('blocked');
    expect(e.reason).toContain('no ServiceEntry or Service visible from default and imported declares proxy.example.com');
  });

  it("an entry the Sidecar's egress hosts leave out does not build it", () => {
    const e = through(load(viaProxy(', egress: [{hosts: ["./web.example.com"]}]'), proxy(TCP)));
    expect(e.verdict).toBe('blocked');
    expect(e.reason).toContain('and imported declares proxy.example.com');
  });

  it("the workload's own namespace's entry is the host's service, even without the port", () => {
    const r = load(viaProxy(), proxy('[{number: 8080, name: tcp, protocol: TCP}]'), proxy(TCP, 'frontend'));
    const e = through(r);
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|3128||proxy.example.com' });
    expect(e.reason).toContain('proxy.example.com has no port 3128');
    // Without an entry of its own, another namespace's is the host's service.
    expect(through(load(viaProxy(), proxy(TCP, 'frontend')))).toMatchObject({ verdict: 'allowed' });
  });

  it('a port-less entry of the own namespace still owns the host name', () => {
    // sidecar.go appendSidecarServices works on services, ports or not.
    const r = load(viaProxy(), se('p', '{hosts: [proxy.example.com], resolution: DNS}'), proxy(TCP, 'frontend'));
    expect(through(r)).toMatchObject({ verdict: 'blocked', cluster: 'outbound|3128||proxy.example.com' });
  });

  it('a DNS entry whose workloadSelector matches no Pod has no endpoints, so no cluster; one that matches has', () => {
    // cluster_builder.go buildCluster skips a DNS cluster without endpoints (conversion.go: the selected Pods).
    const r = load(viaProxy(), proxy(TCP, 'default', ', workloadSelector: {labels: {app: proxy}}'));
    const none = through(r);
    expect(none.verdict).toBe('blocked');
    expect(none.reason).toContain('proxy.example.com is a DNS entry without endpoints');
    expect(through(r, [{ namespace: 'default', labels: { app: 'proxy' } }])).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|3128||proxy.example.com',
    });
  });

  it('a subset is refused: this project never applies the DestinationRule it needs', () => {
    const r = load(
      sidecar('{outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: proxy.example.com, subset: v1, port: {number: 3128}}}}'),
      proxy(TCP),
    );
    const e = through(r);
    expect(e).toMatchObject({ verdict: 'blocked', cluster: 'outbound|3128|v1|proxy.example.com' });
    expect(e.reason).toContain('subset v1 needs a DestinationRule');
  });
});

describe('an HTTP_PROXY port with chains more specific than its HTTP chain (expect.ts expectAt proxyNote)', () => {
  // Envoy picks the most specific FilterChainMatch: a prefix range or a server name beats the HTTP_PROXY port's
  // match-all HTTP chain (listener.go gives it no ALPN match), so those calls never meet its connection manager.
  const r = load(
    se('a', '{hosts: [a-proxy.example.com], ports: [{number: 3128, name: p, protocol: HTTP_PROXY}], resolution: DNS}'),
    se('c', '{hosts: [c.example.com], addresses: [192.0.2.0/24], ports: [{number: 3128, name: tcp, protocol: TCP}], resolution: NONE}'),
    se('t', '{hosts: [t.example.com], ports: [{number: 3128, name: tls, protocol: TLS}], resolution: DNS}'),
  );

  it('TLS with a known SNI takes its chain, modelled', () => {
    const e = ask(r, 'https://t.example.com:3128/', { policy: 'ALLOW_ANY' });
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|3128||t.example.com', rule: 'se.sni-chain' });
    expect(e.notModelled).toBeUndefined();
  });

  it("a destination inside an entry's CIDR takes its chain, modelled", () => {
    const e = ask(r, 'tcp://192.0.2.5:3128', { policy: 'ALLOW_ANY' });
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|3128||c.example.com', rule: 'se.cidr-chain' });
    expect(e.notModelled).toBeUndefined();
  });

  it('anything else meets the HTTP connection manager: not modelled', () => {
    expect(ask(r, 'tcp://203.0.113.1:3128', { policy: 'ALLOW_ANY' }).notModelled).toHaveLength(1);
  });
});

describe('which entries bear on the probe (expect.ts relevant)', () => {
  const r = load(
    se('db', '{hosts: ["*.db.example.com"], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: NONE, exportTo: ["."]}'),
  );
  const from = { namespace: 'frontend' };

  it('one whose host covers the probe host, on any port', () => {
    expect(ask(r, 'tcp://eu.db.example.com:7000', { from }).rules).toContain('export.hidden');
  });

  it('one with the probe port, for any host', () => {
    expect(ask(r, 'tcp://other.example.com:5432', { from }).rules).toContain('export.hidden');
  });

  it('not one that shares neither', () => {
    expect(ask(r, 'tcp://other.example.com:7000', { from }).rules).not.toContain('export.hidden');
  });
});

describe('a resolution-NONE entry selecting no Pod says nothing of instances without an IP', () => {
  it('its selector, not an instance list, is why it binds nothing (listener.go: no selected workload, no listener)', () => {
    const r = load(
      se(
        'a',
        '{hosts: [a.example.com], ports: [{number: 81, name: tcp, protocol: TCP}], resolution: NONE, workloadSelector: {labels: {app: curl}}}',
      ),
    );
    const e = ask(r, 'tcp://a.example.com:81', { policy: 'ALLOW_ANY' });
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster', listener: 'virtualOutbound' });
    expect(e.reason).not.toContain('per instance');
    expect(e.rules).toContain('listener.instances-only');
  });
});

describe("the instances istiod holds for a resolution-NONE entry's host (expect.ts instanceAddresses)", () => {
  // serviceentry/conversion.go mergeServicesInstancesByNamespaceHost merges the instances of every entry of one
  // namespace and host, oldest first (controller.go sortServicesByCreationTime), and skips a DNS_ROUND_ROBIN
  // instance on a port that already has one; listener.go then binds the address-less NONE entry's non-HTTP port
  // once per instance IP.
  const entry = (name: string, created: string, spec: string, ns = 'default') =>
    se(
      name,
      `{hosts: [backend.example.com], ports: [{number: 7000, name: tcp, protocol: TCP}], ${spec}}`,
      ns,
      `, creationTimestamp: "${created}"`,
    );
  const none = entry('n', '2026-01-01T00:00:00Z', 'resolution: NONE');
  const statics = entry(
    's',
    '2026-01-02T00:00:00Z',
    'addresses: [192.0.2.50], resolution: STATIC, endpoints: [{address: 192.0.2.9}, {address: 192.0.2.10}]',
  );
  const rr = (created: string) =>
    entry('r', created, 'addresses: [192.0.2.51], resolution: DNS_ROUND_ROBIN, endpoints: [{address: 192.0.2.11}]');
  const at = (r: ResourceSet, to: string) => ask(r, to).listener;

  it("another entry's endpoints of the same namespace, host and port are the NONE entry's instances, each bound", () => {
    const r = load(none, statics);
    expect(at(r, 'tcp://192.0.2.9:7000')).toBe('192.0.2.9_7000');
    expect(ask(r, 'tcp://192.0.2.10:7000')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|7000||backend.example.com',
      listener: '192.0.2.10_7000',
    });
  });

  it('a DNS_ROUND_ROBIN entry adds its endpoint only to a port without one yet', () => {
    expect(at(load(none, statics, rr('2026-01-03T00:00:00Z')), 'tcp://192.0.2.11:7000')).toBe('virtualOutbound');
    expect(at(load(none, statics, rr('2025-12-31T00:00:00Z')), 'tcp://192.0.2.11:7000')).toBe('192.0.2.11_7000');
  });

  it("another namespace's entry, or one without the port, gives none: the entry, without instances, takes the port's wildcard", () => {
    const otherNs = entry(
      's',
      '2026-01-02T00:00:00Z',
      'addresses: [192.0.2.50], resolution: STATIC, endpoints: [{address: 192.0.2.9}]',
      'payments',
    );
    expect(at(load(none, otherNs), 'tcp://192.0.2.9:7000')).toBe('0.0.0.0_7000');
    const otherPort = se(
      's',
      '{hosts: [backend.example.com], addresses: [192.0.2.50], ports: [{number: 7001, name: tcp, protocol: TCP}], resolution: STATIC, endpoints: [{address: 192.0.2.9}]}',
    );
    expect(at(load(none, otherPort), 'tcp://192.0.2.9:7000')).toBe('0.0.0.0_7000');
  });

  it('the DNS proxy answers the host with the first instance (pkg/dns/server/name_table.go BuildNameTable)', () => {
    expect(at(load(DNS_CAPTURE, none, statics), 'tcp://backend.example.com:7000')).toBe('192.0.2.9_7000');
  });
});

describe('the Pods a resolution-NONE entry selects (expect.ts selectedPods)', () => {
  // serviceentry/conversion.go: a workloadSelector's instances are the matching Pods of the entry's namespace;
  // listener.go buildSidecarOutboundListeners binds a TCP port once per instance but not at the node's own IP. The
  // addresses are stand-ins from the lane's Pod range, one per Pod of the list (the probe's source first).
  const selecting = (capture: boolean) =>
    load(
      ...(capture ? [DNS_CAPTURE] : []),
      se(
        'a',
        '{hosts: [a.example.com], ports: [{number: 9000, name: tcp, protocol: TCP}], resolution: NONE, workloadSelector: {labels: {}}}',
      ),
    );
  const caller = { namespace: 'default', labels: { app: 'a' } };
  const other = { namespace: 'default', labels: { app: 'b' } };
  const plain = { namespace: 'default' };
  const elsewhere = { namespace: 'payments' };
  const from = (r: ResourceSet, to: string, workloads: ProbeSource[]) => ask(r, to, { from: caller, workloads });

  it("binds every selected Pod of the entry's namespace but the caller's own, each once", () => {
    const r = selecting(false);
    const workloads = [plain, other, caller, elsewhere];
    expect(from(r, 'tcp://10.244.0.200:9000', workloads).listener).toBe('virtualOutbound');
    expect(from(r, 'tcp://10.244.0.201:9000', workloads)).toMatchObject({ verdict: 'allowed', listener: '10.244.0.201_9000' });
    expect(from(r, 'tcp://10.244.0.202:9000', workloads).listener).toBe('10.244.0.202_9000');
    // The caller listed again is the same Pod; a Pod of another namespace is not selected.
    expect(from(r, 'tcp://10.244.0.203:9000', workloads).listener).toBe('virtualOutbound');
    expect(from(r, 'tcp://10.244.0.204:9000', workloads).listener).toBe('virtualOutbound');
  });

  it("the name resolves to the namespace's plain client first, whose name sorts before every labelled one's", () => {
    expect(from(selecting(true), 'tcp://a.example.com:9000', [plain, other, caller]).listener).toBe('10.244.0.201_9000');
  });

  it('selecting the caller alone, the name resolves to its own address, which has no listener (fuzz-s1-346)', () => {
    expect(from(selecting(true), 'tcp://a.example.com:9000', [caller])).toMatchObject({ verdict: 'blocked', listener: 'virtualOutbound' });
  });
});

describe('the answer by address: what decided it, and only that', () => {
  // listener.go binds an entry's IP address to <ip>_<port>, whose only chain goes to the entry's cluster; the
  // answer names that one rule, and its reason names the listener and the entry it was built for.
  const r = load(
    se('db', '{hosts: [db.example.com], addresses: [192.0.2.30], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
  );

  it('by address, without a Sidecar', () => {
    const e = ask(r, 'tcp://192.0.2.30:5432');
    expect(e).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||db.example.com',
      listener: '192.0.2.30_5432',
      policy: 'REGISTRY_ONLY',
      rule: 'se.address-listener',
      rules: ['se.address-listener'],
    });
    expect(e.reason).toMatch(/listener 192\.0\.2\.30_5432 \(address of ServiceEntry default\/db\)/);
    expect(e.notModelled).toBeUndefined();
  });

  it('by name through the DNS proxy, with the Sidecar that applies', () => {
    // pkg/dns/server/name_table.go answers the entry's host with its address.
    const e = ask(
      load(
        DNS_CAPTURE,
        se('db', '{hosts: [db.example.com], addresses: [192.0.2.30], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}'),
        sidecar('{egress: [{hosts: ["*/*"]}]}'),
      ),
      'tcp://db.example.com:5432',
    );
    expect(e).toMatchObject({ verdict: 'allowed', listener: '192.0.2.30_5432' });
    expect(e.rules).toEqual(['sidecar.namespace', 'dns.capture-address', 'se.address-listener']);
    expect(e.notModelled).toBeUndefined();
  });
});

describe('addresses and host names as istiod reads them', () => {
  it('an IPv6 /128 range is a plain address with a listener of its own (serviceentry/conversion.go: full-length prefix)', () => {
    const r = load(
      se(
        'db',
        '{hosts: [db.example.com], addresses: ["2001:db8::7/128"], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: STATIC, endpoints: [{address: "2001:db8::8"}]}',
      ),
    );
    expect(ask(r, 'tcp://[2001:db8::7]:5432')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||db.example.com',
      listener: '2001:db8::7_5432',
      rule: 'se.address-listener',
    });
  });

  it('an upper-case host anywhere in an entry is flagged, not only in its first host', () => {
    const r = load(
      se('up', '{hosts: [lower.example.com, UPPER.example.com], ports: [{number: 7000, name: tcp, protocol: TCP}], resolution: NONE}'),
    );
    expect(ask(r, 'tcp://lower.example.com:7000').notModelled).toEqual([
      'upper-case letters in host names (the model compares host names as written, case included)',
    ]);
  });
});
