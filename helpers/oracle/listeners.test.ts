// The listeners and chains a sidecar gets for the service ports it sees (listeners.ts buildListeners), asked
// directly with hand-made service ports. Each expectation is read in the pinned source
// (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad): pilot/pkg/networking/core/listener.go
// buildSidecarOutboundListeners / buildSidecarOutboundListener (conflict types, locked entries, binds),
// mergeTCPFilterChains and filterChainOpts.conflictsWith (a chain equal to an earlier one is dropped),
// isConflictWithWellKnownPort, and tls.go buildSidecarOutboundTLSFilterChainOpts (when a TLS chain matches SNI).
import { describe, expect, it } from 'vitest';
import type { PortProtocol, Resolution } from '../model/types.ts';
import { testEntry, testServicePort } from '../testing/service-ports.ts';
import { buildListeners, type AddressListener, type ServicePort, type WildcardListener } from './listeners.ts';
import { parseIstioVersion } from './version.ts';

const V = parseIstioVersion('1.30.3');
/** One host:port of an entry; `kind` follows the port protocol. */
function svc(
  name: string,
  protocol: PortProtocol,
  port: number,
  o: Partial<Omit<ServicePort, 'se' | 'port' | 'rank'>> & { resolution?: Resolution; host?: string } = {},
): ServicePort {
  const { resolution, host, ...rest } = o;
  const se = testEntry(name, protocol, port, { ...(resolution ? { resolution } : {}), ...(host ? { host } : {}) });
  const kind = protocol === 'HTTP' || protocol === 'HTTP_PROXY' ? 'http' : protocol === 'TLS' ? 'tls' : protocol === '' ? 'sniffed' : 'tcp';
  return testServicePort(se, port, kind, rest);
}

const wildcardOf = (ports: ServicePort[], name: string) => {
  const l = buildListeners(ports, V).get(name);
  expect(l?.kind).toBe('wildcard');
  return l as WildcardListener;
};
const addressOf = (ports: ServicePort[], name: string) => {
  const l = buildListeners(ports, V).get(name);
  expect(l?.kind).toBe('address');
  return l as AddressListener;
};
const hosts = (sps: ServicePort[] | undefined) => sps?.map((sp) => sp.host);

describe('0.0.0.0_<port>: services without addresses share the port (listener.go buildSidecarOutboundListener)', () => {
  it('an HTTP-only port has an HTTP chain and no SNI, CIDR or match-all chain', () => {
    const l = wildcardOf([svc('a', 'HTTP', 80)], '0.0.0.0_80');
    expect(hosts(l.http)).toEqual(['a.example.com']);
    expect(l.tls).toEqual([]);
    expect(l.cidr).toEqual([]);
    expect(l.matchAll).toBeUndefined();
  });

  it('an unset-protocol service after a TCP one: AutoOverTCP merges its HTTP chain, its match-all TCP chain equals the TCP one and is dropped', () => {
    const tcp = svc('tcp', 'TCP', 9000);
    const sniffed = svc('sniffed', '', 9000);
    const l = wildcardOf([tcp, sniffed], '0.0.0.0_9000');
    expect(l.matchAll).toBe(tcp);
    expect(hosts(l.http)).toEqual(['sniffed.example.com']);
    expect(l.conflicts).toEqual([sniffed]);
  });

  it('MySQL over MySQL is no well-known conflict (same protocol): the later entries CIDR chains merge (TCPOverTCP)', () => {
    // isConflictWithWellKnownPort refuses only a different protocol; mergeTCPFilterChains keeps chains whose
    // destination prefixes differ from every earlier one's. The entry's protocol stays MySQL after each merge.
    const first = svc('first', 'MYSQL', 3306);
    const a = svc('a', 'MYSQL', 3306, { cidrs: ['10.1.0.0/16'] });
    const b = svc('b', 'MYSQL', 3306, { cidrs: ['10.2.0.0/16'] });
    const l = wildcardOf([first, a, b], '0.0.0.0_3306');
    expect(l.matchAll).toBe(first);
    expect(l.cidr).toEqual([a, b]);
    expect(l.conflicts).toEqual([]);
  });

  it('an entry with a CIDR and a CIDR on 0.0.0.0 gets both a prefix chain and a match-all chain', () => {
    // conversion.go makes one service per address; the 0.0.0.0/0 one's chain has no prefix range
    // (toFilterChainMatch leaves out 0.0.0.0), so it matches every destination (fixtures/rules/unspecified-cidr.yaml).
    const sp = svc('wide', 'TCP', 5432, { cidrs: ['10.1.0.0/16'], unspecifiedCidr: true });
    const l = wildcardOf([sp], '0.0.0.0_5432');
    expect(l.cidr).toEqual([sp]);
    expect(l.matchAll).toBe(sp);
  });
});

