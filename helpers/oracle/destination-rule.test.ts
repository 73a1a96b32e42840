// The DestinationRule a proxy applies to a route's destination (destination-rule.ts): whether the subset's cluster
// exists and the TLS the proxy originates. Each expectation is read in the pinned source
// (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad): pilot/pkg/model/push_context.go setDestinationRules and
// destinationRule, destination_rule.go mergeDestinationRule, networking/core/cluster_tls.go.
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const V = PINNED.controlPlane.istioVersion;

const load = (...docs: string[]) => loadYamlText(docs.join('\n---\n'), 'dr.yaml', emptyResources());

const ENTRY = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: payments}
spec:
  hosts: [a.example.com, x.a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]`;

/** frontend's route for `host` to one of its subsets. */
const toSubset = (subset: string, host = 'a.example.com') => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-subset, namespace: frontend}
spec:
  hosts: [${host}]
  http: [{route: [{destination: {host: ${host}, subset: ${subset}}}]}]`;

let created = 0;
/** A DestinationRule, each one created a second after the previous one written. */
const dr = (name: string, ns: string, spec: string, host = 'a.example.com') => {
  created++;
  return `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}, creationTimestamp: "2026-01-01T00:00:${String(created).padStart(2, '0')}Z"}
spec:
  host: ${host}
${spec}`;
};
const subsets = (...names: string[]) => `  subsets: [${names.map((n) => `{name: ${n}}`).join(', ')}]\n`;
const simple = (sni: string) => `  trafficPolicy: {tls: {mode: SIMPLE, sni: ${sni}}}\n`;

const ask = (r: ReturnType<typeof load>, url = 'http://a.example.com/', from = 'frontend') =>
  expectProbe(r, { from: { namespace: from }, to: parseProbeUrl(url) }, { istioVersion: V, policy: 'ALLOW_ANY' });
/** Whether the sidecar has the subset's cluster, and the TLS it originates on it. */
const sidecar = (r: ReturnType<typeof load>, url?: string) => {
  const e = ask(r, url);
  return { verdict: e.verdict, tls: e.hops?.[0]?.tls };
};

describe('DestinationRules of one host in one namespace', () => {
  // destination_rule.go mergeDestinationRule: rules sorted oldest first (push_context.go
  // sortConfigBySelectorAndCreationTime) merge where the incoming exportTo equals the entry's or is a superset of a
  // non-empty one: new subset names appended, the first top-level traffic policy kept. Otherwise the incoming rule
  // stands apart, and sidecar.go SidecarScope.DestinationRule applies the last entry, whole.
  it('with the same exportTo merge: both subsets, the older traffic policy, whatever the order written', () => {
    // Written younger first: the creation time orders them, not the file.
    const written = (subset: string) => {
      const older = dr('b-older', 'frontend', subsets('v1') + simple('one.example.com'));
      const younger = dr('a-younger', 'frontend', subsets('v2') + simple('two.example.com'));
      return load(ENTRY, younger, older, toSubset(subset));
    };
    expect(sidecar(written('v1'))).toEqual({ verdict: 'allowed', tls: { mode: 'SIMPLE', sni: 'one.example.com' } });
    expect(sidecar(written('v2'))).toEqual({ verdict: 'allowed', tls: { mode: 'SIMPLE', sni: 'one.example.com' } });
    // One consolidated rule, from both (ConsolidatedDestRule.from).
    expect(ask(written('v2')).reason).toContain('DestinationRule frontend/b-older + frontend/a-younger applies for frontend');
  });

  it("the older rule without a traffic policy takes the younger one's", () => {
    const r = load(
      ENTRY,
      dr('older', 'frontend', subsets('v1')),
      dr('younger', 'frontend', subsets('v2') + simple('two.example.com')),
      toSubset('v1'),
    );
    expect(sidecar(r)).toEqual({ verdict: 'allowed', tls: { mode: 'SIMPLE', sni: 'two.example.com' } });
  });

  it('a younger rule whose exportTo is a superset of the entry’s merges into it', () => {
    const r = load(
      ENTRY,
      dr('older', 'frontend', `  exportTo: ["."]\n${subsets('v1')}`),
      dr('younger', 'frontend', `  exportTo: [".", payments]\n${subsets('v2')}`),
      toSubset('v1'),
    );
    expect(sidecar(r).verdict).toBe('allowed');
  });

  it('otherwise the younger rule stands apart and is the one applied: the older subset has no cluster', () => {
    for (const [older, younger] of [
      ['["."]', '["*"]'],
      ['[".", payments]', '["."]'],
      ['[".", payments]', '[".", default]'],
    ]) {
      const e = ask(
        load(
          ENTRY,
          dr('older', 'frontend', `  exportTo: ${older}\n${subsets('v1')}`),
          dr('younger', 'frontend', `  exportTo: ${younger}\n${subsets('v2')}`),
          toSubset('v1'),
        ),
      );
      expect(e.verdict, `${older} then ${younger}`).toBe('blocked');
      expect(e.reason).toContain('DestinationRule frontend/younger applies for frontend');
    }
  });
});

