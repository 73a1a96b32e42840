// Where a probe lands once the listener is known: a chain, a route, a cluster, or the policy's catch-all.
// Each landing names the rule that decided it (rules.ts) and the rules it passed on the way.
import type { BlockSignal, Probe } from '../model/types.ts';
import { ipInCidr } from '../net/addresses.ts';
import { altVirtualHosts, domainMatches, isWildcard, subsetOf } from './hosts.ts';
import { clusterName, type ListenerModel, type ServicePort, type WildcardListener } from './listeners.ts';
import type { PolicyDecision } from './policy.ts';
import type { RuleId } from './rules.ts';
import { entryLabel } from './entry-label.ts';

export const BLACKHOLE = 'BlackHoleCluster';

export interface Landing {
  cluster: string;
  blocked: boolean;
  signal?: BlockSignal;
  how: string;
  /** The deciding rule. */
  rule: RuleId;
  /** Rules passed before the deciding one (the chain or route that led to it). */
  via: RuleId[];
  /** Set when istiod's answer depends on something the model cannot tell (said aloud as not modelled). */
  undecided?: string;
}

/** Where an HTTP request meets a policy catch-all: a port's route, or virtualOutbound's DFP chain. */
type HttpCatchAll = 'route' | 'outbound';

/** meshConfig ALLOW_ANY_DYNAMIC_DNS: plain HTTP to an unknown host goes through Envoy's dynamic forward proxy. */
export const DFP_CLUSTER = 'AllowAnyDynamicDNSCluster';

function policyLanding(policy: PolicyDecision, how: string, via: RuleId, http?: HttpCatchAll): Landing {
  const src = policy.source;
  if (policy.mode === 'ALLOW_ANY_DYNAMIC_DNS') {
    // httproute.go buildCatchAllVirtualHost and listener_builder.go buildOutboundCatchAllNetworkFilterChains: plain
    // HTTP (a port's route catch-all, or virtualOutbound's HTTP-inspector chain) → AllowAnyDynamicDNSCluster;
    // everything else falls through to PassthroughCluster as under ALLOW_ANY (buildOutboundCatchAllNetworkFiltersOnly).
    if (http)
      return {
        cluster: DFP_CLUSTER,
        blocked: false,
        rule: 'mesh.allow-any-dynamic-dns',
        via: [via],
        how: `${how} → ${http === 'route' ? 'catch-all virtual host allow_any_dynamic_dns' : "virtualOutbound's allow_any_dynamic_dns HTTP chain"} → ${DFP_CLUSTER} (ALLOW_ANY_DYNAMIC_DNS)`,
      };
    return {
      cluster: policy.passthrough,
      blocked: false,
      rule: 'mesh.dynamic-dns-passthrough',
      via: [via],
      how: `${how} → ${policy.passthrough} (ALLOW_ANY_DYNAMIC_DNS: only plain HTTP takes the dynamic forward proxy)`,
    };
  }
  if (policy.mode === 'ALLOW_ANY' && policy.missingEgressCluster) {
    // istiod names the egress proxy's cluster whether or not it builds it (route.GetDestinationCluster with no
    // service); Envoy's tcp_proxy closes a connection to an unknown cluster, its router answers 503 (no cluster):
    // a request on a port's HTTP route meets the allow_any virtual host, which names that cluster (httproute.go
    // buildCatchAllVirtualHost). Found by fuzzing: seed 7 path 24, corpus master-2026-08-27 s14-9#1.
    return {
      cluster: policy.passthrough,
      blocked: true,
      signal: http === 'route' ? 'http-503' : 'tcp-close',
      rule: 'sidecar.egress-proxy-missing',
      via: [via],
      how: `${how} → ${policy.passthrough}, the egressProxy's cluster, which this sidecar does not have (${policy.missingEgressCluster}): Envoy fails the call`,
    };
  }
  if (policy.mode === 'ALLOW_ANY')
    return {
      cluster: policy.passthrough,
      blocked: false,
      rule: policy.egressProxy ? 'sidecar.egress-proxy' : `${src}.allow-any`,
      via: [via],
      how: `${how} → ${policy.passthrough} (ALLOW_ANY)`,
    };
  if (http === 'route')
    return {
      cluster: BLACKHOLE,
      blocked: true,
      signal: 'http-502',
      rule: `${src}.registry-only-http`,
      via: [via],
      how: `${how} → catch-all virtual host block_all answers 502 with server: envoy (REGISTRY_ONLY)`,
    };
  return {
    cluster: BLACKHOLE,
    blocked: true,
    signal: 'tcp-close',
    rule: `${src}.registry-only`,
    via: [via],
    how: `${how} → BlackHoleCluster (REGISTRY_ONLY): the sidecar accepts the connection and closes it`,
  };
}

