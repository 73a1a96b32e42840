// The outbound listeners a sidecar gets for the ServiceEntry ports it sees, modelled as far as egress
// reachability needs. Facts (pilot/pkg/networking/core/listener.go buildSidecarOutboundListener and
// mergeTCPFilterChains, tls.go, httproute.go, listener_builder.go; checked at 1.30.3 and master):
// - HTTP-family and unset-protocol ports without a VIP share `0.0.0.0_<port>`: an HTTP chain picked by
//   ALPN sniffing (RDS `<port>`, one virtual host per HTTP-or-sniffed service, plus a catch-all);
// - TLS ports without addresses add one SNI chain per host;
// - TCP and unset-protocol ports without addresses add a match-all TCP chain; the first one processed
//   keeps it, later ones conflict and are dropped;
// - CIDR addresses bind the wildcard too, as a chain matching the destination prefix;
// - IP addresses (and auto-allocated VIPs) bind `<ip>_<port>`, where everything goes to the service;
// - unless a Sidecar egress listener's `bind: 0.0.0.0` builds the port: then every service goes on the wildcard
//   listener, a non-HTTP one without a CIDR or SNI match; any other bind keys them on `<bind>_<port>` alike (see
//   expect.ts listenerBinding);
// - a wildcard listener without a match-all chain falls back to the policy chain
//   (PassthroughFilterChain → PassthroughCluster or BlackHoleCluster).
import type { PortProtocol, ServiceEntry } from '../model/types.ts';
import { isWildcard } from './hosts.ts';
import type { IstioVersion } from './version.ts';
import type { RuleId } from './rules.ts';

export type PortKind = 'http' | 'tls' | 'tcp' | 'sniffed';

/** SE ports take their protocol from `protocol` only (no name-based inference); empty means sniffed. */
export function portKind(p: PortProtocol): PortKind | undefined {
  switch (p) {
    case 'HTTP':
    case 'HTTP_PROXY': // pkg/config/protocol: IsHTTP
    case 'HTTP2':
    case 'GRPC':
    case 'GRPC-WEB':
      return 'http';
    case 'HTTPS':
    case 'TLS':
      return 'tls';
    case 'TCP':
    case 'MONGO':
    case 'MYSQL':
    case 'REDIS':
      return 'tcp';
    case '':
      return 'sniffed';
    case 'UDP':
      return undefined; // only TCP is captured: UDP ports build no listener
  }
}

/** One host:port of a visible ServiceEntry, the unit listeners and clusters are built from. */
export interface ServicePort {
  se: ServiceEntry;
  host: string;
  port: number;
  /**
   * The service port a listener of another port routes to: set for the port-80 virtual hosts of a Sidecar egress
   * listener whose port is HTTP_PROXY (its route merges every port's virtual hosts, httproute.go
   * mergeAllVirtualHosts, of which only port 80's keep domains without a port).
   */
  clusterPort?: number;
  kind: PortKind;
  /** IP addresses (explicit or auto-allocated) the service binds; CIDRs are kept apart. */
  ips: string[];
  /**
   * Addresses that are domains of the service's virtual host although its listener binds none of them (a port-80
   * service routed on a Sidecar's HTTP_PROXY port: httproute.go generateVirtualHostDomains, mergeAllVirtualHosts).
   */
  addressDomains?: string[];
  cidrs: string[];
  autoAllocated: boolean;
  /**
   * Set when a Sidecar egress listener declares this port: istiod builds the listener with that listener's
   * protocol (unset: sniffed), not the entry's (listener.go buildSidecarOutboundListeners).
   */
  sidecarPortProtocol?: string;
  /**
   * Set when the Sidecar's port-less egress listener brings this port although an egress listener with the
   * port exists: istiod builds it after that listener, only on listener keys that one left free (they are
   * locked), and the port's route keeps that listener's services (sidecar.go GetEgressListenerForRDS).
   */
  catchAll?: boolean;
  /**
   * The addresses of the selected Pods of a resolution-NONE entry without addresses that selects workloads
   * (stand-ins, see expect.ts podAddress): istiod binds one listener per instance address on a non-HTTP port
   * and its DNS name table answers the entry's hosts with them.
   */
  instanceIps?: string[];
  /** The one of instanceIps that is the listening workload's own address: it gets no outbound listener. */
  ownInstanceIp?: string;
  /**
   * Set when istiod holds instances for this host and port, addresses that are no IP included (see expect.ts
   * instanceAddresses): a resolution-NONE service without an address then binds per instance, never the wildcard.
   */
  hasInstances?: boolean;
  /**
   * Set when the Sidecar egress listener that builds this port binds its listeners (its `bind`, or 127.0.0.1 under
   * captureMode NONE): every listener it builds is keyed `<bind>_<port>`, so the entry's addresses bind nothing of
   * their own (see buildListeners, expect.ts listenerBinding).
   */
  bind?: string;
  /** Set under captureMode NONE: the listener binds a socket of its own (Envoy still hands it captured calls to its address). */
  bindToPort?: boolean;
  /**
   * Set when the entry lists a CIDR on 0.0.0.0 (0.0.0.0/0, 0.0.0.0/1, ...): istiod builds its chain without
   * the prefix range, so it is a match-all chain on the wildcard listener (see expect.ts onUnspecified); the
   * CIDR is not in `cidrs`.
   */
  unspecifiedCidr?: boolean;
  /** Istio's processing order for the listening workload (export class, creation time, hostname). */
  rank: (string | number)[];
  /** Set when istiod names this port's cluster but does not build it: the rule and why. */
  unbuilt?: { rule: RuleId; why: string };
}

