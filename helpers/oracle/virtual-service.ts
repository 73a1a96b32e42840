// Which VirtualService routes a call and where its matching route sends it. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - HTTP routes of a VirtualService bound to `mesh` (no `gateways`, or `mesh` listed) replace the virtual host of
//   its hosts on an HTTP port (pilot/pkg/networking/core/httproute.go BuildSidecarOutboundVirtualHosts); `tls`
//   routes replace the SNI chain of a TLS/HTTPS port (tls.go buildSidecarOutboundTLSFilterChainOpts), `tcp`
//   routes the TCP chain (tcp). HTTP routes on a TLS port are not used: the chain is matched on SNI, not HTTP.
// - The first route whose match fits wins: `port`, `gateways`, `uri` exact/prefix/regex (route/route.go
//   translateRouteMatch); its destination names `outbound|PORT|SUBSET|HOST`, the port being the destination's
//   port, else the service's only port (route.go GetDestinationCluster).
import { ipInCidr } from '../net/addresses.ts';
import type { BlockSignal, IstioConfig, Probe, ResourceSet } from '../model/types.ts';
import { exportedTo } from './export-to.ts';
import { gatewayServiceFor, namesGateway } from './gateway.ts';
import { domainMatches, isWildcard, subsetOf } from './hosts.ts';
import { hostHeader } from '../probes/url.ts';
import { REQUEST_FIELDS, requestFieldsHold, uriHolds } from './http-match.ts';
import { creationSeconds } from './order.ts';

type Obj = Record<string, unknown>;
export type RouteKind = 'http' | 'tls' | 'tcp';

export interface Destination {
  host: string;
  port: number;
  subset: string;
  cluster: string;
  facts: string[];
  /**
   * The route answers the request itself (route.go translateRoute: `directResponse` → direct_response, `redirect` →
   * a RedirectAction; neither names a cluster): the call never leaves the proxy. A 502 is the blocking catch-all's
   * answer to the client's eye.
   */
  local?: { cluster: '(direct response)' | '(redirect)' | 'BlackHoleCluster'; signal: BlockSignal; status: number };
}

/** The oldest VirtualService bound to `boundTo` (`mesh` or a Gateway `ns/name`) whose hosts cover the host. */
export function virtualServiceFor(routing: IstioConfig[], host: string, boundTo: string, viewerNs: string): IstioConfig | undefined {
  return routing.find((r) => {
    if (r.kind !== 'VirtualService' || !exportedTo(r, viewerNs)) return false;
    const gws = (r.spec.gateways as string[] | undefined) ?? [];
    const bound = boundTo === 'mesh' ? gws.length === 0 || gws.includes('mesh') : namesGateway(r.namespace, gws, boundTo);
    return bound && ((r.spec.hosts as string[] | undefined) ?? []).some((h) => subsetOf(host, h));
  });
}

/**
 * The VirtualService a sidecar in `ns` routes a host by on one port. A sidecar takes the VirtualServices of its
 * own namespace kept there by exportTo first, then those exported to it by name, then the public ones
 * (model/virtualservice.go SelectVirtualServices over push_context.go initVirtualServices' three indexes), and
 * an HTTP one that has no route for the listener's port builds no virtual host, leaving the host to the next
 * (route/route.go buildSidecarVirtualHostsForVirtualService: no routes, no wrapper; httproute.go keeps the first
 * virtual host of a domain). Corpus master-2026-08-27 s91-7#3, s89-10#4.
 */
/** model/config.go configCompareByCreationTime: creation time, then name, then namespace. */
export function compareByCreation(a: IstioConfig, b: IstioConfig): number {
  const t = creationSeconds(a.manifest) - creationSeconds(b.manifest);
  if (t !== 0) return t;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0;
}

/** The proxy a route is translated for: its namespace and its Pod's labels. */
export interface RouteSource {
  namespace: string;
  labels: Record<string, string>;
}