describe('HTTP_PROXY ports (listener.go: "For HTTP_PROXY protocol defined by sidecars, just create the HTTP listener right away")', () => {
  it('a later HTTP_PROXY service replaces the match-all TCP and SNI chains earlier services left (conflict type NoConflict: a new entry)', () => {
    const tcp = svc('tcp', 'TCP', 3128);
    const tls = svc('tls', 'TLS', 3128);
    const proxy = svc('proxy', 'HTTP_PROXY', 3128);
    const l = wildcardOf([tcp, tls, proxy], '0.0.0.0_3128');
    expect(l.matchAll).toBeUndefined();
    expect(l.tls).toEqual([]);
    expect(l.conflicts).toEqual([tcp, tls]);
    expect(l.proxyHcm).toBe(true);
  });

  it('HTTP_PROXY, then HTTP (exits early: the entry stays HTTP_PROXY), then an unset-protocol service: AutoOverHTTP gives it the port', () => {
    // An HTTP service meeting an entry whose protocol is not TCP exits early, so the protocol stays HTTP_PROXY,
    // which IsHTTP: the Auto service is conflict AutoOverHTTP and its chains replace the entry
    // (fixtures/rules/sniffed-after-http-proxy.yaml).
    const proxy = svc('proxy', 'HTTP_PROXY', 3128);
    const http = svc('http', 'HTTP', 3128);
    const sniffed = svc('sniffed', '', 3128);
    const l = wildcardOf([proxy, http, sniffed], '0.0.0.0_3128');
    expect(l.matchAll).toBe(sniffed);
    expect(l.proxyHcm).toBe(false);
    expect(l.conflicts).toEqual([]);
  });

  it('HTTP_PROXY, then TLS (TCPOverHTTP: merged, the entry becomes Unsupported), then an unset-protocol service: it exits early', () => {
    const proxy = svc('proxy', 'HTTP_PROXY', 3128);
    const tls = svc('tls', 'TLS', 3128);
    const sniffed = svc('sniffed', '', 3128);
    const l = wildcardOf([proxy, tls, sniffed], '0.0.0.0_3128');
    expect(l.tls).toEqual([tls]);
    expect(l.matchAll).toBeUndefined();
    expect(l.proxyHcm).toBe(true);
    expect(l.conflicts).toEqual([sniffed]);
  });

  it('HTTP_PROXY, then a TCP entry with a CIDR: the prefix chain differs from the HTTP chain and is merged (TCPOverHTTP)', () => {
    const proxy = svc('proxy', 'HTTP_PROXY', 3128);
    const net = svc('net', 'TCP', 3128, { cidrs: ['10.1.0.0/16'] });
    const l = wildcardOf([proxy, net], '0.0.0.0_3128');
    expect(l.cidr).toEqual([net]);
    expect(l.conflicts).toEqual([]);
  });

  it('HTTP_PROXY, then TCP (its match-all chain equals the HTTP chain without match: dropped, entry Unsupported), then an unset-protocol service: it exits early', () => {
    const proxy = svc('proxy', 'HTTP_PROXY', 3128);
    const tcp = svc('tcp', 'TCP', 3128);
    const sniffed = svc('sniffed', '', 3128);
    const l = wildcardOf([proxy, tcp, sniffed], '0.0.0.0_3128');
    expect(l.matchAll).toBeUndefined();
    expect(l.proxyHcm).toBe(true);
    expect(l.conflicts).toEqual([tcp, sniffed]);
  });
});

describe("a Sidecar egress port's protocol builds its services' listener (listener.go: listenerOpts.port is the egress port)", () => {
  it('entries whose own ports are MySQL and TCP under an egress port of protocol TCP: TCPOverTCP, no well-known conflict', () => {
    // isConflictWithWellKnownPort compares listenerOpts.port.Protocol, the Sidecar port's, for both services.
    const mysql = svc('mysql', 'MYSQL', 3306, { kind: 'tcp', sidecarPortProtocol: 'TCP' });
    const net = svc('net', 'TCP', 3306, { cidrs: ['10.1.0.0/16'], sidecarPortProtocol: 'TCP' });
    const l = wildcardOf([mysql, net], '0.0.0.0_3306');
    expect(l.matchAll).toBe(mysql);
    expect(l.cidr).toEqual([net]);
    expect(l.conflicts).toEqual([]);
  });
});

