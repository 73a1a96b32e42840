// The routing generators (routing-arbitraries.ts, routing-probes.ts), without Go: about one scenario in four
// gets Gateways, VirtualServices and DestinationRules built on a host its entries declare, in every shape of
// Istio's egress tasks; a refused one is repaired or dropped alone; probes aim at the routed host and ports
// from a namespace that sees the routing and one that does not; and the model follows such calls past the
// sidecar (hops through the gateway, TLS originated).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectProbe } from '../oracle/index.ts';
import { PINNED } from '../tools/versions.ts';
import { scenarioArb } from './generate.ts';
import { repair } from './repair.ts';
import { MISSING_HOST } from './routing-arbitraries.ts';
import { routingSeenFrom } from './routing-probes.ts';
import { admit, type FuzzScenario, toProbe } from './scenario.ts';

type Any = Record<string, any>;
const V = PINNED.controlPlane.istioVersion;
const ROUTING = new Set(['Gateway', 'VirtualService', 'DestinationRule']);
const routingOf = (s: FuzzScenario) => s.manifests.filter((m) => ROUTING.has(String(m.kind))) as Any[];
const hostsOf = (s: FuzzScenario) => new Set(s.manifests.filter((m) => m.kind === 'ServiceEntry').flatMap((m: Any) => m.spec.hosts));