/**
 * The service's cluster. `viaRoute` is set when an HTTP connection manager's route names it: for a cluster
 * istiod does not build, Envoy's router then answers 503 (no cluster), where a tcp_proxy closes the connection.
 */
function toService(sp: ServicePort, how: string, rule: RuleId, viaRoute = false): Landing {
  const c = clusterName(sp.clusterPort ?? sp.port, sp.host);
  if (sp.unbuilt) {
    return {
      cluster: c,
      blocked: true,
      signal: viaRoute ? 'http-503' : 'tcp-close',
      rule: sp.unbuilt.rule,
      via: [rule],
      how: `${how} → ${c}, which istiod does not build (${sp.unbuilt.why}): Envoy fails the call`,
    };
  }
  const dns = sp.se.resolution === 'DNS' || sp.se.resolution === 'DNS_ROUND_ROBIN';
  // cluster.go buildOutboundClusters: a wildcard DYNAMIC_DNS entry's HTTP, TLS, GRPC and HTTP2 ports get a dynamic
  // forward proxy cluster under the usual outbound|port||host name; the listeners and routes are those of any entry.
  const note = dns
    ? ` (resolution ${sp.se.resolution}: it connects to ${sp.se.endpoints.length ? 'the listed endpoints' : `${sp.host}'s resolved address`}, not to the dialled one)`
    : sp.se.resolution === 'DYNAMIC_DNS'
      ? ' (resolution DYNAMIC_DNS: a dynamic forward proxy cluster resolves the request’s Host or SNI)'
      : '';
  return { cluster: c, blocked: false, rule, via: [], how: `${how} → ${c} of ${entryLabel(sp.se)}${note}` };
}

/** Envoy's virtual-host choice: exact domain, then the longest suffix wildcard; ports are ignored (ignore_port_in_host_matching). */
function virtualHost(
  services: ServicePort[],
  host: string,
  routed: (host: string) => boolean = () => false,
  proxyNs?: string,
): { sp: ServicePort; byAddress: boolean } | undefined {
  let best: { sp: ServicePort; rank: number; len: number } | undefined;
  // The virtual host's domains are the host name and the entry's addresses (generateVirtualHostDomains); an address
  // shared by several hosts stays with the first virtual host built, and those of hosts a VirtualService routes
  // are built first (route.go BuildSidecarVirtualHostWrapper, httproute.go dedupeDomains). Corpus s107-2#4. An
  // entry with several addresses is one service per address, of which the route keeps one per host in map order:
  // whether its virtual host has this address at all is arbitrary (s64-8#2), so only a one-address entry's counts.
  const byAddress = services.filter((sp) => sp.ips.includes(host) || sp.addressDomains?.includes(host));
  const first = byAddress.find((sp) => routed(sp.host) && sp.se.addresses.length === 1) ?? byAddress[0];
  if (first) return { sp: first, byAddress: true };
  for (const sp of services) {
    const m = domainMatches(host, sp.host);
    if (!m || m === 'any') continue;
    const rank = m === 'exact' ? 3 : 1;
    if (!best || rank > best.rank || (rank === best.rank && sp.host.length > best.len)) best = { sp, rank, len: sp.host.length };
  }
  // A host's other names for the proxy's DNS domain are exact domains of its virtual host too (hosts.ts
  // altVirtualHosts), unless a service has that name itself (httproute.go dedupeDomains: an expanded host that is a
  // known FQDN is dropped).
  if ((!best || best.rank < 3) && proxyNs !== undefined && !services.some((sp) => sp.host === host)) {
    const alt = services.find((sp) => altVirtualHosts(sp.host, proxyNs).includes(host));
    if (alt) best = { sp: alt, rank: 2, len: alt.host.length };
  }
  return best ? { sp: best.sp, byAddress: false } : undefined;
}

function sniMatch(services: ServicePort[], sni: string): ServicePort | undefined {
  return (
    services.find((sp) => sp.host === sni) ??
    services.filter((sp) => isWildcard(sp.host) && subsetOf(sni, sp.host)).sort((a, b) => b.host.length - a.host.length)[0]
  );
}

/**
 * The CIDR chains Envoy keeps for a destination: those of the longest matching prefix (FilterChainMatch
 * prefix_ranges), in processing order, so the first entry wins among equal plain TCP ones (istiod drops a chain
 * whose ranges repeat an earlier one's once insignificant bits are masked). Upstream: TestServiceEntry "overlapping CIDR" and "identical CIDR (ignoring
 * insignificant bits) is dropped" (serviceentry_simulation_test.go; fixtures/rules/upstream-serviceentry-cidr.yaml).
 */