describe('a Sidecar egress listener bind keys the listener and leaves no CIDR chain (listener.go: the address is looked up only when bind is empty)', () => {
  it('a TCP entry with a CIDR under bind 0.0.0.0 gets a match-all chain, not a prefix chain', () => {
    const sp = svc('net', 'TCP', 5432, { cidrs: ['10.1.0.0/16'], bind: '0.0.0.0' });
    const l = wildcardOf([sp], '0.0.0.0_5432');
    expect(l.cidr).toEqual([]);
    expect(l.matchAll).toBe(sp);
  });

  // tls.go: SNI is matched if the destination is a CIDR, the service address is empty, the address is the
  // wildcard on a listener bound to the wildcard, or the service is a DYNAMIC_DNS wildcard; under a bind the CIDR
  // list is empty, so a service with an IP (its own address) gets a chain matching everything.
  it('a TLS entry with an IP under bind 0.0.0.0: match-all chain', () => {
    const sp = svc('ip', 'TLS', 443, { ips: ['192.0.2.1'], bind: '0.0.0.0' });
    const l = wildcardOf([sp], '0.0.0.0_443');
    expect(l.matchAll).toBe(sp);
    expect(l.tls).toEqual([]);
  });

  it('a wildcard-host TLS entry with an IP that is not DYNAMIC_DNS under bind 0.0.0.0: match-all chain', () => {
    const sp = svc('wild', 'TLS', 443, { host: '*.wild.example.com', resolution: 'NONE', ips: ['192.0.2.1'], bind: '0.0.0.0' });
    const l = wildcardOf([sp], '0.0.0.0_443');
    expect(l.matchAll).toBe(sp);
    expect(l.tls).toEqual([]);
  });

  it('a DYNAMIC_DNS wildcard TLS entry under a bind keeps its SNI chain', () => {
    const sp = svc('dyn', 'TLS', 443, { host: '*.dyn.example.com', resolution: 'DYNAMIC_DNS', ips: ['240.240.1.1'], bind: '0.0.0.0' });
    const l = wildcardOf([sp], '0.0.0.0_443');
    expect(l.matchAll).toBeUndefined();
    expect(l.tls).toEqual([sp]);
  });

  it('a TLS entry with only a CIDR under bind 0.0.0.0 keeps an SNI chain (its address is a CIDR)', () => {
    const sp = svc('cidr', 'TLS', 443, { cidrs: ['10.1.0.0/16'], bind: '0.0.0.0' });
    const l = wildcardOf([sp], '0.0.0.0_443');
    expect(l.matchAll).toBeUndefined();
    expect(l.tls).toEqual([sp]);
  });

  it('a TLS entry with only a CIDR under bind 127.0.0.1 keeps an SNI chain too (its address is a CIDR, whatever the bind)', () => {
    const sp = svc('cidr', 'TLS', 443, { cidrs: ['10.1.0.0/16'], bind: '127.0.0.1' });
    const l = wildcardOf([sp], '127.0.0.1_443');
    expect(l.matchAll).toBeUndefined();
    expect(l.tls).toEqual([sp]);
  });

  it('a TLS entry with an IP and a CIDR under bind 0.0.0.0: the IP service a match-all chain, the CIDR service an SNI chain', () => {
    const sp = svc('both', 'TLS', 443, { ips: ['192.0.2.1'], cidrs: ['10.1.0.0/16'], bind: '0.0.0.0' });
    const l = wildcardOf([sp], '0.0.0.0_443');
    expect(l.matchAll).toBe(sp);
    expect(l.tls).toEqual([sp]);
  });

  it('a TLS entry without address under bind 0.0.0.0 (wildcard address on the wildcard bind): SNI chain', () => {
    const sp = svc('none', 'TLS', 443, { bind: '0.0.0.0' });
    const l = wildcardOf([sp], '0.0.0.0_443');
    expect(l.matchAll).toBeUndefined();
    expect(l.tls).toEqual([sp]);
  });

  it('a TLS entry without address under bind 127.0.0.1 (wildcard address, bind not the wildcard): match-all chain', () => {
    const sp = svc('none', 'TLS', 443, { bind: '127.0.0.1' });
    const l = wildcardOf([sp], '127.0.0.1_443');
    expect(l.matchAll).toBe(sp);
    expect(l.tls).toEqual([]);
  });
});