/**
 * Does a match condition survive translation for this proxy on this port (route/route.go TranslateRoute)? A match
 * for another `port` is dropped; then sourceMatchHTTP: a match naming `gateways` is kept when one is the proxy's
 * (`mesh` for a sidecar), whatever its source fields; otherwise its `sourceLabels` must be a subset of the Pod's
 * labels and its `sourceNamespace`, if set, the proxy's namespace. Without `source` the source fields are not
 * decided (the match is dropped).
 */
function matchTranslated(m: Obj, boundTo: string, vsNs: string, port: number, source: RouteSource | undefined): boolean {
  if (m.port !== undefined && m.port !== port) return false;
  const gws = m.gateways as string[] | undefined;
  if (gws && gws.length > 0) return boundTo === 'mesh' ? gws.includes('mesh') : namesGateway(vsNs, gws, boundTo);
  const labels = (m.sourceLabels as Record<string, string> | undefined) ?? {};
  const ns = m.sourceNamespace as string | undefined;
  if (Object.keys(labels).length === 0 && !ns) return true;
  if (!source) return false;
  return Object.entries(labels).every(([k, v]) => source.labels[k] === v) && (!ns || ns === source.namespace);
}

/**
 * Does any http route of a VirtualService survive translation for the proxy on the port? A route without `match`
 * always does; one whose every match is dropped does not (route/route.go BuildHTTPRoutesForVirtualService: no
 * route at all is an error, and buildSidecarVirtualHostsForVirtualService then builds no virtual host from it).
 */
export function httpRoutesTranslated(vs: IstioConfig, boundTo: string, port: number, source: RouteSource | undefined): boolean {
  return ((vs.spec.http as Obj[] | undefined) ?? []).some((route) => {
    const match = route.match as Obj[] | undefined;
    return !match || match.length === 0 || match.some((m) => matchTranslated(m, boundTo, vs.namespace, port, source));
  });
}

/**
 * The order in which a proxy of `ns` holds the VirtualServices it sees (push_context.go initVirtualServices' three
 * indexes, read by SelectVirtualServices and VirtualServicesForGateway): those of `ns` kept there by exportTo, then
 * those exported to `ns` by name, then the public ones, each by creation time.
 */
export function viewOrder(ns: string): (a: IstioConfig, b: IstioConfig) => number {
  const bucket = (r: IstioConfig) => {
    const to = (r.spec.exportTo as string[] | undefined) ?? ['*'];
    if (to.includes('*')) return 2;
    return r.namespace === ns && to.some((t) => t === '.' || t === ns) ? 0 : 1;
  };
  return (a, b) => bucket(a) - bucket(b) || compareByCreation(a, b);
}

/** The mesh VirtualServices a sidecar of `ns` sees, in the order its egress listener holds them (see below). */
export function meshOrder(routing: IstioConfig[], ns: string): IstioConfig[] {
  return routing
    .filter((r) => {
      if (r.kind !== 'VirtualService' || !exportedTo(r, ns)) return false;
      const gws = (r.spec.gateways as string[] | undefined) ?? [];
      return gws.length === 0 || gws.includes('mesh');
    })
    .sort(viewOrder(ns));
}

const vsHosts = (vs: IstioConfig) => ((vs.spec.hosts as string[] | undefined) ?? []).map((h) => h.toLowerCase());

/** pkg/config/host/name.go Matches: the names overlap in either direction. */
const overlaps = (a: string, b: string) => subsetOf(a, b) || subsetOf(b, a);

/**
 * The VirtualService sidecar.go computeWildcardHostVirtualServiceIndex gives a service host: the first (in the
 * listener's order) with that exact host, else the first with the most specific wildcard host that covers it
 * (model/config.go MostSpecificHostMatch: the wildcard itself first for a wildcard service, then by suffix).
 */