export function clusterName(port: number, host: string): string {
  return `outbound|${port}||${host}`;
}

export interface WildcardListener {
  name: string;
  kind: 'wildcard';
  /** Services routed by Host on the sniffed HTTP chain; undefined when the listener has no HTTP chain. */
  http?: ServicePort[];
  tls: ServicePort[];
  cidr: ServicePort[];
  matchAll?: ServicePort;
  conflicts: ServicePort[];
  /** Rules that shaped the listener (conflicts, a Sidecar port's protocol). */
  rules: RuleId[];
  /** The listener entry's protocol as istiod tracks it for conflicts ('UNSUPPORTED' once sniffed). */
  protocol: string;
  /**
   * Set while an HTTP_PROXY service's HTTP chain, which has no ALPN match, takes every connection the listener's
   * other chains do not: a non-HTTP call then meets an HTTP connection manager (see buildListeners).
   */
  proxyHcm?: boolean;
}

export interface AddressListener {
  name: string;
  kind: 'address';
  ip: string;
  service: ServicePort;
  /**
   * The unset-protocol service whose HTTP chain joined a TCP service's listener: plain HTTP (ALPN http/1.x or h2c
   * from the HTTP inspector) takes that chain and its route `<host>:<port>`, anything else the TCP chain.
   */
  http?: ServicePort;
  /**
   * The later service whose match-all chain joined a holder whose chains all match SNIs (mesh VirtualService tls
   * routes): the listener's default chain, which a call none of those SNIs matches takes.
   */
  fallback?: ServicePort;
  conflicts: ServicePort[];
  rules: RuleId[];
}

export type ListenerModel = WildcardListener | AddressListener;

/** Istio's processing order of services for a workload: export class, creation time, host, namespace. */
export function compareRank(a: Pick<ServicePort, 'rank'>, b: Pick<ServicePort, 'rank'>): number {
  for (let i = 0; i < Math.max(a.rank.length, b.rank.length); i++) {
    const x = a.rank[i];
    const y = b.rank[i];
    if (x === y) continue;
    return x! < y! ? -1 : 1;
  }
  return 0;
}