describe('the DestinationRule a sidecar finds', () => {
  // push_context.go destinationRule: its own namespace's rules exported to that namespace (namespaceLocal: no
  // exportTo, `*`, `.` or the namespace), else the rules the service's namespace exports to it (exportedByNamespace:
  // all but the private ones), else the root namespace's.
  it('not a rule of its own namespace exported elsewhere only', () => {
    expect(sidecar(load(ENTRY, dr('elsewhere', 'frontend', `  exportTo: [payments]\n${subsets('v1')}`), toSubset('v1'))).verdict).toBe(
      'blocked',
    );
  });

  it("a private rule of the service's namespace does not hide a later exported one from the exported pool", () => {
    const r = load(
      ENTRY,
      dr('private', 'payments', `  exportTo: ["."]\n${subsets('v1')}`),
      dr('shared', 'payments', `  exportTo: [".", frontend]\n${subsets('v2')}`),
      toSubset('v2'),
    );
    expect(sidecar(r).verdict).toBe('allowed');
  });

  it('the exact host, else the longest wildcard covering it', () => {
    // config.go MostSpecificHostMatch.
    const wild = load(
      ENTRY,
      dr('short', 'frontend', subsets('v1') + simple('short.example.com'), '"*.example.com"'),
      dr('long', 'frontend', subsets('v1') + simple('long.example.com'), '"*.a.example.com"'),
      dr('other', 'frontend', subsets('v1') + simple('other.example.org'), '"*.elsewhere.example.org"'),
      toSubset('v1', 'x.a.example.com'),
    );
    expect(sidecar(wild, 'http://x.a.example.com/')).toEqual({ verdict: 'allowed', tls: { mode: 'SIMPLE', sni: 'long.example.com' } });
    const exact = load(
      ENTRY,
      dr('short', 'frontend', subsets('v1') + simple('short.example.com'), '"*.example.com"'),
      dr('exact', 'frontend', subsets('v1') + simple('exact.example.com'), 'x.a.example.com'),
      toSubset('v1', 'x.a.example.com'),
    );
    expect(sidecar(exact, 'http://x.a.example.com/')).toEqual({ verdict: 'allowed', tls: { mode: 'SIMPLE', sni: 'exact.example.com' } });
    expect(
      sidecar(load(ENTRY, dr('short', 'frontend', subsets('v1') + simple('short.example.com'), '"*.example.com"'), toSubset('v1'))),
    ).toEqual({
      verdict: 'allowed',
      tls: { mode: 'SIMPLE', sni: 'short.example.com' },
    });
  });

  it("DISABLE at the subset's port level turns the rule's TLS off", () => {
    // cluster_traffic_policy.go MergeTrafficPolicy: the subset's policy over the rule's, port-level over both.
    const r = load(
      ENTRY,
      dr(
        'off',
        'frontend',
        `${simple('a.example.com')}  subsets: [{name: v1, trafficPolicy: {portLevelSettings: [{port: {number: 80}, tls: {mode: DISABLE}}]}}]\n`,
      ),
      toSubset('v1'),
    );
    expect(sidecar(r)).toEqual({ verdict: 'allowed', tls: undefined });
    expect(ask(r).reason).toContain('DestinationRule frontend/off applies for frontend');
  });
});