function indexPick(ordered: IstioConfig[], svcHost: string): IstioConfig | undefined {
  const fqdn = new Map<string, IstioConfig>();
  const wild = new Map<string, IstioConfig>();
  for (const vs of ordered)
    for (const h of vsHosts(vs)) {
      const idx = isWildcard(h) ? wild : fqdn;
      if (!idx.has(h)) idx.set(h, vs);
    }
  if (!isWildcard(svcHost) && fqdn.has(svcHost)) return fqdn.get(svcHost);
  if (isWildcard(svcHost) && wild.has(svcHost)) return wild.get(svcHost);
  const needle = isWildcard(svcHost) ? svcHost.slice(1) : svcHost;
  let best: string | undefined;
  for (const h of wild.keys()) if (needle.endsWith(h.slice(1)) && (!best || h.length > best.length)) best = h;
  return best ? wild.get(best) : undefined;
}

/**
 * Which VirtualService takes the virtual host of a service on an HTTP route (route/route.go
 * separateVSHostsAndServices): one naming the service's host exactly, or one with a wildcard host overlapping it
 * that the index above gives that host, and whose routes survive translation for the proxy and port
 * (BuildHTTPRoutesForVirtualService); of several, the first in the listener's order keeps the virtual host (httproute.go
 * buildVirtualHost drops a duplicate name). So an exact host beats an older wildcard, the most specific wildcard an
 * older broader one, and a wildcard more specific than a wildcard service (`*.a.example.com` against
 * `*.example.com`) takes no part of it. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/vs-wildcard-hosts.yaml.
 */
export function httpVirtualServiceOfService(
  routing: IstioConfig[],
  svcHost: string,
  ns: string,
  port: number,
  source: RouteSource,
): IstioConfig | undefined {
  const ordered = meshOrder(routing, ns);
  return ordered.find((vs) => claimsService(ordered, vs, svcHost) && httpRoutesTranslated(vs, 'mesh', port, source));
}

/** Does the VirtualService take the service of this host among its own (separateVSHostsAndServices)? */
function claimsService(ordered: IstioConfig[], vs: IstioConfig, svcHost: string): boolean {
  if (vsHosts(vs).includes(svcHost)) return true;
  return indexPick(ordered, svcHost) === vs && vsHosts(vs).some((h) => isWildcard(h) && overlaps(svcHost, h));
}

/**
 * A virtual host a VirtualService builds for one of its hosts no service of the route has (route.go
 * separateVSHostsAndServices: an exact host not in the route's services, a wildcard host overlapping none of them),
 * whose domain takes the request's Host. `registry` is the route's services (httproute.go servicesByName: those of the
 * egress listener with the listener's port), each with whether that port is HTTP or sniffed. Such hosts get a
 * virtual host only on port 80 (buildSidecarVirtualHostsForVirtualService's `listenPort == 80` case) or when the
 * VirtualService also takes a service with an HTTP port there (its virtual host wrapper for the port carries them);
 * on another port a VirtualService whose hosts name no service is not even selected (httproute.go
 * selectVirtualServices). Returns the VirtualService and the domain, the first in the listener's order.
 */
export function nonRegistryVirtualHost(
  routing: IstioConfig[],
  requestHost: string,
  ns: string,
  port: number,
  source: RouteSource,
  registry: Map<string, boolean>,
): { vs: IstioConfig; domain: string } | undefined {
  const ordered = meshOrder(routing, ns);
  const hosts = [...registry.keys()];
  let best: { vs: IstioConfig; domain: string } | undefined;
  for (const vs of ordered) {
    if (!httpRoutesTranslated(vs, 'mesh', port, source)) continue;
    const own = vsHosts(vs).filter((h) => (isWildcard(h) ? !hosts.some((s) => overlaps(s, h)) : !registry.has(h)));
    if (own.length === 0) continue;
    if (port !== 80) {
      const claimsHttp = hosts.some((s) => registry.get(s) && claimsService(ordered, vs, s));
      if (!claimsHttp) continue;
    }
    for (const d of own) {
      const how = domainMatches(requestHost, d);
      if (!how) continue;
      // Envoy: an exact domain before the longest suffix; an earlier virtual host keeps a domain.
      if (
        !best ||
        (how === 'exact' && best.domain !== requestHost) ||
        (how === 'suffix' && best.domain !== requestHost && d.length > best.domain.length)
      )
        best = { vs, domain: d };
    }
  }
  return best;
}