export function buildListeners(
  ports: ServicePort[],
  _v: IstioVersion,
  /** Whether mesh VirtualService tls routes give a TLS service SNI chains in place of its own (virtual-service.ts meshTlsRouteSni). */
  sniOnly: (sp: ServicePort) => boolean = () => false,
): Map<string, ListenerModel> {
  const out = new Map<string, ListenerModel>();
  // An unset-protocol service arriving on a wildcard port that already has an HTTP chain loses its TCP chain:
  // the HTTP service left the entry Unsupported and an Auto port meeting that exits early
  // (buildSidecarOutboundListener, pilot/pkg/networking/core/listener.go; the same in both pinned builds).
  // A Sidecar egress listener's bind keys the listener in place of 0.0.0.0, with the same chains.
  const keyOf = (sp: ServicePort) => `${sp.bind ?? '0.0.0.0'}_${sp.port}`;
  const wildcard = (sp: ServicePort): WildcardListener => {
    const name = keyOf(sp);
    let l = out.get(name) as WildcardListener | undefined;
    if (!l)
      out.set(
        name,
        (l = {
          name,
          kind: 'wildcard',
          tls: [],
          cidr: [],
          conflicts: [],
          rules: [],
          protocol: '',
        }),
      );
    return l;
  };
  const routeOnly: ServicePort[] = [];
  // The port-less egress listener comes last (listener.go buildSidecarOutboundListeners locks every entry the
  // listeners with ports made before it builds its own).
  const ordered = [...ports].sort((a, b) => Number(!!a.catchAll) - Number(!!b.catchAll) || compareRank(a, b));
  let locked: Set<string> | undefined;
  const addHttp = (l: WildcardListener, sp: ServicePort) => {
    l.http ??= [];
    if (!sp.catchAll) l.http.push(sp);
  };
  for (const sp of ordered) {
    if (sp.catchAll) locked ??= new Set(out.keys());
    if (instancesOnly(sp)) {
      // Its HTTP routes are built from the services, not the listeners: they appear if another service opens the port.
      if (sp.kind === 'sniffed' && !sp.catchAll) routeOnly.push(sp);
      // One listener per instance (selected Pod) address (listener.go buildSidecarOutboundListeners binds a
      // Passthrough service with LabelSelectors to its instances' addresses). The port-less egress listener does
      // this too for a port a listener with the port has, on the instance keys that one left free. Checked on
      // istiod eed52ebb66ad (2026-12-03), fixtures/rules/catch-all-instance-listeners.yaml.
      for (const ip of sp.instanceIps ?? []) {
        if (ip === sp.ownInstanceIp) continue;
        const name = `${ip}_${sp.port}`;
        if (locked?.has(name)) continue;
        const existing = out.get(name) as AddressListener | undefined;
        if (existing) joinAddress(existing, sp, sniOnly);
        else out.set(name, { name, kind: 'address', ip, service: sp, conflicts: [], rules: ['listener.instances-only'] });
      }
      continue;
    }
    if (sp.kind !== 'http' && sp.ips.length > 0 && sp.bind === undefined) {
      for (const ip of sp.ips) {
        const name = `${ip}_${sp.port}`;
        if (locked?.has(name)) continue;
        const existing = out.get(name) as AddressListener | undefined;
        if (existing) joinAddress(existing, sp, sniOnly);
        else out.set(name, { name, kind: 'address', ip, service: sp, conflicts: [], rules: sidecarPortRule(sp) });
      }
      if (sp.cidrs.length === 0 && !sp.unspecifiedCidr) {
        // Route `<port>` still has a virtual host for it: RDS takes every service with the port whose protocol is
        // HTTP or sniffed, whatever its address (httproute.go BuildSidecarOutboundVirtualHosts, route.go
        // BuildSidecarVirtualHostWrapper IsHTTPOrSniffed), so a request reaching another service's HTTP chain on
        // 0.0.0.0_<port> is routed to it by Host (corpus master-2026-08-27 s38-1#2).
        if (sp.kind === 'sniffed' && !sp.catchAll) routeOnly.push(sp);
        continue;
      }
    }
    if (locked?.has(keyOf(sp))) continue;
    const isNew = !out.has(keyOf(sp));
    const l = wildcard(sp);
    const proto = portProtocol(sp);
    l.rules.push(...sidecarPortRule(sp));
    // listener.go buildSidecarOutboundListener: an HTTP_PROXY port's HTTP chain gets no ALPN match and the entry
    // keeps the protocol HTTP_PROXY, which IsHTTP: an unset-protocol service processed after it is conflict
    // AutoOverHTTP, which replaces the entry with its own chains (a match-all TCP chain and the sniffed HTTP chain),
    // where after an HTTP service (protocol left Unsupported) it exits early. Checked on istiod eed52ebb66ad
    // (2026-12-03), fixtures/rules/sniffed-after-http-proxy.yaml.
    const overProxy = !isNew && l.protocol === 'HTTP_PROXY' && sp.kind === 'sniffed';
    if (overProxy) {
      l.rules.push('listener.sniffed-over-http-proxy');
      l.proxyHcm = false;
    }
    // Whatever the bind (listener.go takes this branch on the port's protocol alone); a bind of 0.0.0.0 keys the same
    // listener as none. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/http-proxy-port-bound-any.yaml.
    if (proto === 'HTTP_PROXY' && (sp.bind === undefined || sp.bind === '0.0.0.0')) {
      // The same function builds an HTTP_PROXY port's chains before any conflict check and stores them as a new
      // entry (conflict type NoConflict): a later HTTP_PROXY service replaces the chains earlier services left on
      // the port with its match-all HTTP chain. Checked on istiod eed52ebb66ad (2026-12-03): a TCP entry's chain is
      // gone, a raw TCP call reaches the HTTP connection manager.
      if (!isNew) {
        l.conflicts.push(...(l.matchAll ? [l.matchAll] : []), ...l.tls, ...l.cidr);
        l.matchAll = undefined;
        l.tls = [];
        l.cidr = [];
      }
      l.proxyHcm = true;
      l.protocol = 'HTTP_PROXY';
      addHttp(l, sp);
      continue;
    }
    // A match-all TCP chain merged after it equals that HTTP chain's empty match and is dropped (mergeTCPFilterChains).
    if (l.proxyHcm && (sp.kind === 'tcp' || sp.kind === 'sniffed') && sp.cidrs.length === 0 && sp.ips.length === 0) {
      conflict(l, sp, 'listener.tcp-conflict');
      if (sp.kind === 'tcp') l.protocol = 'UNSUPPORTED';
      // An unset-protocol service that exits early still has its virtual host on route <port>, which is built from
      // every service of the egress listener whose own port is HTTP or unset (httproute.go
      // BuildSidecarOutboundVirtualHosts, route.go IsHTTPOrSniffed): the HTTP_PROXY chain's connection manager routes
      // it. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/http-proxy-tcp-sniffed.yaml.
      else addHttp(l, sp);
      continue;
    }
    if (sp.unspecifiedCidr && sp.kind !== 'http' && sp.bind === undefined) l.rules.push('listener.unspecified-cidr');
    if (isNew) l.protocol = proto === 'HTTP_PROXY' ? proto : sp.kind === 'http' || sp.kind === 'sniffed' ? 'UNSUPPORTED' : proto;
    else if (l.protocol === 'HTTP_PROXY' && sp.kind === 'http') {
      // another HTTP service exits early: the entry stays HTTP_PROXY (its virtual host is on the port's route all the same)
    } else if ((WELL_KNOWN.has(proto) || WELL_KNOWN.has(l.protocol)) && proto !== l.protocol) {
      // listener.go isConflictWithWellKnownPort: a server-first protocol (MongoDB, MySQL) never shares a port
      // with another protocol, because sniffing would break it; the service processed later loses the port.
      // Found by fuzzing (seed 12, path 306).
      l.conflicts.push(sp);
      l.rules.push('listener.well-known-conflict');
      continue;
    } else if (l.protocol !== proto) l.protocol = 'UNSUPPORTED'; // HTTP and TCP merged: the listener sniffs
    if (sp.cidrs.length > 0 && sp.kind !== 'http' && sp.bind === undefined) {
      if (sp.kind === 'sniffed') {
        // A sniffed port's HTTP routes come from the service, whatever its addresses: the listener also gets
        // the HTTP chain with a virtual host for it (found by fuzzing: fixtures/rules/fuzz-s3-187.yaml).
        const hadHttp = l.http !== undefined;
        addHttp(l, sp);
        // A CIDR binds 0.0.0.0 too, so an Auto port meeting the Unsupported entry an HTTP (or sniffed) service
        // left there exits early as any sniffed port does: its prefix chain is never built (listener.go
        // buildSidecarOutboundListener; corpus master-2026-08-27 s6-7#0).
        if (hadHttp && !overProxy) {
          conflict(l, sp, 'listener.sniffed-after-http');
          continue;
        }
      }
      l.cidr.push(sp);
      // A CIDR on 0.0.0.0 beside this one is a service of its own (conversion.go, one per address) whose chain
      // matches every destination (expect.ts onUnspecified).
      if (!sp.unspecifiedCidr || sp.kind === 'sniffed') continue;
    }
    switch (sp.kind) {
      case 'http':
        addHttp(l, sp);
        break;
      case 'tls':
        // tls.go buildSidecarOutboundTLSFilterChainOpts matches SNI only for a service with a CIDR address, one with
        // no address on a listener bound to 0.0.0.0, or a DYNAMIC_DNS wildcard: under a bind a TLS service with an
        // address (or, on a bind other than 0.0.0.0, none) gets a chain matching everything, which an earlier
        // match-all chain makes a conflict. An entry's CIDRs are services of their own (conversion.go, one per
        // address): they keep an SNI chain.
        if (
          sp.bind !== undefined &&
          !(isWildcard(sp.host) && sp.se.resolution === 'DYNAMIC_DNS') &&
          (sp.ips.length > 0 || (sp.cidrs.length === 0 && sp.bind !== '0.0.0.0'))
        ) {
          if (l.matchAll) conflict(l, sp, 'listener.tcp-conflict');
          else l.matchAll = sp;
          if (sp.cidrs.length > 0) l.tls.push(sp);
        } else l.tls.push(sp);
        break;
      case 'tcp':
        if (l.matchAll) conflict(l, sp, 'listener.tcp-conflict');
        else l.matchAll = sp;
        break;
      case 'sniffed': {
        const hadHttp = l.http !== undefined;
        addHttp(l, sp);
        if (hadHttp && !overProxy) conflict(l, sp, 'listener.sniffed-after-http');
        else if (l.matchAll) conflict(l, sp, 'listener.tcp-conflict');
        else l.matchAll = sp;
        break;
      }
    }
  }
  for (const sp of routeOnly) {
    const l = out.get(keyOf(sp));
    if (l?.kind === 'wildcard' && l.http) l.http.push(sp);
  }
  // Every HTTP chain of a port shares route `<port>`, built from the services of the egress listener with that port
  // (sidecar.go GetEgressListenerForRDS, listener.go buildSidecarOutboundHTTPListenerOpts): a bind that keys the
  // port listener's services elsewhere leaves them virtual hosts on the port-less listener's 0.0.0.0_<port>, and
  // the reverse. Corpus master-2026-08-27 s102-13#3.
  for (const l of out.values()) {
    if (l.kind !== 'wildcard' || !l.http) continue;
    const http = l.http;
    const port = Number(l.name.slice(l.name.lastIndexOf('_') + 1));
    const boundHere = l.name !== `0.0.0.0_${port}`;
    for (const sp of ordered)
      if (
        sp.port === port &&
        !sp.catchAll &&
        // The entry's own port decides, not the Sidecar port that keyed its listener (ownPortRouted). Checked on
        // istiod eed52ebb66ad (2026-12-03), fixtures/rules/sidecar-bound-tcp-port-route.yaml.
        (sp.kind === 'http' || sp.kind === 'sniffed' || (sp.sidecarPortProtocol !== undefined && ownPortRouted(sp))) &&
        keyOf(sp) !== l.name &&
        (sp.bind !== undefined || boundHere) &&
        !http.includes(sp)
      )
        http.push(sp);
  }
  // A route keeps one service per host name, the last of the egress listener's services that has the port
  // (httproute.go BuildSidecarOutboundVirtualHosts fills servicesByName in processing order): when two entries
  // of one namespace declare the host and the port, the later one's protocol decides whether the host gets a
  // virtual host (route.go: only an HTTP or sniffed port does). Corpus master-2026-08-27 s139-0#0.
  const last = new Map<string, ServicePort>();
  for (const sp of ordered) if (!sp.catchAll) last.set(`${sp.host}:${sp.port}`, sp);
  for (const l of out.values())
    if (l.kind === 'wildcard' && l.http)
      l.http = l.http.filter((sp) => sp.catchAll || (last.get(`${sp.host}:${sp.port}`)?.se === sp.se && ownPortRouted(sp)));
  return out;
}