describe('routing generators', () => {
  const all = fc.sample(scenarioArb(), { seed: 4, numRuns: 900 });
  const routed = all.filter((s) => routingOf(s).length > 0);
  const rs = routed.flatMap(routingOf);

  it('give about one scenario in four routing, on hosts its entries declare, all admitted', () => {
    expect(routed.length / all.length).toBeGreaterThan(0.12);
    expect(routed.length / all.length).toBeLessThan(0.35);
    for (const s of routed) {
      expect(admit(s).ok, JSON.stringify(routingOf(s))).toBe(true);
      const declared = hostsOf(s);
      for (const vs of routingOf(s).filter((m) => m.kind === 'VirtualService'))
        for (const h of vs.spec.hosts) expect(declared.has(h) || h === MISSING_HOST, h).toBe(true);
    }
    // Dropped routing is rare: the refusals drawn on purpose are repaired.
    const dropped = routed.flatMap((s) => s.dropped ?? []).filter((d) => /^(Gateway|VirtualService|DestinationRule)/.test(d));
    expect(dropped.length).toBeLessThan(rs.length / 20);
  });

  it("draw the egress tasks' shapes: gateway legs, subsets (with mTLS, without, missing), TLS origination, timeouts, re-routes", () => {
    const servers = rs.filter((m) => m.kind === 'Gateway').flatMap((g) => g.spec.servers);
    expect(new Set(servers.map((s: Any) => s.port.protocol))).toEqual(new Set(['HTTP', 'TLS', 'HTTPS']));
    expect(servers.some((s: Any) => s.tls?.mode === 'PASSTHROUGH')).toBe(true);
    expect(servers.some((s: Any) => s.tls?.mode === 'ISTIO_MUTUAL')).toBe(true);
    expect(new Set(rs.filter((m) => m.kind === 'Gateway').map((g) => g.metadata.namespace))).toContain('istio-system');
    const vss = rs.filter((m) => m.kind === 'VirtualService');
    expect(vss.some((v) => v.spec.gateways?.includes('mesh') && v.spec.gateways.length === 2)).toBe(true);
    expect(vss.some((v) => v.spec.tls?.some((r: Any) => r.match[0].gateways?.includes('mesh')))).toBe(true);
    expect(vss.some((v) => v.spec.http?.some((r: Any) => r.timeout && r.retries))).toBe(true);
    expect(vss.some((v) => v.spec.http?.some((r: Any) => r.match?.[0]?.uri))).toBe(true);
    expect(vss.some((v) => v.spec.http?.some((r: Any) => r.route[0].destination.host === MISSING_HOST))).toBe(true);
    expect(vss.some((v) => !v.spec.gateways && v.spec.tls)).toBe(true);
    const drs = rs.filter((m) => m.kind === 'DestinationRule');
    const gwDrs = drs.filter((d) => d.spec.subsets);
    expect(gwDrs.some((d) => d.spec.subsets[0].trafficPolicy?.portLevelSettings[0].tls.mode === 'ISTIO_MUTUAL')).toBe(true);
    expect(gwDrs.some((d) => !d.spec.subsets[0].trafficPolicy)).toBe(true);
    expect(gwDrs.some((d) => d.spec.subsets[0].name === 'other')).toBe(true);
    const simple = drs.flatMap((d) => [
      d.spec.trafficPolicy?.tls,
      ...(d.spec.trafficPolicy?.portLevelSettings ?? []).map((p: Any) => p.tls),
    ]);
    expect(simple.some((t) => t?.mode === 'SIMPLE' && t.sni)).toBe(true);
    expect(simple.some((t) => t?.mode === 'SIMPLE' && !t.sni)).toBe(true);
    const exports = new Set(rs.map((m) => JSON.stringify(m.spec.exportTo ?? null)));
    for (const e of ['null', '["."]', '["*"]', '["frontend"]', '["default","payments"]', '[".","frontend"]']) expect(exports).toContain(e);
    expect(exports).not.toContain('["~"]');
  });

  it('repair a refused routing resource alone: a TLS server without tls, `~` and `.` beside the own name, an SNI outside the hosts', () => {
    const gw = repair({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'g', namespace: 'default' },
      spec: {
        selector: { istio: 'egressgateway' },
        servers: [{ port: { number: 443, name: 'tls', protocol: 'TLS' }, hosts: ['a.example.com'] }],
      },
    });
    expect(gw.ok && gw.manifest.spec).toMatchObject({ servers: [{ tls: { mode: 'PASSTHROUGH' } }] });
    const vs = (exportTo: string[]) =>
      repair({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'v', namespace: 'frontend' },
        spec: {
          hosts: ['a.example.com'],
          exportTo,
          tls: [{ match: [{ port: 443, sniHosts: ['b.example.com'] }], route: [{ destination: { host: 'b.example.com' } }] }],
        },
      });
    const none = vs(['~']);
    expect(none.ok && none.manifest.spec).toMatchObject({ exportTo: ['.'], tls: [{ match: [{ sniHosts: ['a.example.com'] }] }] });
    const twice = vs(['.', 'frontend']);
    expect(twice.ok && twice.manifest.spec).toMatchObject({ exportTo: ['.'] });
    const bad = repair({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'd', namespace: 'x' },
      spec: {},
    });
    expect(bad).toMatchObject({ ok: false, why: expect.stringMatching(/^DestinationRule: spec\.host/) });
  });

  it('aim probes at the routed host over HTTP and HTTPS, from a namespace that sees the routing and one that does not', () => {
    let http = 0;
    let https = 0;
    let seeing = 0;
    let unseeing = 0;
    for (const s of routed) {
      for (const r of routingOf(s).filter((m) => m.kind !== 'Gateway')) {
        const hosts: string[] = r.kind === 'VirtualService' ? r.spec.hosts : [r.spec.host];
        const at = s.probes.filter((p) => hosts.includes(toProbe(p).to.host));
        http += at.filter((p) => p.to.startsWith('http:')).length;
        https += at.filter((p) => p.to.startsWith('https:')).length;
        const seen = routingSeenFrom(r);
        seeing += at.filter((p) => seen.includes(toProbe(p).from.namespace)).length;
        unseeing += at.filter((p) => !seen.includes(toProbe(p).from.namespace)).length;
      }
    }
    expect(http).toBeGreaterThan(routed.length);
    expect(https).toBeGreaterThan(routed.length / 4);
    expect(seeing).toBeGreaterThan(routed.length);
    expect(unseeing).toBeGreaterThan(routed.length / 10);
  });

  it('lead the model past the sidecar: through the gateway, TLS originated, blocked for a missing subset', () => {
    const hops: Any[][] = [];
    for (const s of routed) {
      const a = admit(s);
      if (!a.ok) continue;
      for (const p of s.probes) hops.push(expectProbe(a.resources, toProbe(p), { istioVersion: V, policy: s.policy }).hops ?? []);
    }
    expect(hops.filter((h) => h[1]?.proxy === 'istio-system/istio-egressgateway').length).toBeGreaterThan(12);
    expect(hops.some((h) => h[0]?.tls?.mode === 'SIMPLE')).toBe(true);
    expect(hops.some((h) => h[0]?.tls?.mode === 'ISTIO_MUTUAL')).toBe(true);
    expect(hops.some((h) => h[1]?.tls?.mode === 'SIMPLE')).toBe(true);
    expect(hops.some((h) => h.length === 1 && /\|other\||\|edition\|/.test(h[0]?.cluster ?? ''))).toBe(true);
  });
});