/**
 * The VirtualService whose tcp routes a TCP chain of a service takes: the first, in the listener's order, with tcp
 * routes among those whose hosts overlap the service's either way (listener.go buildSidecarOutboundListener,
 * tls.go getConfigsForHost, buildSidecarOutboundTCPFilterChainOpts), whatever host the call was made to.
 */
export function tcpVirtualServiceOfService(routing: IstioConfig[], svcHost: string, ns: string): IstioConfig | undefined {
  return meshOrder(routing, ns).find(
    (r) => vsHosts(r).some((h) => overlaps(svcHost.toLowerCase(), h)) && ((r.spec.tcp as Obj[] | undefined) ?? []).length > 0,
  );
}

export function meshVirtualServiceFor(
  routing: IstioConfig[],
  host: string,
  ns: string,
  port: number,
  kind: RouteKind,
  source?: RouteSource,
): IstioConfig | undefined {
  const candidates = routing.filter((r) => virtualServiceFor([r], host, 'mesh', ns)).sort(viewOrder(ns));
  // A TLS or TCP chain takes its routes from the first VirtualService of the host that has routes of its kind
  // (tls.go buildSidecarOutboundTLSFilterChainOpts, tcp.go: each VirtualService's tls / tcp routes in turn).
  if (kind !== 'http') return candidates.find((r) => ((r.spec[kind] as Obj[] | undefined) ?? []).length > 0) ?? candidates[0];
  const onPort = (r: IstioConfig) => httpRoutesTranslated(r, 'mesh', port, source ?? { namespace: ns, labels: {} });
  return candidates.find(onPort) ?? candidates[0];
}

/** Does a mesh VirtualService give the host a virtual host on the port (an HTTP route for it)? */
export function meshHttpRouted(routing: IstioConfig[], host: string, ns: string, port: number, source?: RouteSource): boolean {
  const vs = meshVirtualServiceFor(routing, host, ns, port, 'http', source);
  return !!vs && httpRoutesTranslated(vs, 'mesh', port, source ?? { namespace: ns, labels: {} });
}

/**
 * The server names a sidecar's TLS chains for a host's port match when mesh VirtualServices have `tls` routes for
 * it: tls.go buildSidecarOutboundTLSFilterChainOpts builds one chain per route match that fits the port and the
 * mesh gateway, matching its sniHosts, and then no chain of the service's own. Undefined when no route fits.
 */
export function meshTlsRouteSni(
  routing: IstioConfig[],
  host: string,
  ns: string,
  port: number,
  source?: RouteSource,
): string[] | undefined {
  // listener.go takes the VirtualServices of a service by tls.go getConfigsForHost: a VirtualService host that
  // overlaps the service's either way (host.Name.Matches), so an exact host's tls routes replace the chain of a
  // wildcard service too. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/vs-l4-wildcard-service.yaml.
  const sni = meshOrder(routing, ns)
    .filter((r) => vsHosts(r).some((h) => overlaps(host.toLowerCase(), h)))
    .flatMap((r) => (r.spec.tls as Obj[] | undefined) ?? [])
    .filter((t) => ((t.route as Obj[] | undefined) ?? []).length > 0)
    .flatMap((t) => (t.match as Obj[] | undefined) ?? [])
    .filter((m) => l4MatchStatic(m, 'mesh', '', port, source))
    .flatMap((m) => (m.sniHosts as string[] | undefined) ?? []);
  return sni.length > 0 ? sni : undefined;
}