/**
 * A non-HTTP port of a resolution-NONE entry without addresses that selects workloads gets a listener per
 * selected workload address, never the wildcard one (listener.go buildSidecarOutboundListeners: a Passthrough
 * service with LabelSelectors binds its instances). Its instances are the selected Pods, whose addresses no
 * probe dials (this project declares no WorkloadEntries), so for a probe the port has no listener at all.
 * Found by fuzzing: fixtures/rules/fuzz-s3-119.yaml; an empty selector is one too (corpus s3-7).
 */
const WELL_KNOWN = new Set(['MONGO', 'MYSQL']);

/**
 * A later service on an address listener (`<ip>_<port>`) someone processed earlier holds. listener.go
 * buildSidecarOutboundListener: its match-all TCP chain conflicts with the holder's and is dropped
 * (mergeTCPFilterChains), but an unset-protocol service meeting a TCP-protocol holder (TCP, TLS, HTTPS, Redis:
 * conflict AutoOverTCP) also brings its HTTP chain, which matches on the HTTP inspector's ALPN and so conflicts
 * with nothing: it is merged in and the listener becomes sniffed, after which another unset-protocol service
 * exits early. A MongoDB or MySQL holder refuses it (isConflictWithWellKnownPort). The same at both pinned builds.
 * Found by fuzzing: fixtures/rules/fuzz-s1-212.yaml (a TCP entry exported to one namespace comes before a public
 * one on their shared address, and plain HTTP still reaches the public one).
 */
