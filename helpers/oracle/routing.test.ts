// The model of VirtualServices, DestinationRules and the egress gateway (routing.ts, gateway.ts) on the
// configurations of Istio's egress tasks (fixtures/egress/): each expectation names the Istio source rule it
// rests on; the same scenarios are checked against the real istiod in fixtures/cases/ on the lane.
import { describe, expect, it } from 'vitest';
import { loadResourceFiles } from '../istio/load.ts';
import { formatHop } from '../model/hops.ts';
import type { PolicyMode } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { expectProbe } from './expect.ts';
import { applyRouting } from './routing.ts';

const V = '1.32.0-alpha.eed52ebb66ad';
const GW80 = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';
const GW443 = 'outbound|443|edition|istio-egressgateway.istio-system.svc.cluster.local';
const load = (...names: string[]) => loadResourceFiles(names.map((n) => `fixtures/${n}`));
const edition = (s: string) => load('egress/edition-se.yaml', `egress/${s}.yaml`);

function ask(files: ReturnType<typeof load>, from: string, url: string, policy: PolicyMode = 'REGISTRY_ONLY') {
  const probe = { from: { namespace: from }, to: parseProbeUrl(url, 'test') };
  const e = applyRouting(files, probe, expectProbe(files, probe, { istioVersion: V, policy }));
  return { ...e, path: (e.hops ?? []).map((h) => formatHop(h, true)) };
}

describe('egress gateway (gateway.ts, routing.ts)', () => {
  it('HTTP: the mesh leg goes to the gateway subset, the gateway leg out to the host (httproute.go, gateway.go)', () => {
    for (const from of ['default', 'frontend']) {
      const e = ask(edition('gateway-http'), from, 'http://edition.example.com/');
      expect(e.verdict).toBe('allowed');
      expect(e.cluster).toBe(GW80);
      expect(e.path).toEqual([`sidecar ${GW80}`, 'istio-system/istio-egressgateway outbound|80||edition.example.com']);
    }
  });

  it('a call the gateway has a route for but that leaves directly is said to bypass it', () => {
    const e = ask(edition('gateway-http'), 'default', 'https://edition.example.com/');
    expect(e.path).toEqual(['sidecar outbound|443||edition.example.com']);
    expect(e.reason).toMatch(/bypasses the gateway istio-system\/istio-egressgateway/);
  });

  it('HTTPS passthrough: tls routes by SNI on both legs (tls.go buildSidecarOutboundTLSFilterChainOpts)', () => {
    const e = ask(edition('gateway-tls-passthrough'), 'default', 'https://edition.example.com/');
    expect(e.path).toEqual([`sidecar ${GW443}`, 'istio-system/istio-egressgateway outbound|443||edition.example.com']);
    // Plain HTTP on port 80 has no route through the gateway: it leaves directly.
    expect(ask(edition('gateway-tls-passthrough'), 'default', 'http://edition.example.com/').path).toEqual([
      'sidecar outbound|80||edition.example.com',
    ]);
  });

  it('TLS origination at the sidecar and at the gateway (cluster_tls.go; DestinationRule lookup push_context.go)', () => {
    expect(ask(edition('tls-origination-sidecar'), 'frontend', 'http://edition.example.com/').path).toEqual([
      'sidecar outbound|80||edition.example.com tls:SIMPLE:edition.example.com',
    ]);
    expect(ask(edition('tls-origination-gateway'), 'default', 'http://edition.example.com/').path).toEqual([
      `sidecar ${GW80}`,
      'istio-system/istio-egressgateway outbound|443||edition.example.com tls:SIMPLE:edition.example.com',
    ]);
  });

  it('ISTIO_MUTUAL on the sidecar → gateway leg, and what breaks without it', () => {
    expect(ask(edition('gateway-mutual'), 'default', 'http://edition.example.com/').path).toEqual([
      `sidecar ${GW443} tls:ISTIO_MUTUAL:edition.example.com`,
      'istio-system/istio-egressgateway outbound|80||edition.example.com',
    ]);
    const broken = ask(edition('gateway-mutual-no-tls'), 'default', 'http://edition.example.com/');
    expect(broken.verdict).toBe('blocked');
    expect(broken.reason).toMatch(/terminates TLS \(ISTIO_MUTUAL\) but the sidecar sends no TLS/);
  });

  it('where a call ends at the gateway, named as the lane names it (gateway.go, listener.go BuildListenerTLSContext)', () => {
    const ends = (files: ReturnType<typeof load>, url = 'http://edition.example.com/') => {
      const e = ask(files, 'default', url);
      return { verdict: e.verdict, signal: e.signal, path: e.path };
    };
    // An HTTP server no VirtualService routes: istiod's blackhole:PORT virtual host, Envoy's 404.
    const noGatewayLeg = edition('gateway-http');
    noGatewayLeg.routing = noGatewayLeg.routing!.map((r) =>
      r.kind === 'VirtualService' ? { ...r, spec: { ...r.spec, gateways: ['mesh'], http: (r.spec.http as unknown[]).slice(0, 1) } } : r,
    );
    expect(ends(noGatewayLeg)).toEqual({
      verdict: 'blocked',
      signal: 'http-404',
      path: [`sidecar ${GW80}`, 'istio-system/istio-egressgateway (no route)'],
    });
    // No server on the port at all: no listener, the connection is refused.
    const noServer = edition('gateway-tls-passthrough');
    noServer.routing = noServer.routing!.filter((r) => r.kind !== 'Gateway');
    expect(ends(noServer, 'https://edition.example.com/')).toEqual({
      verdict: 'blocked',
      signal: 'tcp-close',
      path: [`sidecar ${GW443}`, 'istio-system/istio-egressgateway (connection refused)'],
    });
    // One-way TLS to a server that asks for a client certificate: the handshake fails.
    const simple = edition('gateway-mutual');
    simple.routing = simple.routing!.map((r) =>
      r.kind === 'DestinationRule'
        ? { ...r, spec: { ...r.spec, subsets: [{ name: 'edition', trafficPolicy: { tls: { mode: 'SIMPLE' } } }] } }
        : r,
    );
    expect(ends(simple).path.at(-1)).toBe('istio-system/istio-egressgateway (handshake failed)');
    // The client of a plain-HTTP call sees its sidecar's router: a 503 for a connection the gateway closed.
    expect(ends(simple).signal).toBe('http-503');
    expect(ends(edition('gateway-mutual-no-tls'))).toMatchObject({ signal: 'http-503' });
  });

  it('a route to a host no service has is a cluster the sidecar lacks: blocked, the router’s 503 (route.go, cluster_not_found)', () => {
    const files = load('serviceentries/api.yaml', 'egress/api-routing.yaml');
    const vs = files.routing!.find((r) => r.kind === 'VirtualService')!;
    files.routing = [{ ...vs, spec: { ...vs.spec, http: [{ route: [{ destination: { host: 'api.example.org' } }] }] } }];
    const e = ask(files, 'default', 'http://api.example.com/');
    expect({ verdict: e.verdict, signal: e.signal, path: e.path }).toEqual({
      verdict: 'blocked',
      signal: 'http-503',
      path: ['sidecar outbound|80||api.example.org'],
    });
  });

  it("each hop's cluster type as istiod sets it (cluster.go convertResolution): a DNS entry's STRICT_DNS, the gateway Service's EDS", () => {
    const e = ask(edition('tls-origination-gateway'), 'default', 'http://edition.example.com/');
    expect(e.hops?.map((h) => h.discovery)).toEqual(['EDS', 'STRICT_DNS']);
  });

  it('a subset no visible DestinationRule defines has no cluster (push_context.go destinationRule)', () => {
    const files = edition('gateway-http');
    files.routing = (files.routing ?? []).filter((r) => r.kind !== 'DestinationRule');
    const e = ask(files, 'default', 'http://edition.example.com/');
    expect(e.verdict).toBe('blocked');
    expect(e.reason).toMatch(/defines subset edition .* no cluster/);
  });
});