/**
 * The static part of a tls or tcp route match (networking/core/tls.go matchTLS, matchTCP): every one of its
 * gateways (none, or one naming the proxy's), sourceLabels (among the Pod's), port and sourceNamespace must hold,
 * unlike an http match, where `gateways` stands alone. Without `source` the source fields are held to an empty Pod
 * of namespace `''` (so a match naming any is dropped), as before they were modelled.
 */
function l4MatchStatic(m: Obj, boundTo: string, vsNs: string, port: number, source: RouteSource | undefined): boolean {
  if (m.port !== undefined && m.port !== port) return false;
  const gws = (m.gateways as string[] | undefined) ?? [];
  if (gws.length > 0 && !(boundTo === 'mesh' ? gws.includes('mesh') : namesGateway(vsNs, gws, boundTo))) return false;
  const labels = (m.sourceLabels as Record<string, string> | undefined) ?? {};
  const src = source ?? { namespace: '', labels: {} };
  if (!Object.entries(labels).every(([k, v]) => src.labels[k] === v)) return false;
  return !m.sourceNamespace || m.sourceNamespace === src.namespace;
}

const MATCH_FIELDS = new Set(['port', 'gateways', 'uri', 'sniHosts', 'name', 'destinationSubnets', ...REQUEST_FIELDS]);
/** Match fields decided when the proxy is known (http routes: route.go sourceMatchHTTP). */
const SOURCE_FIELDS = new Set(['sourceLabels', 'sourceNamespace']);

function routeMatch(
  match: Obj[] | undefined,
  boundTo: string,
  vsNs: string,
  port: number,
  path: string,
  sni: string,
  notModelled: string[],
  source: RouteSource | undefined,
  dialled?: string,
  /** The Host header as sent, for an http route; a tls or tcp route reads no request. */
  authority?: string,
): boolean {
  if (!match || match.length === 0) return true;
  const known = (k: string) => MATCH_FIELDS.has(k) || (source !== undefined && SOURCE_FIELDS.has(k));
  return match.some((m) => {
    for (const k of Object.keys(m)) if (!known(k)) notModelled.push(`VirtualService match.${k}`);
    if (Object.keys(m).some((k) => !known(k))) return false;
    if (m.port !== undefined && m.port !== port) return false;
    const gws = m.gateways as string[] | undefined;
    if (gws && !(boundTo === 'mesh' ? gws.includes('mesh') : namesGateway(vsNs, gws, boundTo))) return false;
    if (source && !matchTranslated(m, boundTo, vsNs, port, source)) return false;
    if (m.sniHosts && !(m.sniHosts as string[]).some((h) => subsetOf(sni, h))) return false;
    // A tcp or tls match's destinationSubnets become the chain's prefix ranges (tls.go buildSidecarOutboundTLS/TCP
    // FilterChainOpts): the dialled address must be in one. Known here for a call to an IP address only. Checked on
    // istiod eed52ebb66ad (2026-12-03), fixtures/rules/gateway-tls-istio-mutual-tcp.yaml.
    const subnets = m.destinationSubnets as string[] | undefined;
    if (subnets && subnets.length > 0) {
      if (!dialled) {
        notModelled.push('VirtualService match.destinationSubnets for a call by name');
        return false;
      }
      if (!subnets.some((c) => (c.includes('/') ? ipInCidr(dialled, c) : dialled === c))) return false;
    }
    return uriHolds(m.uri as Obj | undefined, path, m.ignoreUriCase === true) && (!authority || requestFieldsHold(m, authority, path));
  });
}

function servicePorts(resources: ResourceSet, host: string): number[] {
  const gw = gatewayServiceFor(host);
  if (gw) return gw.ports.map((p) => p.port);
  return resources.serviceEntries.filter((se) => se.hosts.includes(host)).flatMap((se) => se.ports.map((p) => p.number));
}