function longestPrefixChains(services: ServicePort[], dst: string): ServicePort[] {
  const lens = services.map((sp) => Math.max(-1, ...sp.cidrs.filter((r) => ipInCidr(dst, r)).map((r) => Number(r.split('/')[1]))));
  const best = Math.max(-1, ...lens);
  return best < 0 ? [] : services.filter((_, i) => lens[i] === best);
}

function landWildcard(
  l: WildcardListener,
  probe: Probe,
  dst: string | undefined,
  mode: PolicyDecision,
  routed?: (host: string) => boolean,
  routeSni?: (sp: ServicePort) => string[] | undefined,
): Landing {
  const { scheme, host, port, isIp } = probe.to;
  const at = `listener ${l.name}`;
  // Envoy narrows filter chains by destination prefix before SNI, transport or ALPN: a destination inside an
  // entry's CIDR only ever reaches the chains of the longest matching prefix (a TLS one still needs its SNI),
  // else the default chain. Found by fuzzing: fixtures/rules/fuzz-s1-355.yaml.
  const inRange = dst ? longestPrefixChains(l.cidr, dst) : [];
  const [nearest] = inRange;
  if (nearest) {
    const cidr = nearest.cidrs.join(',');
    const tls = inRange.filter((sp) => sp.kind === 'tls');
    if (scheme === 'https' && !isIp) {
      const sp = sniMatch(tls, host);
      if (sp) return toService(sp, `${at}, chain for ${cidr} with SNI ${sp.host}`, 'se.cidr-sni-chain');
    }
    const plain = inRange.find((sp) => sp.kind !== 'tls');
    if (plain) return toService(plain, `${at}, chain for ${cidr}`, 'se.cidr-chain');
    // Envoy does not backtrack out of the prefix it matched: the call takes the listener's default filter chain,
    // which is the match-all TCP chain when the port has one (listener.go buildListenerFromEntry moves a match-all
    // chain to DefaultFilterChain), else the policy's PassthroughFilterChain. Corpus master-2026-08-27 s41-12#0.
    if (l.matchAll) {
      const viaDefault = toService(
        l.matchAll,
        `${at}: ${dst} is in ${cidr}, whose chains take only TLS with SNI ${tls.map((sp) => sp.host).join(' or ')}; the default chain is the match-all TCP chain`,
        'se.tcp-port-capture',
      );
      return { ...viaDefault, via: [...viaDefault.via, 'se.cidr-tls-only'] };
    }
    return policyLanding(
      mode,
      `${at}: ${dst} is in ${cidr}, whose chains take only TLS with SNI ${tls.map((sp) => sp.host).join(' or ')}; default chain`,
      'se.cidr-tls-only',
    );
  }
  if (scheme === 'http' && l.http) {
    const vh = virtualHost(l.http, host, routed, probe.from.namespace);
    // conversion.go convertServices makes one service per host and address; the route keeps one of them per host
    // (httproute.go BuildSidecarOutboundVirtualHosts servicesByName), in krt collection order: which address is a
    // domain of the virtual host is arbitrary when the entry has several.
    const oneOfSeveral =
      vh?.byAddress && vh.sp.se.addresses.length > 1
        ? ` (one of ${vh.sp.se.addresses.length} addresses; istiod keeps one per host, which one is arbitrary)`
        : '';
    if (vh) {
      const landing = toService(
        vh.sp,
        `${at}, HTTP chain, route ${port}, virtual host ${vh.sp.host}:${port}${oneOfSeveral}`,
        vh.byAddress ? 'se.http-route-address' : 'se.http-route',
        true,
      );
      // Tried on istiod eed52ebb66ad (2026-12-03): the address kept is neither the first nor the last declared,
      // nor steady when a CIDR is among them (fuzz-s1-5, fixtures/rules/pending).
      return oneOfSeveral
        ? { ...landing, undecided: 'an HTTP call by address to an entry with several addresses (istiod keeps one per host)' }
        : landing;
    }
    return policyLanding(
      mode,
      `${at}, HTTP chain, route ${port}: no virtual host for ${host}${probe.to.absolute ? '.' : ''}`,
      'se.http-no-virtual-host',
      'route',
    );
  }
  if (scheme === 'https' && !isIp) {
    // A TLS service whose mesh VirtualService has tls routes for the port gets one chain per route match, on that
    // match's sniHosts, and no chain of its own (tls.go buildSidecarOutboundTLSFilterChainOpts: `!hasTLSMatch`):
    // a server name under the service's host that no route names finds no chain. Checked on istiod eed52ebb66ad
    // (2026-12-03), fixtures/rules/vs-tls-tcp-routes.yaml.
    const chains = l.tls.flatMap((sp) => (routeSni?.(sp) ?? [sp.host]).map((name) => ({ sp, name })));
    const hit =
      chains.find((c) => c.name === host) ??
      chains.filter((c) => isWildcard(c.name) && subsetOf(host, c.name)).sort((a, b) => b.name.length - a.name.length)[0];
    if (hit) return toService(hit.sp, `${at}, SNI chain ${hit.name}`, 'se.sni-chain');
    const unrouted = l.tls.find((sp) => routeSni?.(sp) && subsetOf(host, sp.host));
    if (unrouted && !l.matchAll)
      return policyLanding(
        mode,
        `${at}: VirtualService tls routes give ${unrouted.host} chains for SNI ${routeSni?.(unrouted)?.join(', ')} only, none for ${host}; default chain`,
        'listener.default-chain',
      );
  }
  const carried = scheme === 'http' ? 'plain HTTP' : scheme === 'https' ? 'TLS' : 'non-HTTP TCP';
  if (l.matchAll) return toService(l.matchAll, `${at}: ${carried} takes the match-all TCP chain`, 'se.tcp-port-capture');
  const why =
    scheme === 'https'
      ? isIp
        ? 'TLS to an IP literal carries no SNI'
        : `no SNI chain for ${host}`
      : scheme === 'http'
        ? 'no HTTP chain on this port'
        : 'no chain for non-HTTP traffic';
  return policyLanding(mode, `${at}: ${why}; default chain`, 'listener.default-chain');
}