function joinAddress(l: AddressListener, sp: ServicePort, sniOnly: (sp: ServicePort) => boolean): void {
  const holder = l.service;
  // tls.go buildSidecarOutboundTLSFilterChainOpts: a TLS service with mesh tls routes gets chains matching their
  // SNIs only, so the first later service with a match-all chain (TCP, sniffed, or TLS without such routes)
  // conflicts with none of them and mergeTCPFilterChains keeps it. Corpus master-2026-08-27 s237-168#0.
  const matchAll = sp.kind === 'tcp' || sp.kind === 'sniffed' || (sp.kind === 'tls' && !sniOnly(sp));
  if (holder.kind === 'tls' && sniOnly(holder) && !l.fallback && matchAll && !WELL_KNOWN.has(portProtocol(sp))) {
    l.fallback = sp;
    if (sp.kind === 'sniffed' && !l.http) {
      l.http = sp;
      l.rules.push('listener.sniffed-over-tcp');
    }
    return;
  }
  l.conflicts.push(sp);
  l.rules.push('listener.tcp-conflict');
  if (sp.kind === 'sniffed' && !l.http && holder.kind !== 'sniffed' && holder.kind !== 'http' && !WELL_KNOWN.has(portProtocol(holder))) {
    l.http = sp;
    l.rules.push('listener.sniffed-over-tcp');
  }
}