/** HTTPRedirect.redirectCode (301 unless set) or HTTPDirectResponse.status of an http route, when it has one. */
function localAnswer(r: Obj): Destination['local'] {
  const direct = r.directResponse as Obj | undefined;
  if (direct) {
    const status = Number(direct.status);
    return status === 502
      ? { cluster: 'BlackHoleCluster', signal: 'http-502', status }
      : { cluster: '(direct response)', signal: 'http-local', status };
  }
  const redirect = r.redirect as Obj | undefined;
  if (redirect) return { cluster: '(redirect)', signal: 'http-local', status: Number(redirect.redirectCode ?? 301) };
  return undefined;
}

/** The destination a VirtualService's route sends the call to, or undefined when no route matches. */
export function routeOf(
  resources: ResourceSet,
  vs: IstioConfig,
  kind: RouteKind,
  boundTo: string,
  port: number,
  probe: Probe,
  notModelled: string[],
  source?: RouteSource,
): Destination | undefined {
  // Source fields are decided by route.go sourceMatchHTTP for http routes, by tls.go matchTLS / matchTCP (every field
  // must hold) for tls and tcp ones. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/vs-tls-tcp-routes.yaml.
  const src = kind === 'http' ? source : undefined;
  const routes = ((vs.spec[kind] as Obj[] | undefined) ?? []).filter((r) => {
    if (kind !== 'http' && source) {
      const match = (r.match as Obj[] | undefined) ?? [];
      const l4 = match.filter((m) => l4MatchStatic(m, boundTo, vs.namespace, port, source));
      if (match.length > 0 && l4.length === 0) return false;
      const rest = l4.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !SOURCE_FIELDS.has(k))));
      return routeMatch(
        rest.length ? rest : undefined,
        boundTo,
        vs.namespace,
        port,
        probe.to.path || '/',
        probe.to.host,
        notModelled,
        undefined,
        boundTo === 'mesh' && probe.to.isIp ? probe.to.host : undefined,
      );
    }
    return routeMatch(
      r.match as Obj[] | undefined,
      boundTo,
      vs.namespace,
      port,
      probe.to.path || '/',
      probe.to.host,
      notModelled,
      src,
      kind !== 'http' && boundTo === 'mesh' && probe.to.isIp ? probe.to.host : undefined,
      kind === 'http' ? hostHeader(probe.to) : undefined,
    );
  });
  const r = routes[0];
  if (!r) return undefined;
  const answer = kind === 'http' ? localAnswer(r) : undefined;
  if (answer) return { host: '', port, subset: '', cluster: answer.cluster, facts: [], local: answer };
  const dests = (r.route as Obj[] | undefined) ?? [];
  if (dests.length > 1) notModelled.push('VirtualService route weights (the first destination is taken)');
  const d = (dests[0]?.destination ?? {}) as Obj;
  const host = String(d.host ?? '');
  const ports = servicePorts(resources, host);
  // A sidecar's HTTP route looks the destination up among the route's own services, each trimmed to the listener's
  // port (httproute.go servicesByName, route.go LookupService): without a port it always names the listener's
  // (corpus master-2026-08-27 s114-8#11).
  const meshHttp = kind === 'http' && boundTo === 'mesh';
  const p = ((d.port as Obj | undefined)?.number as number | undefined) ?? (!meshHttp && ports.length === 1 ? ports[0]! : port);
  const subset = (d.subset as string | undefined) ?? '';
  const facts: string[] = [];
  if (kind === 'http' && typeof r.timeout === 'string') facts.push(`timeout ${r.timeout}`);
  const retries = (r.retries as Obj | undefined)?.attempts;
  if (kind === 'http' && typeof retries === 'number') facts.push(`retries ${retries}`);
  for (const k of ['fault', 'mirror', 'rewrite', 'headers', 'delegate'])
    if (r[k] !== undefined) notModelled.push(`VirtualService ${kind}.${k}`);
  return { host, port: p, subset, cluster: `outbound|${p}|${subset}|${host}`, facts };
}
