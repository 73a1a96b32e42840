// Which filter chain of a listener takes a connection, and what that chain ends in.
//
// Envoy (FilterChainMatch): chains are narrowed criterion by criterion in Envoy's order: destination_port,
// prefix_ranges (longest prefix), server_names (exact, then the longest wildcard suffix), transport_protocol,
// application_protocols. At each step chains that set the criterion and match win; if none does, chains
// that leave it empty go on; if nothing is left the default_filter_chain applies, else the connection closes.
import { ipToBigInt } from '../../net/addresses.ts';
import type { ConnectionFacts } from './listener-select.ts';
import { type HttpConnectionManager, isHcm, isTcpProxy, type TcpProxy, type XdsFilterChain, type XdsListener } from './xds-types.ts';

type FilterChainMatch = NonNullable<XdsFilterChain['filter_chain_match']>;
type CidrRange = NonNullable<FilterChainMatch['prefix_ranges']>[number];

/** Length of the longest prefix range containing ip, or -1. */
export function longestPrefixMatch(ranges: CidrRange[], ip: string): number {
  const addr = ipToBigInt(ip);
  if (!addr) return -1;
  let best = -1;
  for (const r of ranges) {
    const net = ipToBigInt(r.address_prefix ?? '');
    if (!net || net.bits !== addr.bits) continue;
    const len = r.prefix_len?.value ?? addr.bits;
    const n = Number(len);
    const shift = BigInt(addr.bits - n);
    if (n === 0 || addr.v >> shift === net.v >> shift) best = Math.max(best, n);
  }
  return best;
}

/** Envoy server_names rank: exact = Infinity, `*.suffix` = suffix length, no match = -1. */
export function serverNameRank(names: string[], sni: string | undefined): number {
  if (!sni) return -1;
  let best = -1;
  for (const n of names) {
    if (n === sni) return Infinity;
    if (n.startsWith('*.') && sni.endsWith(n.slice(1)) && sni.length > n.length - 1) best = Math.max(best, n.length);
  }
  return best;
}

interface ChainPick {
  chain?: XdsFilterChain;
  usedDefault: boolean;
  steps: string[];
}

/** Envoy's FilterChainMatch selection, criterion by criterion. */
export function selectFilterChain(listener: XdsListener, facts: ConnectionFacts): ChainPick {
  let cands: XdsFilterChain[] = listener.filter_chains ?? [];
  const steps: string[] = [];
  const narrow = (label: string, isSet: (m: FilterChainMatch) => boolean, rank: (m: FilterChainMatch) => number) => {
    if (cands.length === 0) return;
    const withIt = cands.filter((c) => isSet(c.filter_chain_match ?? {}));
    const scored = withIt.map((c) => ({ c, r: rank(c.filter_chain_match ?? {}) })).filter((x) => x.r >= 0);
    if (scored.length > 0) {
      const top = Math.max(...scored.map((x) => x.r));
      cands = scored.filter((x) => x.r === top).map((x) => x.c);
      steps.push(`${label}: matched`);
    } else {
      cands = cands.filter((c) => !isSet(c.filter_chain_match ?? {}));
      if (withIt.length > 0) steps.push(`${label}: no match among ${withIt.length}, ${cands.length} without it`);
    }
  };
  narrow(
    'destination_port',
    (m) => m.destination_port !== undefined,
    (m) => (Number(m.destination_port?.value) === facts.destinationPort ? 0 : -1),
  );
  narrow(
    'prefix_ranges',
    (m) => (m.prefix_ranges ?? []).length > 0,
    (m) => longestPrefixMatch(m.prefix_ranges ?? [], facts.destinationIp),
  );
  narrow(
    'server_names',
    (m) => (m.server_names ?? []).length > 0,
    (m) => serverNameRank(m.server_names ?? [], facts.serverName),
  );
  narrow(
    'transport_protocol',
    (m) => !!m.transport_protocol,
    (m) => (m.transport_protocol === facts.transportProtocol ? 0 : -1),
  );
  narrow(
    'application_protocols',
    (m) => (m.application_protocols ?? []).length > 0,
    (m) => ((m.application_protocols ?? []).some((p) => facts.applicationProtocols.includes(p)) ? 0 : -1),
  );
  if (cands.length > 0) return { chain: cands[0], usedDefault: false, steps };
  if (listener.default_filter_chain) return { chain: listener.default_filter_chain, usedDefault: true, steps };
  return { usedDefault: false, steps };
}

export function chainLabel(chain: XdsFilterChain, listener: XdsListener, usedDefault: boolean): string {
  if (chain.name) return chain.name;
  if (usedDefault) return 'default_filter_chain';
  const i = (listener.filter_chains ?? []).indexOf(chain);
  return `filter_chains[${i}]`;
}

export type Terminal =
  | { kind: 'hcm'; config?: HttpConnectionManager; name?: string }
  | { kind: 'tcp'; config?: TcpProxy; name?: string }
  | { kind: 'other'; name?: string };

export function terminalFilter(chain: XdsFilterChain): Terminal {
  for (const f of chain.filters ?? []) {
    const tc = f.typed_config;
    // A filter named by its legacy name but without a decoded config still decides the kind; its config is then absent.
    if (isHcm(tc) || f.name === 'envoy.filters.network.http_connection_manager')
      return { kind: 'hcm', config: isHcm(tc) ? tc : undefined, name: f.name };
    if (isTcpProxy(tc) || f.name === 'envoy.filters.network.tcp_proxy')
      return { kind: 'tcp', config: isTcpProxy(tc) ? tc : undefined, name: f.name };
  }
  const last = (chain.filters ?? []).at(-1);
  return { kind: 'other', name: last?.name };
}
