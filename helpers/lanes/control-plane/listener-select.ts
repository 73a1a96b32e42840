// Which listener takes a connection, and what that listener's filters can see of it.
//
// Envoy (listener_filters / original_dst): iptables REDIRECT lands every outbound connection on
// `virtualOutbound` (use_original_dst), which hands it to the listener bound to the original destination
// IP:port, else to the wildcard 0.0.0.0:port (or [::]:port), else keeps it and uses its own filter chains.
import { isIPv6 } from 'node:net';
import type { Scheme } from '../../model/types.ts';
import { type DecodedAny, isExpandedAny, typeNameOf, type XdsListener } from './xds-types.ts';

/** What the connection looks like to listener filters. */
export interface ConnectionFacts {
  destinationIp: string;
  destinationPort: number;
  /** SNI, when the client speaks TLS and the listener inspects it. */
  serverName?: string;
  transportProtocol: 'tls' | 'raw_buffer';
  applicationProtocols: string[];
}

const TLS_INSPECTOR = 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
const HTTP_INSPECTOR = 'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector';

function typeName(any: DecodedAny | null | undefined): string {
  return typeNameOf((isExpandedAny(any) ? any['@type'] : any?.type_url) ?? '');
}

function hasListenerFilter(listener: XdsListener, type: string, legacyName: string): boolean {
  return (listener.listener_filters ?? []).some((f) => typeName(f.typed_config) === type || f.name === legacyName);
}

function socketOf(listener: XdsListener): { address: string; port: number } | undefined {
  const sa = listener.address?.socket_address;
  if (!sa?.address) return undefined;
  return { address: sa.address, port: Number(sa.port_value) };
}

/** Listener selection after original-destination recovery. */
export function selectListener(
  listeners: XdsListener[],
  ip: string,
  port: number,
): { listener?: XdsListener; how: 'exact' | 'wildcard' | 'virtualOutbound' } {
  const wildcard = isIPv6(ip) ? '::' : '0.0.0.0';
  const byAddr = (addr: string) =>
    listeners.find((l) => {
      const s = socketOf(l);
      return s && s.port === port && s.address === addr && l.name !== 'virtualOutbound' && l.name !== 'virtualInbound';
    });
  const exact = byAddr(ip);
  if (exact) return { listener: exact, how: 'exact' };
  const wild = byAddr(wildcard);
  if (wild) return { listener: wild, how: 'wildcard' };
  const vo = listeners.find((l) => l.name === 'virtualOutbound') ?? listeners.find((l) => l.use_original_dst?.value === true);
  return { listener: vo, how: 'virtualOutbound' };
}

/** What reaches a listener: the address it was sent to, the TLS on the wire, the HTTP request in it if any. */
export interface Wire {
  ip: string;
  port: number;
  tls?: { sni?: string; alpn: string[] };
  http?: { host: string; path: string };
}

/** The TLS a client speaks itself: SNI only for names, never for IP literals (RFC 6066); curl offers h2 and http/1.1. */
export function clientTls(target: { scheme: Scheme; host: string; isIp: boolean }): { sni?: string; alpn: string[] } | undefined {
  if (target.scheme !== 'https') return undefined;
  return { ...(target.isIp ? {} : { sni: target.host }), alpn: ['h2', 'http/1.1'] };
}

/** What the listener filters make of the wire: TLS seen only by a TLS inspector, HTTP only by an HTTP inspector. */
export function connectionFacts(listener: XdsListener, wire: Wire): ConnectionFacts {
  const tlsInspected = hasListenerFilter(listener, TLS_INSPECTOR, 'envoy.filters.listener.tls_inspector');
  const httpInspected = hasListenerFilter(listener, HTTP_INSPECTOR, 'envoy.filters.listener.http_inspector');
  const facts: ConnectionFacts = {
    destinationIp: wire.ip,
    destinationPort: wire.port,
    transportProtocol: 'raw_buffer',
    applicationProtocols: [],
  };
  if (wire.tls && tlsInspected) {
    facts.transportProtocol = 'tls';
    if (wire.tls.sni) facts.serverName = wire.tls.sni;
    facts.applicationProtocols = wire.tls.alpn;
  } else if (!wire.tls && wire.http && httpInspected) facts.applicationProtocols = ['http/1.1'];
  return facts;
}