describe('the port-less egress listener comes last and skips locked entries (listener.go buildSidecarOutboundListeners)', () => {
  it('a catch-all service on an address listener the port listener built is skipped, not merged', () => {
    const held = svc('held', 'TCP', 5432, { ips: ['192.0.2.1'], sidecarPortProtocol: 'TCP' });
    const late = svc('late', '', 5432, { ips: ['192.0.2.1'], catchAll: true });
    const l = addressOf([held, late], '192.0.2.1_5432');
    expect(l.service).toBe(held);
    expect(l.http).toBeUndefined();
    expect(l.conflicts).toEqual([]);
  });

  it("route <port> keeps the port listener's services on a catch-all listener keyed on another bind (sidecar.go GetEgressListenerForRDS)", () => {
    // The egress listener with port 80 builds 0.0.0.0_80; the port-less one, bound to 127.0.0.1, builds
    // 127.0.0.1_80 with its own HTTP chain, whose route `80` still comes from the port-80 egress listener.
    const byPort = svc('byport', 'HTTP', 80, { sidecarPortProtocol: 'HTTP' });
    const late = svc('late', 'HTTP', 80, { catchAll: true, bind: '127.0.0.1' });
    // Another port's services, bound elsewhere, are no virtual hosts of route 80.
    const otherPort = svc('other', 'HTTP', 8080, { sidecarPortProtocol: 'HTTP', bind: '127.0.0.1' });
    const out = buildListeners([byPort, late, otherPort], V);
    expect(hosts((out.get('127.0.0.1_80') as WildcardListener).http)).toEqual(['byport.example.com']);
    expect(hosts((out.get('0.0.0.0_80') as WildcardListener).http)).toEqual(['byport.example.com']);
  });

  it("a catch-all service of the same host does not take the port listener's virtual host (route 80 is the port listener's)", () => {
    // httproute.go BuildSidecarOutboundVirtualHosts keeps one service per host of the egress listener that owns the
    // route (GetEgressListenerForRDS): the port-less listener's entry for that host is not one of its services.
    const byPort = svc('byport', 'HTTP', 80, { host: 'shared.example.com', sidecarPortProtocol: 'HTTP' });
    const late = svc('late', 'HTTP', 80, { host: 'shared.example.com', catchAll: true });
    const l = wildcardOf([byPort, late], '0.0.0.0_80');
    expect(l.http).toEqual([byPort]);
  });

  it('an unset-protocol Passthrough service with a selector that only the catch-all brings is no virtual host of route <port>', () => {
    const byPort = svc('byport', 'HTTP', 9000, { sidecarPortProtocol: 'HTTP' });
    const late = svc('late', '', 9000, { resolution: 'NONE', catchAll: true });
    late.se.workloadSelector = { app: 'db' };
    const l = wildcardOf([byPort, late], '0.0.0.0_9000');
    expect(l.http).toEqual([byPort]);
  });
});

describe('Passthrough services with a workload selector bind per instance (listener.go buildSidecarOutboundListeners)', () => {
  const selected = (name: string, protocol: PortProtocol, instanceIps: string[]) => {
    const sp = svc(name, protocol, 9000, { resolution: 'NONE', instanceIps });
    sp.se.workloadSelector = { app: name };
    return sp;
  };

  it('one listener per instance address, named for the rule', () => {
    const sp = selected('db', 'TCP', ['10.244.0.201']);
    const l = addressOf([sp], '10.244.0.201_9000');
    expect(l.service).toBe(sp);
    expect(l.rules).toEqual(['listener.instances-only']);
  });

  it('under a bind it is built on <bind>_<port> like any service (only a listener without bind binds per instance)', () => {
    const sp = selected('db', 'TCP', ['10.244.0.201']);
    sp.bind = '127.0.0.1';
    const out = buildListeners([sp], V);
    expect(out.has('10.244.0.201_9000')).toBe(false);
    expect((out.get('127.0.0.1_9000') as WildcardListener).matchAll).toBe(sp);
  });

  it('an unset-protocol one is still a virtual host of route <port> when another service builds the HTTP chain', () => {
    // Route <port> takes every HTTP-or-sniffed service with the port, whatever its listener
    // (httproute.go BuildSidecarOutboundVirtualHosts, route.go BuildSidecarVirtualHostWrapper).
    const http = svc('web', 'HTTP', 9000);
    const sp = selected('db', '', ['10.244.0.201']);
    const l = wildcardOf([http, sp], '0.0.0.0_9000');
    expect(hosts(l.http)).toEqual(['web.example.com', 'db.example.com']);
  });
});

