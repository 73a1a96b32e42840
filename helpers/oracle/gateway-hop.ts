// A call the sidecar sends to the egress gateway, followed through it: the Gateway server that takes it, the
// TLS the two ends must agree on, the VirtualService bound to the server and the cluster the gateway sends it
// to; and a direct call that bypasses a gateway routing its host. Pure.
import type { BlockSignal, Expectation, Hop, IstioConfig, Probe, ResourceSet } from '../model/types.ts';
import { clusterFor } from './destination-rule.ts';
import { exportedTo } from './export-to.ts';
import {
  type GatewayServer,
  type GatewayService,
  INSTALL_GATEWAYS,
  namesGateway,
  opaqueTcp,
  serverRoutes,
  serversOn,
  serverTakes,
} from './gateway.ts';
import { subsetOf } from './hosts.ts';
import { type Destination, routeOf, viewOrder, virtualServiceFor } from './virtual-service.ts';

export function followGateway<E extends Expectation>(
  resources: ResourceSet,
  probe: Probe,
  first: Destination,
  hop1: Hop,
  gw: GatewayService,
  why: string[],
  notModelled: string[],
  done: (e: Partial<Expectation>, hops: Hop[]) => E,
  /** Whether the gateway has a host's port cluster; unset: whenever an entry declares the host. */
  gatewayCluster?: (d: { host: string; port: number }) => { missing?: string },
  /** The namespace of the service the gateway keeps for a host, whose DestinationRules it may apply. */
  keptNs?: (host: string) => string | undefined,
): E {
  const routing = resources.routing ?? [];
  const at = `gateway ${gw.workload}`;
  const gwHop = (cluster: string, extra: Partial<Hop> = {}): Hop => ({ kind: 'gateway', proxy: gw.workload, cluster, ...extra });
  const onPort = serversOn(routing, gw, first.port);
  // An HTTPS or TLS server's chain matches its hosts as SNI (model/gateway.go GetSNIHostsForServer, listener.go
  // toFilterChainMatch, gateway.go createGatewayHTTPFilterChainOpts), and a sidecar originating TLS to the gateway
  // sends its DestinationRule's sni, not the request's Host: that picks the server, the Host then picks the
  // virtual host inside. A chain naming the SNI wins over a `*` server's, which names none. Corpus
  // master-2026-08-27 s229-102#2, s238-25#0 (an address as Host, the SNI a host the server names: the gateway's 404).
  const sni = hop1.tls?.sni;
  const sniMatched = (s: GatewayServer) => s.port.protocol === 'HTTPS' || s.port.protocol === 'TLS';
  const named = (s: GatewayServer) => (sni && sniMatched(s) ? sni : probe.to.host);
  const byNamedSni = sni
    ? onPort.find((s) => sniMatched(s) && serverTakes({ ...s, hosts: s.hosts.filter((h) => h !== '*') }, sni))
    : undefined;
  // An opaque TCP server's chain matches no SNI: it takes whatever no server's SNI took (gateway.go
  // createGatewayTCPFilterChainOpts, sniHosts nil), its hosts only choosing its VirtualServices.
  const server = byNamedSni ?? onPort.find((s) => serverTakes(s, named(s))) ?? onPort.find(opaqueTcp);
  // How a call ends at the gateway, as the lane names it: the gateway hop's pseudo-cluster, and what the client
  // sees. A plain-HTTP call reaches the gateway through its sidecar's HTTP route, whose router passes the
  // gateway's own answer (a 404) back and answers a connection the gateway refuses or closes with a 503
  // (Envoy's UF / UC flags); any other call rides a tcp_proxy, which closes the client's connection.
  const httpLeg = probe.to.scheme === 'http';
  const ends = (end: string, atGateway: BlockSignal): E => {
    // The sidecar's router passes the gateway's own answers back (a 404, a route's direct response or redirect).
    const own = atGateway === 'http-404' || atGateway === 'http-502' || atGateway === 'http-local';
    const signal: BlockSignal = !httpLeg ? 'tcp-close' : own ? atGateway : 'http-503';
    return done({ verdict: 'blocked', cluster: first.cluster, signal }, [hop1, gwHop(end)]);
  };
  if (!server) {
    if (onPort.length === 0) {
      // gateway.go builds listeners from servers only: no server on the port, no listener; the Pod refuses it.
      why.push(`${at}: no Gateway server on port ${first.port}: nothing listens there, the connection is refused`);
      return ends('(connection refused)', 'tcp-close');
    }
    why.push(`${at}: no Gateway server on port ${first.port} takes ${probe.to.host}${sni && sni !== probe.to.host ? ` (SNI ${sni})` : ''}`);
    // gateway.go createGatewayHTTPFilterChainOpts: a plain HTTP server's filter chain matches no host (sniHosts
    // nil), so the gateway reads a plain-text request whatever its Host; buildGatewayHTTPRouteConfig gives the
    // route only virtual hosts of the servers' hosts, and Envoy answers a Host none names with 404 (NR).
    // Corpus master-2026-08-27 s107-8#5 (an IP-literal Host sent to a server of api.example.net).
    if (!hop1.tls && onPort.every((s) => serverRoutes(s) === 'http' && s.port.protocol !== 'HTTPS')) {
      why.push(`${at}: its plain HTTP chain reads the request anyway, and no virtual host names its Host: 404`);
      return ends('(no route)', 'http-404');
    }
    // The same chain takes a TLS connection too and reads its bytes as a broken request (s166-9#1).
    if (hop1.tls && onPort.every((s) => serverRoutes(s) === 'http' && s.port.protocol !== 'HTTPS')) {
      why.push(`${at}: its plain HTTP chain takes the sidecar's TLS and cannot read it`);
      return ends('(protocol error)', 'tcp-close');
    }
    // HTTPS and TLS servers' chains match their hosts as SNI (model/gateway.go GetSNIHostsForServer, listener.go
    // toFilterChainMatch), and the sidecar's call carries none of them (auto mTLS names the gateway's cluster):
    // no filter chain takes it. Corpus master-2026-08-27 s218-5#4 (an address dialled, the server's host unnamed).
    if (onPort.every((s) => s.port.protocol === 'HTTPS' || s.port.protocol === 'TLS')) {
      why.push(
        `${at}: every server on the port matches its hosts as SNI, which the call ${sni ? `(SNI ${sni}) does not match` : 'does not carry'}: no filter chain`,
      );
      return ends('(no filter chain)', 'tcp-close');
    }
    return done({ verdict: 'blocked', cluster: first.cluster }, [hop1]);
  }
  why.push(
    `${at}: Gateway ${server.ref} server ${server.port.protocol} ${first.port}${server.tlsMode ? ` (tls ${server.tlsMode})` : ''} takes ${named(server) === probe.to.host ? probe.to.host : `SNI ${named(server)}, the request's Host being ${probe.to.host}`}`,
  );
  // The VirtualServices a server's chains come from: bound to its Gateway, visible in the gateway's namespace, a
  // host meeting one of the server's (gateway.go pickMatchingGatewayHosts), in VirtualServicesForGateway's order.
  const boundTo = (s: GatewayServer) =>
    routing
      .filter((r) => {
        if (r.kind !== 'VirtualService' || !exportedTo(r, gw.namespace)) return false;
        if (!namesGateway(r.namespace, (r.spec.gateways as string[] | undefined) ?? [], s.ref)) return false;
        const hosts = (r.spec.hosts as string[] | undefined) ?? [];
        return hosts.some((h) => s.hosts.some((sh) => sh === '*' || subsetOf(h, sh) || subsetOf(sh, h)));
      })
      .sort(viewOrder(gw.namespace));
  // gateway.go l4SingleMatch: a tls or tcp route's match is its port and gateways only. A tls block needs a match
  // to build a chain (one per match, by its sniHosts); a tcp block without one matches.
  const l4Match = (m: Record<string, unknown>, vs: IstioConfig, s: GatewayServer) =>
    (m.port === undefined || m.port === s.port.number) &&
    (!Array.isArray(m.gateways) || m.gateways.length === 0 || namesGateway(vs.namespace, m.gateways as string[], s.ref));
  const builds = (vs: IstioConfig, s: GatewayServer, k: 'tls' | 'tcp') =>
    ((vs.spec[k] as Record<string, unknown>[] | undefined) ?? []).some((r) => {
      if (!Array.isArray(r.route) || r.route.length === 0) return false;
      const matches = (r.match as Record<string, unknown>[] | undefined) ?? [];
      return k === 'tcp' && matches.length === 0 ? true : matches.some((m) => l4Match(m, vs, s));
    });
  // A listener is built only when one of the port's servers has a filter chain: an HTTP server always, a TLS or
  // TCP server when a bound VirtualService has a route of its kind whose match fits (gateway.go
  // createGatewayTCPFilterChainOpts, buildGatewayNetworkFiltersFromTLSRoutes / ...FromTCPRoutes;
  // MutableGatewayListener.build drops a listener without chains: nothing listens on the port). Corpus
  // master-2026-08-27 s235-117#2 (a PASSTHROUGH server whose VirtualService names a Gateway of its own namespace).
  const chains = (s: GatewayServer) => {
    const k = serverRoutes(s);
    return k === 'http' || boundTo(s).some((vs) => builds(vs, s, k));
  };
  if (!onPort.some(chains)) {
    why.push(
      `${at}: no VirtualService bound to a server on port ${first.port} gives it a ${serverRoutes(server)} route: the gateway has no listener there`,
    );
    return ends('(connection refused)', 'tcp-close');
  }
  const wantsMtls = server.tlsMode === 'ISTIO_MUTUAL';
  const sentMtls = hop1.tls?.mode === 'ISTIO_MUTUAL';
  const kind = serverRoutes(server);
  // A server that terminates TLS (HTTPS or TLS, not PASSTHROUGH) has one chain with a TLS server socket, matching
  // its hosts as SNI, none for `*` (model/gateway.go GetSNIHostsForServer, listener.go toFilterChainMatch). Without
  // a DestinationRule TLS setting the sidecar sends the gateway plain text: auto mTLS reaches only endpoints labelled
  // security.istio.io/tlsMode=istio, and the installed gateway Pods are not (cluster_tls.go, the gateway charts).
  // Plain text carries no SNI: only a `*` server's chain takes it, and its TLS socket cannot read it. Checked on
  // istiod eed52ebb66ad (2026-12-03): fixtures/rules/gateway-plain-into-terminating-tls.yaml.
  const terminating = (s: GatewayServer) => s.tlsMode !== undefined && serverRoutes(s) !== 'tls';
  // The client's own TLS (an https:// call) passes the sidecar as it is.
  const plainText = !hop1.tls && probe.to.scheme !== 'https';
  if (plainText && terminating(server)) {
    if (onPort.some((s) => terminating(s) && s.hosts.includes('*'))) {
      why.push(`${at}: the sidecar sends plain text to the chain of the server for *, whose TLS socket cannot read it`);
      return ends('(handshake failed)', 'tcp-close');
    }
    why.push(
      `${at} terminates TLS (${server.tlsMode}) but the sidecar sends no TLS to it (no DestinationRule TLS setting for ${first.cluster}): no chain takes plain text`,
    );
    return ends('(no filter chain)', 'tcp-close');
  }
  if (wantsMtls && !sentMtls) {
    // listener.go BuildListenerTLSContext: an ISTIO_MUTUAL server requires a client certificate.
    why.push(`${at} expects Istio mTLS but the sidecar's ${hop1.tls?.mode} TLS presents no client certificate: the handshake fails`);
    return ends('(handshake failed)', 'tcp-close');
  }
  // gateway.go buildGatewayNetworkFiltersFromTLSRoutes: a PASSTHROUGH server's chains match the tls routes' sniHosts and
  // hold no TLS context, so the sidecar's Istio mTLS is not terminated but passed on by its SNI. Corpus
  // master-2026-08-27 s233-26#7.
  const passthrough = server.tlsMode === 'PASSTHROUGH' && kind === 'tls';
  if (passthrough && sentMtls) why.push(`${at}: the PASSTHROUGH server does not terminate the sidecar's Istio mTLS, it routes it by SNI`);
  if (!wantsMtls && sentMtls && !passthrough) {
    why.push(`the sidecar originates Istio mTLS but the server is not ISTIO_MUTUAL: the gateway cannot read the call`);
    // A plain HTTP server's connection manager reads TLS bytes as a broken request and closes the connection.
    return server.port.protocol !== 'HTTPS' && kind === 'http'
      ? ends('(protocol error)', 'tcp-close')
      : done({ verdict: 'blocked', cluster: first.cluster }, [hop1]);
  }
  // TLS of any mode (a DestinationRule's SIMPLE or MUTUAL to the gateway) meets a plain HTTP server's connection
  // manager the same way. Checked on istiod eed52ebb66ad: fixtures/rules/gateway-tls-into-plain-http.yaml.
  if (hop1.tls && kind === 'http' && server.port.protocol !== 'HTTPS') {
    why.push(`the sidecar originates TLS ${hop1.tls.mode} to a plain HTTP server: the gateway cannot read the call`);
    return ends('(protocol error)', 'tcp-close');
  }
  // An HTTP route holds virtual hosts for its server's hosts only (gateway.go buildGatewayHTTPRouteConfig: the
  // server's hosts that bound VirtualServices share), matched against the request's Host; only a server picked by
  // SNI can fail to name the Host. No other route reads the Host: a TCP chain (opaque, or after terminating TLS)
  // forwards bytes, and a PASSTHROUGH chain is picked by the SNI.
  // A gateway's virtual host has its host as written as its one domain (gateway.go buildGatewayHTTPRouteConfig), so
  // a Host with a trailing dot is taken only by a `*` one: a `*` server host meeting a `*` VirtualService host.
  const httpHost = probe.to.absolute ? '*' : probe.to.host;
  const hostOutside = kind === 'http' && !serverTakes(server, httpHost);
  // model/gateway.go mergeGateways names every plain HTTP server of a port, whatever its Gateway, route http.<port>
  // (gatewayRDSRouteName), and gateway.go buildGatewayHTTPRouteConfig fills that one route from each of them, the
  // routes of a host's VirtualServices joining one virtual host: the request meets the VirtualServices bound to any
  // of those Gateways, not only to the first server that names its host. An HTTPS server keeps a route of its own.
  // Corpus master-2026-08-27 s234-104#2 (a VirtualService bound to the second Gateway on port 80).
  const plainHttp = (s: GatewayServer) => serverRoutes(s) === 'http' && s.port.protocol !== 'HTTPS';
  const sharing = hostOutside ? [] : plainHttp(server) ? onPort.filter((s) => plainHttp(s) && serverTakes(s, httpHost)) : [server];
  let routed: { vs: IstioConfig; dest: Destination; by: GatewayServer } | undefined;
  // A TCP server's one chain forwards by the first bound VirtualService whose tcp route fits, whatever host the
  // call was for (gateway.go buildGatewayNetworkFiltersFromTCPRoutes). A PASSTHROUGH server's chains are the tls
  // matches of its bound VirtualServices, each matching its sniHosts against the SNI the call carries, which a
  // sidecar originating TLS takes from its DestinationRule, not from the Host (buildGatewayNetworkFiltersFromTLSRoutes).
  const candidates = (s: GatewayServer) =>
    kind === 'http' ? [virtualServiceFor(routing, httpHost, s.ref, gw.namespace)].filter((v) => v !== undefined) : boundTo(s);
  const bySni = kind === 'tls' && named(server) !== probe.to.host ? { ...probe, to: { ...probe.to, host: named(server) } } : probe;
  for (const s of sharing) {
    for (const vs of candidates(s)) {
      const dest = routeOf(resources, vs, kind, s.ref, first.port, bySni, notModelled);
      if (dest) {
        routed = { vs, dest, by: s };
        break;
      }
    }
    if (routed) break;
  }
  if (!routed) {
    const refs = [...new Set(sharing.map((s) => s.ref))].join(' or ');
    why.push(
      hostOutside
        ? `${at}: the server's route has virtual hosts for its own hosts only, none for the request's Host ${probe.to.absolute ? `${probe.to.host}.` : probe.to.host}`
        : `${at}: no VirtualService bound to ${refs} has a ${kind} route for ${probe.to.host}`,
    );
    // gateway.go: an HTTP server nothing routes gets the 404 virtual host blackhole:PORT. A TLS or TCP call no chain
    // takes meets a listener all the same (a chain of the port exists, checked above): Envoy closes it.
    if (kind === 'http') return ends('(no route)', 'http-404');
    return ends('(no filter chain)', 'tcp-close');
  }
  const { vs, dest, by: routedBy } = routed;
  if (dest.local) {
    why.push(`${at}: VirtualService ${vs.namespace}/${vs.name} answers it itself (HTTP ${dest.local.status}); nothing leaves the gateway`);
    return ends(dest.local.cluster, dest.local.signal);
  }
  if (routedBy !== server) {
    const target = gw.ports.find((p) => p.port === first.port)?.targetPort ?? first.port;
    why.push(`${at}: its server of ${server.ref} shares route http.${target} with the one of ${routedBy.ref}`);
  }
  why.push(`${at}: VirtualService ${vs.namespace}/${vs.name} routes it to ${dest.cluster}`);
  const c2 = clusterFor(resources, dest, gw.namespace, keptNs?.(dest.host), gw.labels);
  // The gateway's scope is the services exported to its namespace, and a service's clusters are its non-UDP
  // ports (sidecar.go DefaultSidecarScopeForGateway, cluster_builder.go buildOutboundClusters): a route to a port
  // the entry lacks, or to an entry not exported to istio-system, names a cluster the gateway does not have.
  // Corpus master-2026-08-27 s125-11#0 (no port 443), s119-12#7 (exported to other namespaces only).
  const missing = gatewayCluster
    ? gatewayCluster(dest).missing
    : resources.serviceEntries.some((se) => se.hosts.includes(dest.host))
      ? undefined
      : `no ServiceEntry declares ${dest.host}`;
  if (!c2.exists || missing) {
    why.push(`${at} has no cluster ${dest.cluster}${missing ? `: ${missing}` : c2.why ? `: ${c2.why}` : ''}`);
    return ends(dest.cluster, 'http-503');
  }
  if (c2.tls) why.push(`${c2.rule} makes the gateway originate TLS ${c2.tls.mode}${c2.tls.sni ? ` with SNI ${c2.tls.sni}` : ''}`);
  return done({ verdict: 'allowed', cluster: first.cluster }, [
    hop1,
    gwHop(dest.cluster, { ...(c2.tls ? { tls: c2.tls } : {}), ...(dest.facts.length ? { route: dest.facts } : {}) }),
  ]);
}

/** A gateway whose server and bound VirtualService would route this host: a direct call bypasses it. */
export function bypassedGateway(resources: ResourceSet, probe: Probe): string | undefined {
  const routing = resources.routing ?? [];
  const routes = (gw: GatewayService) =>
    gw.ports.some((p) =>
      serversOn(routing, gw, p.port).some(
        (s) => serverTakes(s, probe.to.host) && virtualServiceFor(routing, probe.to.host, s.ref, gw.namespace),
      ),
    );
  return INSTALL_GATEWAYS.find(routes)?.workload;
}