export function land(
  l: ListenerModel | undefined,
  probe: Probe,
  dst: string | undefined,
  mode: PolicyDecision,
  /** The SNIs of mesh VirtualService tls routes for an address listener's TLS service (virtual-service.ts meshTlsRouteSni). */
  tlsRouteSni?: string[],
  /** Whether a mesh VirtualService has an HTTP route for a host on the probe's port. */
  httpRouted?: (host: string) => boolean,
  /** The SNIs of mesh VirtualService tls routes for a TLS service, when they replace its own chain. */
  routeSni?: (sp: ServicePort) => string[] | undefined,
  /** meshConfig.proxyListenPort, the port virtualOutbound listens on (15001 unless the mesh says otherwise). */
  capturePort = 15001,
): Landing {
  if (!l && probe.to.port === capturePort) {
    // listener_builder.go blackholeFilterChain: a call to the capture port itself would loop back into the
    // proxy, so virtualOutbound sends it to BlackHoleCluster whatever the policy; the port is the mesh's
    // ProxyListenPort. Upstream: TestLoop (sidecar_simulation_test.go; fixtures/rules/upstream-loop.yaml);
    // another port checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/capture-port-from-mesh.yaml.
    return {
      cluster: BLACKHOLE,
      blocked: true,
      signal: 'tcp-close',
      rule: 'capture-port.loop',
      via: [],
      how: `port ${capturePort} is the sidecar's own capture port (meshConfig.proxyListenPort): virtualOutbound-blackhole chain → BlackHoleCluster under any policy`,
    };
  }
  if (!l)
    return policyLanding(
      mode,
      `no outbound listener for port ${probe.to.port}: virtualOutbound catch-all chain`,
      'listener.none',
      probe.to.scheme === 'http' ? 'outbound' : undefined,
    );
  // The HTTP chain's route `<host>:<port>` is cut from route `<port>`, whose virtual hosts come from the egress
  // listener with that port (sidecar.go GetEgressListenerForRDS): a service the port-less listener brought is not
  // among them, so the route has no virtual host and Envoy answers 404 itself
  // (httproute.go getVirtualHostsForSniffedServicePort finds none). Corpus master-2026-08-27 s230-165#9.
  const httpService =
    l?.kind === 'address' ? (l.http ?? (['http', 'sniffed'].includes(l.service.kind) ? l.service : undefined)) : undefined;
  if (httpService?.catchAll && probe.to.scheme === 'http')
    return {
      cluster: '(no route)',
      blocked: true,
      signal: 'http-404',
      rule: 'se.sniffed-route-no-virtual-host',
      via: [],
      how: `listener ${l.name}: plain HTTP takes the HTTP chain of ${entryLabel(httpService.se)}, route ${httpService.host}:${httpService.port}, which has no virtual host: the Sidecar's egress listener for port ${httpService.port} does not import ${httpService.host} → Envoy's 404`,
    };
  if (l.kind === 'address' && l.http && probe.to.scheme === 'http')
    // Ahead of any chain VirtualService tls routes give the holder: the HTTP chain matches on ALPN, not SNI.
    // The HTTP chain's route `<host>:<port>` keeps the one virtual host of that service, its domains made `*`
    // (httproute.go getVirtualHostsForSniffedServicePort): whatever the Host, the request goes to it.
    return toService(
      l.http,
      `listener ${l.name}: plain HTTP takes the HTTP chain ${entryLabel(l.http.se)} added to it, route ${l.http.host}:${l.http.port}`,
      'se.http-route',
      true,
    );
  if (l.kind === 'address' && l.service.kind === 'tls' && tlsRouteSni) {
    // tls.go buildSidecarOutboundTLSFilterChainOpts: VirtualService tls routes replace the service's own chain with
    // chains matching their SNIs; a call none of them matches takes the listener's default chain, by policy.
    // Corpus master-2026-08-27 s135-12#1, s123-14#3.
    const { scheme, host, isIp } = probe.to;
    const unmatched = scheme !== 'https' || isIp || !tlsRouteSni.some((h) => subsetOf(host, h));
    const carried = scheme === 'https' && !isIp ? `none matches ${host}` : 'the call carries no SNI';
    // A later service's match-all chain merged beside those chains is the listener's default chain (s237-168#0).
    if (unmatched && l.fallback)
      return toService(
        l.fallback,
        `listener ${l.name}: VirtualService tls routes give ${l.service.host} chains for SNI ${tlsRouteSni.join(', ')} only; ${carried}; the default chain is the match-all chain of ${l.fallback.host} (${entryLabel(l.fallback.se)}), which joined the listener later`,
        'se.tcp-port-capture',
      );
    if (unmatched)
      return policyLanding(
        mode,
        `listener ${l.name}: VirtualService tls routes give it chains for SNI ${tlsRouteSni.join(', ')} only; ${carried}; default chain`,
        'listener.default-chain',
      );
  }
  const sniOnly =
    l.kind === 'address' && l.service.kind === 'tls' && isWildcard(l.service.host) && l.service.se.resolution === 'DYNAMIC_DNS';
  if (l.kind === 'address' && sniOnly) {
    // tls.go buildSidecarOutboundTLSFilterChainOpts keeps the SNI match of a DYNAMIC_DNS wildcard's chain even on its
    // own address: its dynamic forward proxy cluster needs the server name to know where to go. A call without a
    // server name under the wildcard takes the listener's default chain. Corpus master-2026-08-27 s229-12#1.
    const { scheme, host, isIp } = probe.to;
    if (scheme !== 'https' || isIp || !subsetOf(host, l.service.host))
      return policyLanding(
        mode,
        `listener ${l.name}: the chain of ${entryLabel(l.service.se)} (a DYNAMIC_DNS wildcard) takes only TLS with SNI under ${l.service.host}; ${scheme === 'https' && !isIp ? `${host} is not` : 'the call carries no SNI'}; default chain`,
        'listener.default-chain',
      );
  }
  if (l.kind === 'address') {
    const why = l.service.autoAllocated
      ? `auto-allocated address of ${l.service.host}, answered by the sidecar's DNS proxy`
      : `address of ${entryLabel(l.service.se)}`;
    // An unset-protocol (sniffed) service's own listener has an HTTP chain beside its TCP one (listener.go
    // buildSidecarOutboundListener, ListenerProtocolAuto: buildSidecarOutboundHTTPListenerOpts with the HTTP
    // inspector's plaintext ALPNs, route `<host>:<port>`): plain HTTP takes it, so for a cluster istiod names but
    // does not build (or that has no endpoints) Envoy's router answers 503 where the tcp_proxy would close the
    // connection. Found by fuzzing: fixtures/rules/fuzz-s6262-160.yaml (an auto-allocated address).
    const httpChain = probe.to.scheme === 'http' && l.service.kind === 'sniffed';
    return toService(
      l.service,
      `listener ${l.name} (${why}): ${sniOnly ? `TLS with SNI under ${l.service.host}` : httpChain ? `plain HTTP takes its HTTP chain, route ${l.service.host}:${l.service.port}` : 'every connection to it'}`,
      l.service.autoAllocated ? 'se.auto-address-listener' : 'se.address-listener',
      httpChain,
    );
  }
  return landWildcard(l, probe, dst, mode, httpRouted, routeSni);
}