describe('a later service on an address listener (listener.go mergeTCPFilterChains)', () => {
  const ip = '192.0.2.7';

  it('a TLS holder without VirtualService tls routes matches everything on its own address: a later TCP chain conflicts', () => {
    // tls.go: the service has an IP, so its chain has no SNI match; the later match-all chain equals it.
    const holder = svc('holder', 'TLS', 443, { ips: [ip] });
    const later = svc('later', 'TCP', 443, { ips: [ip] });
    const l = addressOf([holder, later], `${ip}_443`);
    expect(l.fallback).toBeUndefined();
    expect(l.conflicts).toEqual([later]);
    expect(l.http).toBeUndefined();
  });

  it('VirtualService tls routes shape only a TLS port: a TCP holder keeps its match-all chain and a later one conflicts', () => {
    // tls.go buildSidecarOutboundTLSFilterChainOpts returns nothing unless the listen port IsTLS; a TCP service's
    // chain is buildSidecarOutboundTCPListenerOpts' match-all one.
    const holder = svc('holder', 'TCP', 443, { ips: [ip] });
    const later = svc('later', 'TCP', 443, { ips: [ip] });
    const l = buildListeners([holder, later], V, () => true).get(`${ip}_443`) as AddressListener;
    expect(l.fallback).toBeUndefined();
    expect(l.conflicts).toEqual([later]);
  });

  it('a TLS holder whose mesh tls routes leave it SNI chains only: a later TCP match-all chain joins as the default chain', () => {
    // Corpus master-2026-08-27 s237-168#0.
    const holder = svc('holder', 'TLS', 443, { ips: [ip] });
    const later = svc('later', 'TCP', 443, { ips: [ip] });
    const l = buildListeners([holder, later], V, (sp) => sp === holder).get(`${ip}_443`) as AddressListener;
    expect(l.fallback).toBe(later);
    expect(l.conflicts).toEqual([]);
    expect(l.http).toBeUndefined();
  });

  it('… and a later unset-protocol service brings its match-all TCP chain and its HTTP chain', () => {
    const holder = svc('holder', 'TLS', 443, { ips: [ip] });
    const later = svc('later', '', 443, { ips: [ip] });
    const l = buildListeners([holder, later], V, (sp) => sp === holder).get(`${ip}_443`) as AddressListener;
    expect(l.fallback).toBe(later);
    expect(l.http).toBe(later);
    expect(l.conflicts).toEqual([]);
  });
});

describe('rules the listener names', () => {
  it("a Sidecar egress port's protocol is named where it built the listener, and only there", () => {
    const bySidecar = svc('a', 'TCP', 5432, { sidecarPortProtocol: 'TCP' });
    const plain = svc('b', 'TCP', 5433);
    const out = buildListeners([bySidecar, plain], V);
    expect(out.get('0.0.0.0_5432')?.rules).toEqual(['listener.sidecar-port-protocol']);
    expect(out.get('0.0.0.0_5433')?.rules).toEqual([]);
  });

  it('a CIDR on 0.0.0.0 is named for a TCP entry on the wildcard, not for an HTTP entry nor under a bind (no CIDR chain there)', () => {
    const tcp = svc('a', 'TCP', 5432, { unspecifiedCidr: true });
    const http = svc('b', 'HTTP', 8080, { unspecifiedCidr: true });
    const bound = svc('c', 'TCP', 5433, { unspecifiedCidr: true, bind: '0.0.0.0' });
    const out = buildListeners([tcp, http, bound], V);
    expect(out.get('0.0.0.0_5432')?.rules).toEqual(['listener.unspecified-cidr']);
    expect(out.get('0.0.0.0_8080')?.rules).toEqual([]);
    expect(out.get('0.0.0.0_5433')?.rules).toEqual([]);
  });
});