describe('the DestinationRules the egress gateway applies, a proxy of the root namespace', () => {
  // push_context.go destinationRule: a proxy of the root namespace looks first among the root namespace's private
  // rules only (rootNamespaceLocal: exportTo `.` or the namespace alone), so that the root's catch-all rules do not
  // hide the service namespace's exported ones; then the service's namespace, then the root's exported rules.
  const GW_HOST = 'istio-egressgateway.istio-system.svc.cluster.local';
  const through = (...drs: string[]) =>
    load(
      ENTRY,
      `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [a.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: through-gateway, namespace: payments}
spec:
  hosts: [a.example.com]
  gateways: [istio-system/egress, mesh]
  http:
  - match: [{gateways: [mesh]}]
    route: [{destination: {host: ${GW_HOST}, subset: edition, port: {number: 80}}}]
  - match: [{gateways: [istio-system/egress]}]
    route: [{destination: {host: a.example.com, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gateway-subset, namespace: istio-system}
spec:
  host: ${GW_HOST}
  subsets: [{name: edition}]`,
      ...drs,
    );
  const gatewayTls = (r: ReturnType<typeof load>) => {
    const e = ask(r);
    expect(e.hops?.map((h) => h.kind)).toEqual(['sidecar', 'gateway']);
    return e.hops?.[1]?.tls;
  };

  it('applies a private rule of its own namespace first', () => {
    expect(
      gatewayTls(
        through(
          dr('root-private', 'istio-system', `  exportTo: ["."]\n${simple('root.example.com')}`),
          dr('svc', 'payments', simple('svc.example.com')),
        ),
      ),
    ).toEqual({
      mode: 'SIMPLE',
      sni: 'root.example.com',
    });
  });

  it("then the service namespace's exported rule, before a public one of its own namespace", () => {
    expect(
      gatewayTls(through(dr('root-public', 'istio-system', simple('root.example.com')), dr('svc', 'payments', simple('svc.example.com')))),
    ).toEqual({
      mode: 'SIMPLE',
      sni: 'svc.example.com',
    });
    expect(gatewayTls(through(dr('root-public', 'istio-system', simple('root.example.com'))))).toEqual({
      mode: 'SIMPLE',
      sni: 'root.example.com',
    });
  });
});

describe('ISTIO_MUTUAL without an sni', () => {
  // cluster_tls.go buildUpstreamTLSSettings: the SNI defaults to the cluster's DNS SRV subset key.
  it('sends outbound_.<port>_.<subset>_.<host>', () => {
    const r = load(ENTRY, dr('mtls', 'frontend', `  subsets: [{name: v1, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}]\n`), toSubset('v1'));
    expect(sidecar(r).tls).toEqual({ mode: 'ISTIO_MUTUAL', sni: 'outbound_.80_.v1_.a.example.com' });
  });
});

describe('port-level settings replace the traffic policy for their port (networking/util GetPortLevelTrafficPolicy)', () => {
  const PORTS = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ports, namespace: payments}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: http-alt, protocol: HTTP}]
  resolution: DNS
  endpoints: [{address: 192.0.2.50}]`;
  const lbOnly = `portLevelSettings: [{port: {number: 8080}, loadBalancer: {simple: RANDOM}}]`;

  it('a port-level setting without tls originates none on its port; the other ports keep the top level (fixtures/rules/destination-rule-port-level.yaml)', () => {
    const r = load(PORTS, dr('port-level', 'payments', `  trafficPolicy: {tls: {mode: SIMPLE, sni: top}, ${lbOnly}}\n`));
    expect(sidecar(r, 'http://a.example.com/').tls).toEqual({ mode: 'SIMPLE', sni: 'top' });
    expect(sidecar(r, 'http://a.example.com:8080/').tls).toBeUndefined();
  });

  it("a subset's port-level setting without tls overrides the rule's TLS for its port (MergeTrafficPolicy hasPortLevel)", () => {
    const r = load(
      PORTS,
      dr('sub', 'payments', `  trafficPolicy: {tls: {mode: SIMPLE, sni: top}}\n  subsets: [{name: v1, trafficPolicy: {${lbOnly}}}]\n`),
      toSubset('v1'),
    );
    expect(sidecar(r, 'http://a.example.com/').tls).toEqual({ mode: 'SIMPLE', sni: 'top' });
    expect(sidecar(r, 'http://a.example.com:8080/').tls).toBeUndefined();
  });

  it("a subset's policy without tls or a port-level setting keeps the rule's, port level included", () => {
    const r = load(
      PORTS,
      dr(
        'keep',
        'payments',
        `  trafficPolicy: {portLevelSettings: [{port: {number: 8080}, tls: {mode: SIMPLE, sni: port-level}}]}\n  subsets: [{name: v1, trafficPolicy: {loadBalancer: {simple: RANDOM}}}]\n`,
      ),
      toSubset('v1'),
    );
    expect(sidecar(r, 'http://a.example.com:8080/').tls).toEqual({ mode: 'SIMPLE', sni: 'port-level' });
    expect(sidecar(r, 'http://a.example.com/').tls).toBeUndefined();
  });
});
