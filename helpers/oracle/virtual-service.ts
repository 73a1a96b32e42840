// Which VirtualService routes a call and where its matching route sends it. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - HTTP routes of a VirtualService bound to `mesh` (no `gateways`, or `mesh` listed) replace the virtual host of
//   its hosts on an HTTP port (pilot/pkg/networking/core/httproute.go BuildSidecarOutboundVirtualHosts); `tls`
//   routes replace the SNI chain of a TLS/HTTPS port (tls.go buildSidecarOutboundTLSFilterChainOpts), `tcp`
//   routes the TCP chain (tcp). HTTP routes on a TLS port are not used: the chain is matched on SNI, not HTTP.
// - The first route whose match fits wins: `port`, `gateways`, `uri` exact/prefix/regex (route/route.go
//   translateRouteMatch); its destination names `outbound|PORT|SUBSET|HOST`, the port being the destination's
//   port, else the service's only port (route.go GetDestinationCluster).
import type { IstioConfig, Probe, ResourceSet } from '../model/types.ts';
import { exportedTo } from './export-to.ts';
import { gatewayServiceFor, namesGateway } from './gateway.ts';
import { subsetOf } from './hosts.ts';
import { creationSeconds } from './order.ts';

type Obj = Record<string, unknown>;
export type RouteKind = 'http' | 'tls' | 'tcp';

export interface Destination {
  host: string;
  port: number;
  subset: string;
  cluster: string;
  facts: string[];
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

export function meshVirtualServiceFor(
  routing: IstioConfig[],
  host: string,
  ns: string,
  port: number,
  kind: RouteKind,
): IstioConfig | undefined {
  const bucket = (r: IstioConfig) => {
    const to = (r.spec.exportTo as string[] | undefined) ?? ['*'];
    if (to.includes('*')) return 2;
    return r.namespace === ns && to.some((t) => t === '.' || t === ns) ? 0 : 1;
  };
  const candidates = routing
    .filter((r) => virtualServiceFor([r], host, 'mesh', ns))
    .sort((a, b) => bucket(a) - bucket(b) || compareByCreation(a, b));
  // A TLS or TCP chain takes its routes from the first VirtualService of the host that has routes of its kind
  // (tls.go buildSidecarOutboundTLSFilterChainOpts, tcp.go: each VirtualService's tls / tcp routes in turn).
  if (kind !== 'http') return candidates.find((r) => ((r.spec[kind] as Obj[] | undefined) ?? []).length > 0) ?? candidates[0];
  const onPort = (r: IstioConfig) =>
    ((r.spec.http as Obj[] | undefined) ?? []).some((route) => {
      const match = route.match as Obj[] | undefined;
      if (!match || match.length === 0) return true;
      return match.some(
        (m) =>
          (m.port === undefined || m.port === port) && (!(m.gateways as string[] | undefined) || (m.gateways as string[]).includes('mesh')),
      );
    });
  return candidates.find(onPort) ?? candidates[0];
}

/** Does a mesh VirtualService give the host a virtual host on the port (an HTTP route for it)? */
export function meshHttpRouted(routing: IstioConfig[], host: string, ns: string, port: number): boolean {
  const vs = meshVirtualServiceFor(routing, host, ns, port, 'http');
  return (
    !!vs &&
    ((vs.spec.http as Obj[] | undefined) ?? []).some((route) => {
      const match = route.match as Obj[] | undefined;
      return (
        !match ||
        match.length === 0 ||
        match.some(
          (m) =>
            (m.port === undefined || m.port === port) &&
            (!(m.gateways as string[] | undefined) || (m.gateways as string[]).includes('mesh')),
        )
      );
    })
  );
}

/**
 * The server names a sidecar's TLS chains for a host's port match when mesh VirtualServices have `tls` routes for
 * it: tls.go buildSidecarOutboundTLSFilterChainOpts builds one chain per route match that fits the port and the
 * mesh gateway, matching its sniHosts, and then no chain of the service's own. Undefined when no route fits.
 */
export function meshTlsRouteSni(routing: IstioConfig[], host: string, ns: string, port: number): string[] | undefined {
  const sni = routing
    .filter((r) => virtualServiceFor([r], host, 'mesh', ns))
    .flatMap((r) => (r.spec.tls as Obj[] | undefined) ?? [])
    .filter((t) => ((t.route as Obj[] | undefined) ?? []).length > 0)
    .flatMap((t) => (t.match as Obj[] | undefined) ?? [])
    .filter(
      (m) =>
        (m.port === undefined || m.port === port) && (!(m.gateways as string[] | undefined) || (m.gateways as string[]).includes('mesh')),
    )
    .flatMap((m) => (m.sniHosts as string[] | undefined) ?? []);
  return sni.length > 0 ? sni : undefined;
}

function uriMatches(uri: Obj | undefined, path: string): boolean {
  if (!uri) return true;
  if (typeof uri.exact === 'string') return path.split('?')[0] === uri.exact;
  if (typeof uri.prefix === 'string') return path.startsWith(uri.prefix);
  if (typeof uri.regex === 'string') return new RegExp(`^(?:${uri.regex})$`).test(path.split('?')[0] ?? path);
  return true;
}

const MATCH_FIELDS = new Set(['port', 'gateways', 'uri', 'sniHosts', 'name']);

function routeMatch(
  match: Obj[] | undefined,
  boundTo: string,
  vsNs: string,
  port: number,
  path: string,
  sni: string,
  notModelled: string[],
): boolean {
  if (!match || match.length === 0) return true;
  return match.some((m) => {
    for (const k of Object.keys(m)) if (!MATCH_FIELDS.has(k)) notModelled.push(`VirtualService match.${k}`);
    if (Object.keys(m).some((k) => !MATCH_FIELDS.has(k))) return false;
    if (m.port !== undefined && m.port !== port) return false;
    const gws = m.gateways as string[] | undefined;
    if (gws && !(boundTo === 'mesh' ? gws.includes('mesh') : namesGateway(vsNs, gws, boundTo))) return false;
    if (m.sniHosts && !(m.sniHosts as string[]).some((h) => subsetOf(sni, h))) return false;
    return uriMatches(m.uri as Obj | undefined, path);
  });
}

function servicePorts(resources: ResourceSet, host: string): number[] {
  const gw = gatewayServiceFor(host);
  if (gw) return gw.ports.map((p) => p.port);
  return resources.serviceEntries.filter((se) => se.hosts.includes(host)).flatMap((se) => se.ports.map((p) => p.number));
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
): Destination | undefined {
  const routes = ((vs.spec[kind] as Obj[] | undefined) ?? []).filter((r) =>
    routeMatch(r.match as Obj[] | undefined, boundTo, vs.namespace, port, probe.to.path || '/', probe.to.host, notModelled),
  );
  const r = routes[0];
  if (!r) return undefined;
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
  for (const k of ['fault', 'mirror', 'rewrite', 'headers', 'redirect', 'directResponse', 'delegate'])
    if (r[k] !== undefined) notModelled.push(`VirtualService ${kind}.${k}`);
  return { host, port: p, subset, cluster: `outbound|${p}|${subset}|${host}`, facts };
}
