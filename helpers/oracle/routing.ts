// VirtualServices, DestinationRules and the egress gateway (gateway.ts) over the sidecar model. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - HTTP routes of a VirtualService bound to `mesh` (no `gateways`, or `mesh` listed) replace the virtual host of
//   its hosts on an HTTP port (pilot/pkg/networking/core/httproute.go BuildSidecarOutboundVirtualHosts); `tls`
//   routes replace the SNI chain of a TLS/HTTPS port (tls.go buildSidecarOutboundTLSFilterChainOpts), `tcp`
//   routes the TCP chain (tcp). HTTP routes on a TLS port are not used: the chain is matched on SNI, not HTTP.
// - The first route whose match fits wins: `port`, `gateways`, `uri` exact/prefix/regex (route/route.go
//   translateRouteMatch); its destination names `outbound|PORT|SUBSET|HOST`, the port being the destination's
//   port, else the service's only port (route.go GetDestinationCluster).
// - The DestinationRule of a host for a proxy: its own namespace's, else the service namespace's exported ones,
//   else the root namespace's (pilot/pkg/model/push_context.go destinationRule); a subset it does not define has
//   no cluster (the route's 503 NC, a closed connection on TCP).
// - TLS: the subset's traffic policy over the rule's, port-level settings over both (cluster_traffic_policy.go
//   MergeTrafficPolicy); ISTIO_MUTUAL without `sni` sends `outbound_.PORT_.SUBSET_.HOST` (cluster_tls.go).
import type { BlockSignal, Expectation, Hop, HopTls, IstioConfig, Probe, ResourceSet } from '../model/types.ts';
import { type GatewayService, gatewayServiceFor, INSTALL_GATEWAYS, namesGateway, serverRoutes, serversOn, serverTakes } from './gateway.ts';
import { subsetOf } from './hosts.ts';
import { rootNamespace } from './policy.ts';
import { withDiscovery } from './discovery.ts';

type Obj = Record<string, unknown>;
type RouteKind = 'http' | 'tls' | 'tcp';

interface Destination {
  host: string;
  port: number;
  subset: string;
  cluster: string;
  facts: string[];
}

const exported = (r: IstioConfig, ns: string) => {
  const to = (r.spec.exportTo as string[] | undefined) ?? ['*'];
  return to.includes('*') || to.some((t) => (t === '.' ? r.namespace : t) === ns);
};

