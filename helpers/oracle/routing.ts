// VirtualServices, DestinationRules and the egress gateway (gateway.ts) over the sidecar model. Pure.
// The sidecar's route (virtual-service.ts), the DestinationRule of its destination (destination-rule.ts), and,
// when the destination is the egress gateway, the gateway's own (gateway-hop.ts).
import type { Expectation, Hop, IstioConfig, Probe, ProbeSource, ResourceSet, Sidecar } from '../model/types.ts';
import { clusterFor } from './destination-rule.ts';
import { withDiscovery } from './discovery.ts';
import { missingCluster } from './expect.ts';
import { gatewayServiceFor, installedWorkloads, withInstalledServices } from './gateway.ts';
import { portKind } from './listeners.ts';
import { podLabels, selectSidecar } from './policy.ts';
import type { IstioVersion } from './version.ts';
import { bypassedGateway, followGateway } from './gateway-hop.ts';
import { isWildcard, subsetOf } from './hosts.ts';
import { exportedTo, importedBy } from './visibility.ts';
import { clusterNotBuilt, type HostOwner, keptNamespaces } from './scope.ts';
import { creationSeconds } from './order.ts';
import {
  type Destination,
  httpRoutesTranslated,
  httpVirtualServiceOfService,
  meshVirtualServiceFor,
  nonRegistryVirtualHost,
  type RouteKind,
  type RouteSource,
  routeOf,
  tcpVirtualServiceOfService,
  virtualServiceFor,
} from './virtual-service.ts';
import { routingSeenBy } from './vs-import.ts';

/** The kind of chain a registry host's port gives the call: HTTP route, SNI chain, or TCP. */
function portRouteKind(resources: ResourceSet, host: string, port: number, ns: string, call?: RouteKind): RouteKind | undefined {
  // The sidecar keeps its own namespace's entry for a host before another's (sidecar.go selectServices; s127-13#0),
  // and of the others the oldest, as istiod orders services (push_context.go SortServicesByCreationTime: creation
  // second, then name, then namespace). Checked on istiod eed52ebb66ad (2026-12-04): an older HTTP entry in one
  // namespace keeps its virtual host, which a mesh VirtualService then routes, over a newer TCP entry listed
  // first in another (fixtures/rules/vs-host-oldest-other-namespace.yaml).
  const entries = resources.serviceEntries.filter((se) => se.hosts.some((h) => subsetOf(host, h)));
  // Namespaces by their oldest entry of the host; within one namespace the entries' own order is kept (the
  // sidecar merges their ports, sidecar.go appendSidecarServices; corpus s176-1#7).
  const oldest = new Map<string, number>();
  for (const se of entries) oldest.set(se.namespace, Math.min(oldest.get(se.namespace) ?? Infinity, creationSeconds(se.manifest)));
  const others = entries
    .filter((se) => se.namespace !== ns)
    .sort((a, b) => oldest.get(a.namespace)! - oldest.get(b.namespace)! || a.namespace.localeCompare(b.namespace));
  const p = [...entries.filter((se) => se.namespace === ns), ...others].flatMap((se) => se.ports).find((x) => x.number === port);
  if (!p) return undefined;
  if (['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY'].includes(p.protocol)) return 'http';
  if (p.protocol === 'TLS' || p.protocol === 'HTTPS') return 'tls';
  if (p.protocol === '' && call === 'http') return 'http';
  return 'tcp';
}

/**
 * The services of a sidecar's HTTP route for a port, by host (httproute.go BuildSidecarOutboundVirtualHosts
 * servicesByName: the egress listener's services with a port of that number, whatever its protocol, one namespace
 * per host as sidecar.go selectServices keeps it), each with whether that port is HTTP or sniffed (only those get a
 * virtual host: route.go IsHTTPOrSniffed).
 */