/**
 * The route's virtual hosts come from the entry's own port, not the Sidecar egress port that built the listener:
 * httproute.go BuildSidecarOutboundVirtualHosts keeps the service's port (svc.Ports.GetByPort) and route.go
 * BuildSidecarVirtualHostWrapper builds a default virtual host only for a port that IsHTTPOrSniffed. So a TCP or
 * TLS entry under an HTTP egress port gets an HTTP chain whose route has no virtual host for it. Found by fuzzing
 * (seed 8888, path 38): fixtures/rules/fuzz-s8888-38.yaml.
 */
function ownPortRouted(sp: ServicePort): boolean {
  if (sp.sidecarPortProtocol === undefined) return true;
  const own = portKind(sp.se.ports.find((p) => p.number === sp.port)?.protocol ?? '');
  return own === 'http' || own === 'sniffed';
}

function conflict(l: WildcardListener, sp: ServicePort, rule: RuleId): void {
  l.conflicts.push(sp);
  l.rules.push(rule);
}

function sidecarPortRule(sp: ServicePort): RuleId[] {
  return sp.sidecarPortProtocol !== undefined ? ['listener.sidecar-port-protocol'] : [];
}

function portProtocol(sp: ServicePort): string {
  if (sp.sidecarPortProtocol !== undefined) return sp.sidecarPortProtocol || 'UNSUPPORTED';
  return sp.se.ports.find((p) => p.number === sp.port)?.protocol || 'UNSUPPORTED';
}

export function instancesOnly(sp: ServicePort): boolean {
  // Only the catch-all egress listener (or no Sidecar) binds per workload; a Sidecar port always binds.
  return (
    sp.sidecarPortProtocol === undefined &&
    // A bind puts even such a service on `<bind>_<port>` (listener.go: only a listener without a bind binds per instance).
    sp.bind === undefined &&
    sp.kind !== 'http' &&
    sp.se.resolution === 'NONE' &&
    sp.ips.length === 0 &&
    sp.cidrs.length === 0 &&
    // A CIDR on 0.0.0.0 is an address all the same: only a service whose address is 0.0.0.0 binds per instance.
    !sp.unspecifiedCidr &&
    // A selector without labels is a selector all the same: istiod falls back to the wildcard listener only
    // when LabelSelectors is nil (listener.go), and conversion.go sets it from any workloadSelector; nor when the
    // service has instances, though none has an IP address to bind (listener.go skips those, binding nothing).
    (sp.se.workloadSelector !== undefined || !!sp.hasInstances)
  );
}