/** The oldest VirtualService bound to `boundTo` (`mesh` or a Gateway `ns/name`) whose hosts cover the host. */
function virtualServiceFor(routing: IstioConfig[], host: string, boundTo: string, viewerNs: string): IstioConfig | undefined {
  return routing.find((r) => {
    if (r.kind !== 'VirtualService' || !exported(r, viewerNs)) return false;
    const gws = (r.spec.gateways as string[] | undefined) ?? [];
    const bound = boundTo === 'mesh' ? gws.length === 0 || gws.includes('mesh') : namesGateway(r.namespace, gws, boundTo);
    return bound && ((r.spec.hosts as string[] | undefined) ?? []).some((h) => subsetOf(host, h));
  });
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
function routeOf(
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
  const p = ((d.port as Obj | undefined)?.number as number | undefined) ?? (ports.length === 1 ? ports[0]! : port);
  const subset = (d.subset as string | undefined) ?? '';
  const facts: string[] = [];
  if (kind === 'http' && typeof r.timeout === 'string') facts.push(`timeout ${r.timeout}`);
  const retries = (r.retries as Obj | undefined)?.attempts;
  if (kind === 'http' && typeof retries === 'number') facts.push(`retries ${retries}`);
  for (const k of ['fault', 'mirror', 'rewrite', 'headers', 'redirect', 'directResponse', 'delegate'])
    if (r[k] !== undefined) notModelled.push(`VirtualService ${kind}.${k}`);
  return { host, port: p, subset, cluster: `outbound|${p}|${subset}|${host}`, facts };
}

/** MostSpecificHostMatch over the rules of one namespace that the viewer sees. */
function mostSpecific(rules: IstioConfig[], host: string): IstioConfig | undefined {
  const exact = rules.find((r) => r.spec.host === host);
  if (exact) return exact;
  return rules
    .filter((r) => subsetOf(host, String(r.spec.host)))
    .sort((a, b) => String(b.spec.host).length - String(a.spec.host).length)[0];
}

function destinationRuleFor(resources: ResourceSet, host: string, proxyNs: string, serviceNs: string | undefined): IstioConfig | undefined {
  const drs = (resources.routing ?? []).filter((r) => r.kind === 'DestinationRule');
  const root = rootNamespace(resources);
  const local = mostSpecific(
    drs.filter((r) => r.namespace === proxyNs && exported(r, proxyNs)),
    host,
  );
  if (local) return local;
  if (serviceNs && serviceNs !== proxyNs) {
    const svc = mostSpecific(
      drs.filter((r) => r.namespace === serviceNs && exported(r, proxyNs)),
      host,
    );
    if (svc) return svc;
  }
  return proxyNs === root
    ? undefined
    : mostSpecific(
        drs.filter((r) => r.namespace === root && exported(r, proxyNs)),
        host,
      );
}

function tlsOfPolicy(policy: Obj | undefined, port: number): Obj | undefined {
  const pl = ((policy?.portLevelSettings as Obj[] | undefined) ?? []).find((p) => (p.port as Obj | undefined)?.number === port);
  return (pl?.tls as Obj | undefined) ?? (policy?.tls as Obj | undefined);
}

/** What a proxy in `proxyNs` does for a destination: the cluster exists (subset defined), and the TLS it originates. */
function clusterFor(resources: ResourceSet, d: Destination, proxyNs: string): { exists: boolean; tls?: HopTls; rule?: string } {
  const serviceNs = gatewayServiceFor(d.host)?.namespace ?? resources.serviceEntries.find((se) => se.hosts.includes(d.host))?.namespace;
  const dr = destinationRuleFor(resources, d.host, proxyNs, serviceNs);
  const ref = dr ? `DestinationRule ${dr.namespace}/${dr.name}` : undefined;
  const subset = d.subset ? ((dr?.spec.subsets as Obj[] | undefined) ?? []).find((s) => s.name === d.subset) : undefined;
  if (d.subset && !subset) return { exists: false, ...(ref ? { rule: ref } : {}) };
  const tls =
    tlsOfPolicy(subset?.trafficPolicy as Obj | undefined, d.port) ?? tlsOfPolicy(dr?.spec.trafficPolicy as Obj | undefined, d.port);
  const mode = tls?.mode as string | undefined;
  if (!mode || mode === 'DISABLE') return { exists: true, ...(ref ? { rule: ref } : {}) };
  const sni = (tls?.sni as string | undefined) ?? (mode === 'ISTIO_MUTUAL' ? `outbound_.${d.port}_.${d.subset}_.${d.host}` : undefined);
  return { exists: true, tls: { mode: mode as HopTls['mode'], ...(sni ? { sni } : {}) }, ...(ref ? { rule: ref } : {}) };
}

/** The kind of chain a registry host's port gives the call: HTTP route, SNI chain, or TCP. */
function portRouteKind(resources: ResourceSet, host: string, port: number): RouteKind | undefined {
  const p = resources.serviceEntries
    .flatMap((se) => (se.hosts.some((h) => subsetOf(host, h)) ? se.ports : []))
    .find((x) => x.number === port);
  if (!p) return undefined;
  if (['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY'].includes(p.protocol)) return 'http';
  if (p.protocol === 'TLS' || p.protocol === 'HTTPS') return 'tls';
  return 'tcp';
}

/**
 * The sidecar model's answer, followed through VirtualServices, DestinationRules and the egress gateway.
 * Without any of them the answer is returned unchanged.
 */
export function applyRouting<E extends Expectation>(resources: ResourceSet, probe: Probe, base: E): E {
  const routing = resources.routing ?? [];
  if (routing.length === 0) return base;
  const notModelled: string[] = [];
  const why: string[] = [];
  const ns = probe.from.namespace;
  const sidecar: Hop = { kind: 'sidecar', proxy: `${ns}/sidecar`, cluster: base.cluster, listener: base.listener };
  const done = (e: Partial<Expectation>, hops: Hop[]): E => ({
    ...base,
    ...e,
    hops: hops.map((h) => withDiscovery(resources, h)),
    reason: [base.reason, ...why].join('; '),
    ...(notModelled.length ? { notModelled: [...new Set(notModelled)] } : {}),
  });
  const m = /^outbound\|(\d+)\|\|(.+)$/.exec(base.cluster);
  const kind = m && base.verdict === 'allowed' ? portRouteKind(resources, m[2]!, Number(m[1])) : undefined;
  if (!m || !kind) return done({}, [sidecar]);
  const kindFor = probe.to.scheme === 'http' ? 'http' : probe.to.scheme === 'https' ? 'tls' : 'tcp';
  const vs = virtualServiceFor(routing, probe.to.host, 'mesh', ns);
  let dest: Destination | undefined;
  if (vs) {
    const ref = `VirtualService ${vs.namespace}/${vs.name}`;
    if (kind !== kindFor && !(kind === 'tcp' && kindFor !== 'http')) {
      why.push(`${ref} is not used: the port is ${kind}, the call ${kindFor}`);
    } else if (kind === 'tls' && !vs.spec.tls && vs.spec.http) {
      why.push(`${ref} has only http routes, which a TLS port never uses (its chain matches SNI): no effect`);
    } else {
      dest = routeOf(resources, vs, kind, 'mesh', probe.to.port, probe, notModelled);
      why.push(dest ? `${ref} (mesh) routes it to ${dest.cluster}` : `${ref} has no ${kind} route matching the call`);
    }
  }
  const first: Destination = dest ?? { host: m[2]!, port: Number(m[1]), subset: '', cluster: base.cluster, facts: [] };
  const c1 = clusterFor(resources, first, ns);
  if (c1.rule && (c1.tls || first.subset)) why.push(`${c1.rule} applies for ${ns}`);
  const hop1: Hop = {
    ...sidecar,
    cluster: first.cluster,
    ...(c1.tls ? { tls: c1.tls } : {}),
    ...(first.facts.length ? { route: first.facts } : {}),
  };
  // A route's destination is a cluster only when a service has that host (the router answers 503 NC for a cluster
  // it was not sent; a tcp_proxy closes the connection).
  const missing = dest && !gatewayServiceFor(first.host) && !resources.serviceEntries.some((se) => se.hosts.includes(first.host));
  if (!c1.exists || missing) {
    why.push(
      missing
        ? `no service has host ${first.host}: the sidecar has no cluster ${first.cluster}`
        : `no DestinationRule visible from ${ns} defines subset ${first.subset} of ${first.host}: the sidecar has no cluster ${first.cluster}`,
    );
    return done({ verdict: 'blocked', cluster: first.cluster, signal: kind === 'http' ? 'http-503' : 'tcp-close' }, [hop1]);
  }
  const gw = gatewayServiceFor(first.host);
  if (!gw) {
    const bypass = bypassedGateway(resources, probe);
    if (bypass) why.push(`bypasses the gateway ${bypass}: the call leaves directly`);
    return done({ cluster: first.cluster }, [hop1]);
  }
  return followGateway(resources, probe, first, hop1, gw, why, notModelled, done);
}

function followGateway<E extends Expectation>(
  resources: ResourceSet,
  probe: Probe,
  first: Destination,
  hop1: Hop,
  gw: GatewayService,
  why: string[],
  notModelled: string[],
  done: (e: Partial<Expectation>, hops: Hop[]) => E,
): E {
  const routing = resources.routing ?? [];
  const at = `gateway ${gw.workload}`;
  const gwHop = (cluster: string, extra: Partial<Hop> = {}): Hop => ({ kind: 'gateway', proxy: gw.workload, cluster, ...extra });
  const onPort = serversOn(routing, gw, first.port);
  const server = onPort.find((s) => serverTakes(s, probe.to.host));
  // How a call ends at the gateway, as the lane names it: the gateway hop's pseudo-cluster and what the client sees.
  const ends = (end: string, signal: BlockSignal): E => done({ verdict: 'blocked', cluster: first.cluster, signal }, [hop1, gwHop(end)]);
  if (!server) {
    if (onPort.length === 0) {
      // gateway.go builds listeners from servers only: no server on the port, no listener; the Pod refuses it.
      why.push(`${at}: no Gateway server on port ${first.port}: nothing listens there, the connection is refused`);
      return ends('(connection refused)', 'tcp-close');
    }
    why.push(`${at}: no Gateway server on port ${first.port} takes ${probe.to.host}`);
    return done({ verdict: 'blocked', cluster: first.cluster }, [hop1]);
  }
  why.push(
    `${at}: Gateway ${server.ref} server ${server.port.protocol} ${first.port}${server.tlsMode ? ` (tls ${server.tlsMode})` : ''} takes ${probe.to.host}`,
  );
  const wantsMtls = server.tlsMode === 'ISTIO_MUTUAL';
  const sentMtls = hop1.tls?.mode === 'ISTIO_MUTUAL';
  const kind = serverRoutes(server);
  if (wantsMtls && !hop1.tls) {
    why.push(
      `${at} expects Istio mTLS but the sidecar sends no TLS to it (no DestinationRule with ISTIO_MUTUAL for ${first.cluster}): the handshake fails`,
    );
    // Plain text meets a listener whose chains all want TLS: no filter chain takes it, Envoy closes it.
    return ends('(no filter chain)', 'tcp-close');
  }
  if (wantsMtls && !sentMtls) {
    // listener.go BuildListenerTLSContext: an ISTIO_MUTUAL server requires a client certificate.
    why.push(`${at} expects Istio mTLS but the sidecar's ${hop1.tls?.mode} TLS presents no client certificate: the handshake fails`);
    return ends('(handshake failed)', 'tcp-close');
  }
  if (!wantsMtls && sentMtls) {
    why.push(`the sidecar originates Istio mTLS but the server is not ISTIO_MUTUAL: the gateway cannot read the call`);
    // A plain HTTP server's connection manager reads TLS bytes as a broken request and closes the connection.
    return server.port.protocol !== 'HTTPS' && kind === 'http'
      ? ends('(protocol error)', 'tcp-close')
      : done({ verdict: 'blocked', cluster: first.cluster }, [hop1]);
  }
  const vs = virtualServiceFor(routing, probe.to.host, server.ref, gw.namespace);
  const dest = vs ? routeOf(resources, vs, kind, server.ref, first.port, probe, notModelled) : undefined;
  if (!vs || !dest) {
    why.push(`${at}: no VirtualService bound to ${server.ref} has a ${kind} route for ${probe.to.host}`);
    // gateway.go: an HTTP server nothing routes gets the 404 virtual host blackhole:PORT; a TLS or TCP server
    // nothing routes gets no filter chain, and a listener without chains is not built.
    if (kind === 'http') return ends('(no route)', 'http-404');
    return onPort.length === 1 ? ends('(connection refused)', 'tcp-close') : ends('(no filter chain)', 'tcp-close');
  }
  why.push(`${at}: VirtualService ${vs.namespace}/${vs.name} routes it to ${dest.cluster}`);
  const c2 = clusterFor(resources, dest, gw.namespace);
  const visible = resources.serviceEntries.some((se) => se.hosts.includes(dest.host));
  if (!c2.exists || !visible) {
    why.push(`${at} has no cluster ${dest.cluster}`);
    return done({ verdict: 'blocked', cluster: first.cluster }, [hop1, gwHop(dest.cluster)]);
  }
  if (c2.tls) why.push(`${c2.rule} makes the gateway originate TLS ${c2.tls.mode}${c2.tls.sni ? ` with SNI ${c2.tls.sni}` : ''}`);
  return done({ verdict: 'allowed', cluster: first.cluster }, [
    hop1,
    gwHop(dest.cluster, { ...(c2.tls ? { tls: c2.tls } : {}), ...(dest.facts.length ? { route: dest.facts } : {}) }),
  ]);
}

/** A gateway whose server and bound VirtualService would route this host: a direct call bypasses it. */
function bypassedGateway(resources: ResourceSet, probe: Probe): string | undefined {
  const routing = resources.routing ?? [];
  const routes = (gw: GatewayService) =>
    gw.ports.some((p) =>
      serversOn(routing, gw, p.port).some(
        (s) => serverTakes(s, probe.to.host) && virtualServiceFor(routing, probe.to.host, s.ref, gw.namespace),
      ),
    );
  return INSTALL_GATEWAYS.find(routes)?.workload;
}