function routeRegistry(
  resources: ResourceSet,
  ns: string,
  v: IstioVersion,
  sidecar: Sidecar | undefined,
  port: number,
): Map<string, boolean> {
  const owners: HostOwner[] = [];
  for (const se of withInstalledServices(resources).serviceEntries) {
    const exp = exportedTo(se, ns, resources, v);
    if (!exp.visible) continue;
    for (const h of se.hosts)
      if (importedBy(sidecar, se, port, ns, v, h).imported)
        owners.push({ host: h, namespace: se.namespace, se, rank: [exp.exportClass, creationSeconds(se.manifest), h, se.namespace] });
  }
  const kept = keptNamespaces(owners, ns);
  const out = new Map<string, boolean>();
  for (const o of owners) {
    if (kept.get(o.host) !== o.namespace) continue;
    const p = o.se.ports.find((x) => x.number === port);
    if (!p) continue;
    out.set(o.host.toLowerCase(), (out.get(o.host.toLowerCase()) ?? false) || p.protocol === '' || portKind(p.protocol) === 'http');
  }
  return out;
}

/**
 * The namespace of the service a proxy of `ns` keeps for a host declared in several namespaces (its own, else the
 * first in processing order: sidecar.go selectServices), whose namespace's exported DestinationRules the proxy
 * applies when its own namespace has none (push_context.go destinationRule takes service.Attributes.Namespace).
 */
function keptServiceNamespace(resources: ResourceSet, host: string, ns: string, v: IstioVersion): string | undefined {
  const owners: HostOwner[] = [];
  for (const se of resources.serviceEntries) {
    if (!se.hosts.includes(host)) continue;
    const exp = exportedTo(se, ns, resources, v);
    if (exp.visible)
      owners.push({ host, namespace: se.namespace, se, rank: [exp.exportClass, creationSeconds(se.manifest), host, se.namespace] });
  }
  return keptNamespaces(owners, ns).get(host);
}

/** The rules of a base answer blocked only because istiod names the service's cluster without building it. */
const UNBUILT: ReadonlySet<string> = new Set(['se.unmerged-no-cluster', 'se.dns-cluster-not-built', 'hosts.one-per-name']);

/** The base answers that can take a listener's HTTP chain: the wildcard's route `<port>`, an address listener's `<host>:<port>`. */
const HTTP_CHAIN: ReadonlySet<string> = new Set([
  'se.http-route',
  'se.http-route-address',
  'se.address-listener',
  'se.auto-address-listener',
]);

/**
 * An explicit exportTo that keeps an entry from its own namespace: other namespaces' names, or `~` (none). Both
 * still reach the gateway of that namespace through collectImportedServices, which reads every service of the
 * namespace by host (push_context.go initServiceRegistry indexes `~` services too). Checked on istiod eed52ebb66ad
 * (2026-12-04) for `~`: fixtures/rules/gateway-own-namespace-hidden-entry.yaml.
 */
const keptFromOwnNamespace = (to: string[]) => to.length > 0 && to.every((t) => t !== '*' && t !== '.');

/** What deciding which clusters a proxy has needs: the version's visibility rules and the Pods that exist. */
export interface ScopeContext {
  v: IstioVersion;
  /** Client Pods besides the probe's source (OracleOptions.workloads). */
  workloads?: ProbeSource[];
}

/**
 * The sidecar model's answer, followed through VirtualServices, DestinationRules and the egress gateway.
 * Without any of them the answer is returned unchanged. Without `scope`, every service is taken to be in every
 * proxy's scope.
 */
