// Short host names in VirtualServices and DestinationRules as istiod reads them (shortnames.ts). Each expectation is
// read in the pinned source (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad): pilot/pkg/model/config.go
// ResolveShortnameToFQDN, virtualservice.go ResolveVirtualServiceShortnames, push_context.go setDestinationRules.
import { describe, expect, it } from 'vitest';
import type { IstioConfig, ResourceSet } from '../model/types.ts';
import { emptyResources } from '../istio/load.ts';
import { resolveShortname, withResolvedShortnames } from './shortnames.ts';

const config = (kind: IstioConfig['kind'], spec: Record<string, unknown>, namespace = 'default'): IstioConfig => ({
  kind,
  name: 'c',
  namespace,
  order: 0,
  spec,
  source: { file: 'shortnames.test.ts', doc: 1 },
  manifest: {},
});
const withRouting = (...routing: IstioConfig[]): ResourceSet => ({ ...emptyResources(), routing });

describe('ResolveShortnameToFQDN', () => {
  it('a name without a dot takes the config namespace and the cluster domain', () => {
    expect(resolveShortname('api', 'payments')).toBe('api.payments.svc.cluster.local');
  });

  it('keeps an empty name, `*`, an IPv4 or IPv6 address and any name with a dot', () => {
    for (const h of ['', '*', '192.0.2.1', '2001:db8::1', 'api.example.com', '*.example.com', 'api.payments'])
      expect(resolveShortname(h, 'payments')).toBe(h);
  });
});

describe('ResolveVirtualServiceShortnames and setDestinationRules', () => {
  it("resolves a VirtualService's hosts and the destinations of its http (route, mirror, mirrors), tcp and tls routes", () => {
    const vs = config('VirtualService', {
      hosts: ['api', 'api.example.com'],
      http: [{ route: [{ destination: { host: 'one' } }, {}], mirror: { host: 'two' }, mirrors: [{ destination: { host: 'three' } }, {}] }],
      tcp: [{ route: [{ destination: { host: 'four', port: { number: 9000 } } }] }],
      tls: [{ route: [{ destination: { host: 'five.example.com' } }] }],
    });
    const [got] = withResolvedShortnames(withRouting(vs)).routing!;
    const fq = (h: string) => `${h}.default.svc.cluster.local`;
    expect(got!.spec).toEqual({
      hosts: [fq('api'), 'api.example.com'],
      http: [
        {
          route: [{ destination: { host: fq('one') } }, {}],
          mirror: { host: fq('two') },
          mirrors: [{ destination: { host: fq('three') } }, {}],
        },
      ],
      tcp: [{ route: [{ destination: { host: fq('four'), port: { number: 9000 } } }] }],
      tls: [{ route: [{ destination: { host: 'five.example.com' } }] }],
    });
    // The config as written is left alone (values istiod lists are copied first).
    expect(vs.spec.hosts).toEqual(['api', 'api.example.com']);
  });

  it('keeps every other field of the spec and of each route as written', () => {
    const vs = config('VirtualService', {
      hosts: ['api'],
      gateways: ['mesh'],
      exportTo: ['.'],
      http: [
        {
          name: 'r',
          match: [{ uri: { prefix: '/' } }],
          timeout: '1s',
          route: [{ destination: { host: 'one', subset: 'v1' }, weight: 100 }],
        },
      ],
    });
    const [got] = withResolvedShortnames(withRouting(vs)).routing!;
    expect(got!.spec).toEqual({
      hosts: ['api.default.svc.cluster.local'],
      gateways: ['mesh'],
      exportTo: ['.'],
      http: [
        {
          name: 'r',
          match: [{ uri: { prefix: '/' } }],
          timeout: '1s',
          route: [{ destination: { host: 'one.default.svc.cluster.local', subset: 'v1' }, weight: 100 }],
        },
      ],
    });
  });

  it('resolves a delegate VirtualService (no hosts) by its destinations, and leaves one without short names alone', () => {
    const delegate = config('VirtualService', { http: [{ route: [{ destination: { host: 'one' } }] }] });
    const [got] = withResolvedShortnames(withRouting(delegate)).routing!;
    expect(got!.spec).toEqual({ http: [{ route: [{ destination: { host: 'one.default.svc.cluster.local' } }] }] });
    const full = withRouting(config('VirtualService', { http: [{ route: [{ destination: { host: 'one.example.com' } }] }] }));
    expect(withResolvedShortnames(full)).toBe(full);
  });

  it('resolves a VirtualService with one short host among full ones', () => {
    const [got] = withResolvedShortnames(withRouting(config('VirtualService', { hosts: ['a.example.com', 'api'] }))).routing!;
    expect(got!.spec.hosts).toEqual(['a.example.com', 'api.default.svc.cluster.local']);
  });

  it.each([
    [
      'a tcp destination',
      { hosts: ['a.example.com'], tcp: [{ route: [{ destination: { host: 'b.example.com' } }, { destination: { host: 'one' } }] }] },
    ],
    ['a tls destination', { hosts: ['a.example.com'], tls: [{ route: [{ destination: { host: 'one' } }] }] }],
    ['an http mirror', { hosts: ['a.example.com'], http: [{ mirror: { host: 'one' } }] }],
    ['an http mirrors destination', { hosts: ['a.example.com'], http: [{ mirrors: [{ destination: { host: 'one' } }] }] }],
  ])('resolves a VirtualService whose only short name is %s', (_what, spec) => {
    const [got] = withResolvedShortnames(withRouting(config('VirtualService', spec))).routing!;
    expect(JSON.stringify(got!.spec)).toContain('"one.default.svc.cluster.local"');
  });

  it("resolves a DestinationRule's host in its own namespace, and leaves Gateways alone", () => {
    const dr = config('DestinationRule', { host: 'api' }, 'payments');
    const gw = config('Gateway', { servers: [{ hosts: ['api'] }] });
    const [gotDr, gotGw] = withResolvedShortnames(withRouting(dr, gw)).routing!;
    expect(gotDr!.spec.host).toBe('api.payments.svc.cluster.local');
    expect(gotGw).toBe(gw);
  });

  it('returns the resources themselves when nothing is short, or nothing routes', () => {
    const full = withRouting(
      config('VirtualService', { hosts: ['a.example.com'], http: [{ route: [{ destination: { host: 'b.example.com' } }] }] }),
      config('DestinationRule', { host: 'b.example.com' }),
      config('Gateway', { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['api'] }] }),
    );
    expect(withResolvedShortnames(full)).toBe(full);
    const none = emptyResources();
    expect(withResolvedShortnames(none)).toBe(none);
    const empty = withRouting();
    expect(withResolvedShortnames(empty)).toBe(empty);
  });

  it('resolves only the configs that need it and gives the same answer twice', () => {
    const fullVs = config('VirtualService', { hosts: ['a.example.com'] });
    const r = withRouting(fullVs, config('VirtualService', { hosts: ['api'] }));
    const once = withResolvedShortnames(r);
    expect(once.routing![0]).toBe(fullVs);
    expect(once.routing![1]!.spec.hosts).toEqual(['api.default.svc.cluster.local']);
    expect(withResolvedShortnames(r).routing).toBe(once.routing);
  });
});