describe('VirtualService on an external HTTP host', () => {
  const files = load('serviceentries/api.yaml', 'egress/api-routing.yaml');
  it('re-routes by path and carries the timeout and retries of the route it takes', () => {
    expect(ask(files, 'default', 'http://api.example.com/v2/items').path).toEqual(['sidecar outbound|80||api-v2.example.com']);
    const e = ask(files, 'default', 'http://api.example.com/');
    expect(e.hops?.[0]?.route).toEqual(['timeout 3s', 'retries 2']);
  });
  it('has no effect on the TLS port (its http routes never meet the SNI chain)', () => {
    const e = ask(files, 'default', 'https://api.example.com/');
    expect(e.path).toEqual(['sidecar outbound|443||api.example.com']);
    expect(e.reason).toMatch(/only http routes, which a TLS port never uses/);
  });
  it("reads a header match against curl's request (no such header: the next route), and says aloud a route field it does not read", () => {
    const vs = files.routing!.find((r) => r.kind === 'VirtualService')!;
    const withRoutes = (http: unknown[]) => ({ ...files, routing: [{ ...vs, spec: { ...vs.spec, http } }] });
    const v2 = { destination: { host: 'api-v2.example.com' } };
    const v1 = { destination: { host: 'api.example.com' } };
    const byHeader = withRoutes([{ match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [v2] }, { route: [v1] }]);
    const e = ask(byHeader, 'default', 'http://api.example.com/');
    expect(e.notModelled ?? []).toEqual([]);
    expect(e.cluster).toBe('outbound|80||api.example.com');
    const byAgent = withRoutes([{ match: [{ headers: { 'user-agent': { prefix: 'curl/' } } }], route: [v2] }, { route: [v1] }]);
    expect(ask(byAgent, 'default', 'http://api.example.com/').cluster).toBe('outbound|80||api-v2.example.com');
    const withFault = withRoutes([{ fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }, route: [v2] }]);
    expect(ask(withFault, 'default', 'http://api.example.com/').notModelled).toContain('VirtualService http.fault');
  });
});