export function applyRouting<E extends Expectation>(resources: ResourceSet, probe: Probe, base: E, scope?: ScopeContext): E {
  const routing = resources.routing ?? [];
  // A call to the egress gateway's own Service goes on to the gateway even without any routing resource: with no
  // Gateway it has no listener there and refuses the connection (the sidecar answers 503). Checked on istiod
  // eed52ebb66ad (2026-12-03), fixtures/rules/alt-virtual-hosts.yaml.
  const toGateway = gatewayServiceFor(/^outbound\|\d+\|[^|]*\|(.+)$/.exec(base.cluster)?.[1] ?? '') !== undefined;
  if (routing.length === 0 && !toGateway) return base;
  const notModelled: string[] = [];
  // model/virtualservice_controller.go gives a VirtualService without exportTo meshConfig.defaultVirtualServiceExportTo
  // (`.` its own namespace), but istiod eed52ebb66ad on the control-plane lane applied such a VirtualService in
  // another namespace all the same (2026-12-03, mesh default ["."]): the model takes it as exported everywhere and
  // says so.
  const vsDefault = resources.mesh.meshConfig?.defaultVirtualServiceExportTo;
  if (
    Array.isArray(vsDefault) &&
    !vsDefault.includes('*') &&
    routing.some((r) => r.kind === 'VirtualService' && !((r.spec.exportTo as string[] | undefined) ?? []).length)
  )
    notModelled.push('meshConfig.defaultVirtualServiceExportTo (a VirtualService without exportTo is taken as exported everywhere)');
  // A Sidecar egress listener whose port is HTTP_PROXY routes with listener port 0 (httproute.go
  // BuildSidecarOutboundVirtualHosts): route translation and destination ports follow other rules there.
  const proxyPort = selectSidecar(resources, probe.from).sidecar?.egress.some(
    (e) => e.port?.number === probe.to.port && (e.port.protocol ?? '').toUpperCase() === 'HTTP_PROXY',
  );
  if (proxyPort && routing.some((r) => r.kind === 'VirtualService'))
    notModelled.push('VirtualService routes on a Sidecar egress port of protocol HTTP_PROXY (listener port 0)');
  const why: string[] = notModelled.map((n) => `not modelled: ${n}`);
  const ns = probe.from.namespace;
  const source: RouteSource = { namespace: ns, labels: podLabels(probe.from) };
  const meshRouting = scope ? routingSeenBy(resources, probe.from, probe.to.port, scope.v) : routing;
  const unimported = routing.filter((r) => !meshRouting.includes(r) && virtualServiceFor([r], probe.to.host, 'mesh', ns));
  for (const r of unimported)
    why.push(
      `VirtualService ${r.namespace}/${r.name} is not imported: the Sidecar's egress hosts for port ${probe.to.port} do not take it`,
    );
  const sidecar: Hop = { kind: 'sidecar', proxy: `${ns}/sidecar`, cluster: base.cluster, listener: base.listener };
  let rerouted = false;
  const done = (e: Partial<Expectation>, hops: Hop[]): E => ({
    ...base,
    // A route replaced the unbuilt cluster the base answer failed on: the call's fate is the route's.
    ...(rerouted ? { verdict: 'allowed' as const, signal: undefined } : {}),
    ...e,
    hops: hops.map((h) => withDiscovery(resources, h)),
    reason: [base.reason, ...why].join('; '),
    ...(notModelled.length ? { notModelled: [...new Set(notModelled)] } : {}),
  });
  const answeredLocally = (vs: IstioConfig, local: NonNullable<Destination['local']>): E => {
    why.push(
      `VirtualService ${vs.namespace}/${vs.name} (mesh) answers it itself: ${local.cluster === '(redirect)' ? 'a redirect' : 'a direct response'}, HTTP ${local.status}; nothing leaves the sidecar`,
    );
    return done({ verdict: 'blocked', cluster: local.cluster, signal: local.signal }, [{ ...sidecar, cluster: local.cluster }]);
  };
  const m = /^outbound\|(\d+)\|\|(.+)$/.exec(base.cluster);
  // A route to the service's own cluster that istiod does not build still exists: a VirtualService replaces it
  // like any other (its virtual host is built from the service, route.go; corpus master-2026-08-27 s82-11#0).
  const baseRule = (base as { rule?: string }).rule ?? '';
  const unbuilt = base.verdict === 'blocked' && UNBUILT.has(baseRule);
  // A CIDR prefix chain is the entry's TCP chain whatever another entry of the host declares for the port: only
  // buildSidecarOutboundTCPListenerOpts gets the CIDR (outboundListenerOpts.cidr, listener.go
  // buildSidecarOutboundListener), the HTTP chain of a sniffed port matches no prefix, and Envoy narrows chains by
  // destination prefix before ALPN, so plain HTTP into the range goes over tcp_proxy and no http route applies.
  // Found by fuzzing: `fuzz --seed 6262 --path 23` (a GRPC entry of the same host in another namespace). Not kept as a
  // lane fixture: istiod itself answered PassthroughCluster on 1 of 6 applications of the shrunk scenario (2026-12-03).
  const cidrChain = baseRule === 'se.cidr-chain';
  let kind =
    m && (base.verdict === 'allowed' || unbuilt)
      ? cidrChain
        ? 'tcp'
        : portRouteKind(
            toGateway ? withInstalledServices(resources) : resources,
            m[2]!,
            Number(m[1]),
            ns,
            HTTP_CHAIN.has(baseRule) ? 'http' : undefined,
          )
      : undefined;
  let dest: Destination | undefined;
  // A mesh VirtualService gives a host no service of the route has a virtual host of its own: on port 80 always, on
  // another port when it also takes a service with an HTTP port there (virtual-service.ts nonRegistryVirtualHost,
  // route.go separateVSHostsAndServices / buildSidecarVirtualHostsForVirtualService). Its domain takes the request
  // when the route would leave it to its catch-all (corpus master-2026-08-27 s81-9#1) or to a wildcard service's
  // virtual host with a less specific domain (Envoy: exact before the longest suffix). Checked on istiod eed52ebb66ad
  // (2026-12-03), fixtures/rules/vs-wildcard-hosts.yaml.
  const httpChain =
    probe.to.scheme === 'http' &&
    !probe.to.isIp &&
    base.listener === `0.0.0.0_${probe.to.port}` &&
    (m ? HTTP_CHAIN.has(baseRule) && kind === 'http' : base.cluster !== 'BlackHoleCluster' || baseRule.endsWith('registry-only-http'));
  const registry =
    httpChain && scope ? routeRegistry(resources, ns, scope.v, selectSidecar(resources, probe.from).sidecar, probe.to.port) : undefined;
  // A Host with a trailing dot matches a service's virtual host, which carries the absolute name as a domain
  // (httproute.go GenerateAltVirtualHosts, PILOT_ENABLE_ABSOLUTE_FQDN_VHOST_DOMAIN, on by default), but not one of
  // these: buildVirtualHost gives a host without a service only its name and name:port.
  const requestHost = probe.to.absolute ? `${probe.to.host}.` : probe.to.host;
  const own = registry ? nonRegistryVirtualHost(meshRouting, requestHost, ns, probe.to.port, source, registry) : undefined;
  const svcDomain = m?.[2];
  const beatsService =
    own !== undefined &&
    (!svcDomain ||
      (svcDomain !== probe.to.host && (own.domain === probe.to.host || (isWildcard(svcDomain) && own.domain.length > svcDomain.length))));
  const vs80 = beatsService ? own.vs : undefined;
  if (vs80) {
    dest = routeOf(resources, vs80, 'http', 'mesh', probe.to.port, probe, notModelled, source);
    if (dest?.local) return answeredLocally(vs80, dest.local);
    if (dest) {
      kind = 'http';
      why.push(
        `VirtualService ${vs80.namespace}/${vs80.name} (mesh) has a virtual host ${own!.domain} on route ${probe.to.port}, no service of the route having that host, and routes it to ${dest.cluster}`,
      );
    } else if (httpRoutesTranslated(vs80, 'mesh', probe.to.port, source) && notModelled.length === 0) {
      why.push(
        `VirtualService ${vs80.namespace}/${vs80.name} has a virtual host ${own!.domain} on route ${probe.to.port} whose routes do not match ${probe.to.path || '/'}: Envoy answers 404`,
      );
      return done({ verdict: 'blocked', cluster: '(no route)', signal: 'http-404' }, [{ ...sidecar, cluster: '(no route)' }]);
    }
  }
  if (!dest && (!m || !kind)) return done({}, [sidecar]);
  const kindFor = probe.to.scheme === 'http' ? 'http' : probe.to.scheme === 'https' ? 'tls' : 'tcp';
  // A VirtualService's virtual host carries its service's addresses as domains besides its names
  // (httproute.go generateVirtualHostDomains, GetAllAddressesForProxy): a call to an address is routed by the
  // VirtualService of the service that address belongs to, the host of the sidecar's cluster.
  // On an HTTP route the VirtualService that took the service's virtual host routes it (virtual-service.ts
  // httpVirtualServiceOfService); a VirtualService host the service does not have took no part of it.
  const vs = vs80
    ? undefined
    : m && kind
      ? kind === 'http' && kindFor === 'http' && !cidrChain
        ? httpVirtualServiceOfService(meshRouting, m[2]!.toLowerCase(), ns, probe.to.port, source)
        : kind === 'tcp' && !cidrChain
          ? (tcpVirtualServiceOfService(meshRouting, m[2]!, ns) ??
            meshVirtualServiceFor(meshRouting, probe.to.isIp ? m[2]! : probe.to.host, ns, probe.to.port, kind, source))
          : meshVirtualServiceFor(meshRouting, probe.to.isIp ? m[2]! : probe.to.host, ns, probe.to.port, kind, source)
      : undefined;
  if (vs && kind) {
    const ref = `VirtualService ${vs.namespace}/${vs.name}`;
    const keptNs = scope && !probe.to.isIp ? keptServiceNamespace(resources, probe.to.host, ns, scope.v) : undefined;
    const noVirtualHost =
      scope &&
      kind === 'http' &&
      keptNs !== undefined &&
      ((vs.spec.hosts as string[] | undefined) ?? []).includes(probe.to.host) &&
      !resources.serviceEntries.some(
        (se) =>
          se.namespace === keptNs &&
          se.hosts.includes(probe.to.host) &&
          exportedTo(se, ns, resources, scope.v).visible &&
          se.ports.some((p) => p.number === probe.to.port && (p.protocol === '' || portKind(p.protocol) === 'http')),
      );
    if (noVirtualHost) {
      why.push(
        `${ref} has no virtual host on route ${probe.to.port}: the service kept for ${probe.to.host} has no HTTP port ${probe.to.port}`,
      );
    } else if (kind !== kindFor && kind !== 'tcp') {
      // A call of any kind that takes a TCP chain (the port's, or a CIDR entry's prefix chain) meets that chain's
      // tcp_proxy, built from the VirtualService's tcp routes (listener.go buildSidecarOutboundTCPListenerOpts,
      // tcp.go): the bytes sent do not choose the routes. Checked on istiod eed52ebb66ad (2026-12-04): plain HTTP to
      // a TCP port and into a TCP CIDR entry follows the tcp route (fixtures/rules/vs-tcp-route-takes-http.yaml).
      why.push(`${ref} is not used: the port is ${kind}, the call ${kindFor}`);
    } else if (kind === 'tcp' && kindFor === 'http' && !vs.spec.tcp) {
      why.push(`${ref} has no tcp route, and plain HTTP here took a TCP chain, which no http route reaches`);
    } else if (kind === 'tls' && !vs.spec.tls && vs.spec.http) {
      why.push(`${ref} has only http routes, which a TLS port never uses (its chain matches SNI): no effect`);
    } else {
      dest = routeOf(resources, vs, kind, 'mesh', probe.to.port, probe, notModelled, source);
      if (dest?.local) return answeredLocally(vs, dest.local);
      why.push(dest ? `${ref} (mesh) routes it to ${dest.cluster}` : `${ref} has no ${kind} route matching the call`);
      // The VirtualService's virtual host holds only its own routes (route.go buildSidecarVirtualHostsForVirtualService
      // takes the service off the default virtual hosts, BuildSidecarVirtualHostWrapper): when some route survives
      // translation for this proxy and port but none matches the request, Envoy finds no route and answers 404 (NR).
      // Only a VirtualService none of whose routes survive leaves the service its default route. Checked on istiod
      // eed52ebb66ad (2026-12-03), fixtures/rules/vs-route-matching.yaml.
      if (
        !dest &&
        kind === 'http' &&
        kindFor === 'http' &&
        httpRoutesTranslated(vs, 'mesh', probe.to.port, source) &&
        notModelled.length === 0
      ) {
        why.push(`its virtual host has routes for this proxy and port, none matching ${probe.to.path || '/'}: Envoy answers 404`);
        return done({ verdict: 'blocked', cluster: '(no route)', signal: 'http-404' }, [{ ...sidecar, cluster: '(no route)' }]);
      }
    }
  }
  // A route back to the unbuilt cluster itself leaves the call as the base answer has it (s145-2#4).
  rerouted =
    ((unbuilt && dest?.cluster !== base.cluster) || (vs80 !== undefined && base.cluster === 'BlackHoleCluster')) && dest !== undefined;
  const first: Destination = dest ?? { host: m![2]!, port: Number(m![1]), subset: '', cluster: base.cluster, facts: [] };
  const c1 = clusterFor(
    resources,
    first,
    ns,
    scope ? keptServiceNamespace(resources, first.host, ns, scope.v) : undefined,
    podLabels(probe.from),
  );
  // A DestinationRule's TLS is set on the cluster it applies to (cluster_traffic_policy.go applyTrafficPolicy, the
  // cluster's transport socket): the unbuilt cluster the call still goes to has none. Corpus master-2026-08-27
  // s233-49#0.
  const noCluster = unbuilt && first.cluster === base.cluster;
  if (c1.rule && (c1.tls || first.subset))
    why.push(`${c1.rule} applies for ${ns}${noCluster && c1.tls ? `, but the cluster is not built: no TLS is originated` : ''}`);
  const hop1: Hop = {
    ...sidecar,
    cluster: first.cluster,
    ...(c1.tls && !noCluster ? { tls: c1.tls } : {}),
    ...(first.facts.length ? { route: first.facts } : {}),
  };
  const gw = gatewayServiceFor(first.host);
  const pods = [probe.from, ...(scope?.workloads ?? []), ...installedWorkloads()];
  // A route's destination is a cluster only when a service in the sidecar's scope has that host and port
  // (cluster_builder.go buildOutboundClusters over SidecarScope.Services(): one cluster per non-UDP port of each
  // service; the subset clusters per service too): otherwise the router answers 503 NC, a tcp_proxy closes the
  // connection. The gateway's Service is a service like any other. Corpus master-2026-08-27 s84-4#1 (the entry
  // lacks the route's port), s89-7#0 (the gateway's Service is not exported to the client's namespace).
  const ownSidecar = selectSidecar(resources, probe.from).sidecar;
  let missing =
    !dest && !gw
      ? undefined
      : scope
        ? missingCluster({ host: first.host, port: first.port }, withInstalledServices(resources), ns, scope.v, ownSidecar, pods)
        : !gw && !resources.serviceEntries.some((se) => se.hosts.includes(first.host))
          ? `no service has host ${first.host}`
          : undefined;
  // The destinations of the VirtualServices a Sidecar's egress listener imports join its services even when its
  // egress hosts import no service of that host (pilot/pkg/model/sidecar.go collectImportedServices: "Infer more
  // possible destinations from virtual services", the service of the config namespace, else of the first visible
  // namespace). Fuzz seed 1 path 6 on master-2026-08-27: a Sidecar with `./*` alone still has the egress gateway's
  // subset cluster its namespace's VirtualService routes to.
  // The service of the proxy's own namespace is taken without a visibility check (byNamespace[configNamespace]), so
  // an entry serviceEntryVisibility hides still gets its cluster that way: corpus master-2026-08-27 s198-10#0.
  const routedBy = dest ? (vs80 ?? vs) : undefined;
  if (missing && routedBy && scope) {
    const visible =
      ownSidecar !== undefined &&
      missingCluster({ host: first.host, port: first.port }, withInstalledServices(resources), ns, scope.v, undefined, pods) === undefined;
    const own = resources.serviceEntries.some(
      (se) =>
        se.namespace === ns &&
        se.hosts.includes(first.host) &&
        se.ports.some((p) => p.number === first.port && p.protocol !== 'UDP') &&
        !clusterNotBuilt(se, pods),
    );
    if (visible || own) {
      missing = undefined;
      const scopeName = ownSidecar ? `Sidecar ${ownSidecar.namespace}/${ownSidecar.name}'s` : "the namespace's default sidecar scope's";
      why.push(
        `${first.host} joins ${scopeName} services as a destination of VirtualService ${routedBy.namespace}/${routedBy.name}, which it imports${own ? ` (the entry of ${ns} itself, taken whatever its visibility)` : ''}`,
      );
    }
  }
  if (!c1.exists || missing) {
    why.push(
      missing
        ? `the sidecar has no cluster ${first.cluster}: ${missing}`
        : c1.why
          ? `the sidecar has no cluster ${first.cluster}: ${c1.why}`
          : `no DestinationRule visible from ${ns} defines subset ${first.subset} of ${first.host}: the sidecar has no cluster ${first.cluster}`,
    );
    // No cluster, no TLS originated on it.
    const { tls: _none, ...bare } = hop1;
    return done({ verdict: 'blocked', cluster: first.cluster, signal: kind === 'http' ? 'http-503' : 'tcp-close' }, [bare]);
  }
  if (!gw) {
    const bypass = bypassedGateway(resources, probe);
    if (bypass) why.push(`bypasses the gateway ${bypass}: the call leaves directly`);
    return done({ cluster: first.cluster }, [hop1]);
  }
  const hasCluster = scope
    ? (d: { host: string; port: number }) => {
        // An entry of the gateway's own namespace that its exportTo (its own, or the mesh's default) keeps from that
        // namespace still gets a gateway cluster on the pinned istiod (corpus s107-8#7, s238-75#0). A gateway takes
        // the namespace's default sidecar scope once a sidecar of that namespace has computed it
        // (push_context.go doGetSidecarScope: "Gateways always use default sidecar scope"), and that scope adds the
        // destinations of imported VirtualServices found in its own namespace whatever their exportTo
        // (sidecar.go collectImportedServices); without it, DefaultSidecarScopeForGateway would judge by exportTo
        // (servicesExportedToNamespace). The model takes the first, as istiod answered on every replay.
        // Where another namespace's entry visible to the gateway declares the host, the gateway keeps that one and
        // the own entry's exportTo holds (s159-14#1, #8: no cluster for the port only the own entry has).
        const own = resources.serviceEntries.filter((se) => se.namespace === gw.namespace && se.hosts.includes(d.host));
        const rival = resources.serviceEntries.some(
          (se) => se.namespace !== gw.namespace && se.hosts.includes(d.host) && exportedTo(se, gw.namespace, resources, scope.v).visible,
        );
        const inView =
          own.length && !rival
            ? {
                ...resources,
                serviceEntries: [
                  ...resources.serviceEntries.filter((se) => !own.includes(se)),
                  ...own.map((se) =>
                    keptFromOwnNamespace(se.exportTo.length > 0 ? se.exportTo : (resources.mesh.defaultServiceExportTo ?? ['*']))
                      ? { ...se, exportTo: ['.'] }
                      : se,
                  ),
                ],
              }
            : resources;
        const m = missingCluster(d, withInstalledServices(inView), gw.namespace, scope.v, undefined, pods);
        return m ? { missing: m } : {};
      }
    : undefined;
  return followGateway(
    resources,
    probe,
    first,
    hop1,
    gw,
    why,
    notModelled,
    done,
    hasCluster,
    scope ? (host) => keptServiceNamespace(resources, host, gw.namespace, scope.v) : undefined,
  );
}
