// fast-check generators of the routing kinds the model covers (issue #16), built on a host the scenario's
// ServiceEntries declare, in the shapes Istio's egress tasks use (fixtures/egress/*.yaml):
// - the egress-gateway pattern: a Gateway on the install's `istio: egressgateway` Pods (in istio-system or a
//   client namespace), HTTP on 80, TLS PASSTHROUGH on 443 by SNI, or HTTPS ISTIO_MUTUAL; a VirtualService bound
//   to `mesh` and the Gateway with its two legs; a DestinationRule for the gateway Service with the subset (with
//   ISTIO_MUTUAL tls, without, or the subset missing), and TLS originated at the gateway;
// - TLS origination at the sidecar: a DestinationRule `tls.mode: SIMPLE` on the external host (port-level or
//   for all ports, with and without `sni`), sometimes a VirtualService sending the HTTP port to the TLS one;
// - a VirtualService on the external host with a timeout and retries, a re-route by path to another declared
//   host or to one nobody declares, and `tls` routes by SNI (an `http` route on a TLS port has no effect).
// exportTo and namespaces vary (the client's, the entry's, istio-system), so that one client namespace sees a
// VirtualService or DestinationRule and another does not. A draw may be refused by Istio on purpose (a TLS
// server without tls, an SNI outside the hosts, `.` beside the own namespace, `~`): repair-routing.ts fixes it
// or drops that one resource. An upper-case subset name is drawn too: Istio accepts it.
import fc from 'fast-check';
import { EGRESS_GATEWAY } from '../oracle/gateway.ts';
import { NAMESPACES } from './pools.ts';

type Obj = Record<string, unknown>;

/** An exact host a ServiceEntry declares, with its ports and namespace: what routing is built on. */
export interface RoutingTarget {
  host: string;
  namespace: string;
  ports: { number: number; protocol: string }[];
}

/** A host no ServiceEntry declares: a route to it has no cluster (503 NC), a DestinationRule on it no effect. */
export const MISSING_HOST = 'nowhere.example.net';
const GATEWAY_HOST = EGRESS_GATEWAY.host;
const GATEWAY_NAME = 'istio-egressgateway';
const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);
const TLS_PROTOCOLS = new Set(['TLS', 'HTTPS']);

/** The exact hosts of the (repaired) ServiceEntries; wildcards are left out, as Istio's tasks name one host. */
export function routingTargets(manifests: Obj[]): RoutingTarget[] {
  return manifests.flatMap((m) => {
    if (m.kind !== 'ServiceEntry') return [];
    const spec = (m.spec ?? {}) as Obj;
    const namespace = String((m.metadata as Obj).namespace);
    const ports = ((spec.ports as Obj[] | undefined) ?? []).map((p) => ({
      number: Number(p.number),
      protocol: String(p.protocol ?? '').toUpperCase(),
    }));
    return ((spec.hosts as string[] | undefined) ?? []).filter((h) => !h.includes('*')).map((host) => ({ host, namespace, ports }));
  });
}

/** The target's port of a kind (the `pick`-th of them), else the kind's usual port. */
function portOf(t: RoutingTarget, kind: 'http' | 'tls', pick: number): number {
  const set = kind === 'http' ? HTTP_PROTOCOLS : TLS_PROTOCOLS;
  const ports = t.ports.filter((p) => set.has(p.protocol));
  return ports.length ? ports[pick % ports.length]!.number : kind === 'http' ? 80 : 443;
}

/**
 * A target with a port of the kind a pattern routes (HTTP, or TLS by SNI) six times in seven, else any: a
 * VirtualService on a port of another kind is legal and has no effect, which is worth a draw now and then.
 */
function targetArb(targets: RoutingTarget[], kind: 'http' | 'tls'): fc.Arbitrary<RoutingTarget> {
  const set = kind === 'http' ? HTTP_PROTOCOLS : TLS_PROTOCOLS;
  const fit = targets.filter((t) => t.ports.some((p) => set.has(p.protocol)));
  if (fit.length === 0) return fc.constantFrom(...targets);
  return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...fit) }, { weight: 1, arbitrary: fc.constantFrom(...targets) });
}

function weighted<T>(...pairs: [number, T][]): fc.Arbitrary<T> {
  return fc.oneof(...pairs.map(([weight, v]) => ({ weight, arbitrary: fc.constant(v) })));
}

/** exportTo of a VirtualService or DestinationRule: mostly unset (everywhere); `~`, and `.` beside the own name, are refused. */
const exportArb = weighted<string[] | undefined>(
  [6, undefined],
  [2, ['.']],
  [1, ['*']],
  [1, ['frontend']],
  [1, ['default', 'payments']],
  [1, ['.', 'frontend']],
  [1, ['~']],
);

/**
 * exportTo on the gateway pattern's own pieces, set less often: the gateway must see the VirtualService and the
 * clients the subset, so most narrowings break the whole path the same way.
 */
const gatewayExportArb = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: exportArb });

const meta = (kind: string, name: string, namespace: string, spec: Obj): Obj => ({
  apiVersion: 'networking.istio.io/v1',
  kind,
  metadata: { name, namespace },
  spec,
});
const withExport = (spec: Obj, exportTo: string[] | undefined): Obj => (exportTo ? { ...spec, exportTo } : spec);
const dest = (host: string, port?: number, subset?: string): Obj => ({
  destination: { host, ...(subset ? { subset } : {}), ...(port ? { port: { number: port } } : {}) },
});

// ---- the egress-gateway pattern -------------------------------------------------------------------------

type Variant = 'http' | 'passthrough' | 'mutual' | 'originate';
const gatewayDraw = (targets: RoutingTarget[]) =>
  fc.constantFrom<Variant>('http', 'passthrough', 'mutual', 'originate').chain((variant) => gatewayFields(targets, variant));
const gatewayFields = (targets: RoutingTarget[], variant: Variant) =>
  fc.record({
    target: targetArb(targets, variant === 'passthrough' ? 'tls' : 'http'),
    variant: fc.constant(variant),
    /** The VirtualService's namespace: a client's, or the entry's own. */
    vsNs: fc.constantFrom<string>(...NAMESPACES, 'entry'),
    /** The Gateway in istio-system, or beside the VirtualService. */
    gatewayInIstioSystem: fc.boolean(),
    /** `short`: the VirtualService names the Gateway without its namespace, which binds only in its own. */
    ref: weighted<'right' | 'short'>([5, 'right'], [1, 'short']),
    serverHost: weighted<'host' | 'any' | 'ns'>([5, 'host'], [1, 'any'], [1, 'ns']),
    serverTls: weighted<'set' | 'missing'>([8, 'set'], [1, 'missing']),
    subset: weighted([8, 'edition'], [1, 'Edition']),
    dr: weighted<'istio-system' | 'vs-ns' | 'absent' | 'other-subset'>(
      [6, 'istio-system'],
      [2, 'vs-ns'],
      [1, 'absent'],
      [1, 'other-subset'],
    ),
    /** ISTIO_MUTUAL on the sidecar → gateway leg: the mutual variant needs it (gateway-mutual-no-tls.yaml). */
    drTls: weighted<'mutual' | 'none'>([3, 'mutual'], [1, 'none']),
    /** ISTIO_MUTUAL towards a plain HTTP or PASSTHROUGH server, which does not expect it. */
    strayTls: weighted([5, false], [1, true]),
    vsExport: gatewayExportArb,
    drExport: gatewayExportArb,
    pick: fc.nat(7),
  });
type GatewayDraw = typeof gatewayFields extends (t: RoutingTarget[], v: Variant) => fc.Arbitrary<infer T> ? T : never;

export function gatewayManifests(d: GatewayDraw, i: number): Obj[] {
  const t = d.target;
  const vsNs = d.vsNs === 'entry' ? t.namespace : d.vsNs;
  const gwNs = d.gatewayInIstioSystem ? EGRESS_GATEWAY.namespace : vsNs;
  const gwName = `${GATEWAY_NAME}-${i}`;
  const gwRef = gwNs === vsNs || d.ref === 'short' ? gwName : `${gwNs}/${gwName}`;
  const tlsLeg = d.variant === 'passthrough';
  const meshPort = portOf(t, tlsLeg ? 'tls' : 'http', d.pick);
  // The gateway Service's ports: 80 (http2) and 443 (https).
  const gwPort = d.variant === 'http' || d.variant === 'originate' ? 80 : 443;
  const serverPort =
    d.variant === 'passthrough'
      ? { number: 443, name: 'tls', protocol: 'TLS' }
      : d.variant === 'mutual'
        ? { number: 443, name: 'https', protocol: 'HTTPS' }
        : { number: 80, name: 'http', protocol: 'HTTP' };
  const serverTls = d.variant === 'passthrough' ? { mode: 'PASSTHROUGH' } : d.variant === 'mutual' ? { mode: 'ISTIO_MUTUAL' } : undefined;
  const host = d.serverHost === 'any' ? '*' : d.serverHost === 'ns' ? `${vsNs}/${t.host}` : t.host;
  const server: Obj = { port: serverPort, hosts: [host], ...(serverTls && d.serverTls === 'set' ? { tls: serverTls } : {}) };
  const out: Obj[] = [meta('Gateway', gwName, gwNs, { selector: { istio: 'egressgateway' }, servers: [server] })];
  // The gateway leg: out to the host's port, or to its TLS port when the gateway originates TLS.
  const exitPort = d.variant === 'originate' ? portOf(t, 'tls', d.pick) : meshPort;
  const legs = tlsLeg
    ? {
        tls: [
          { match: [{ gateways: ['mesh'], port: meshPort, sniHosts: [t.host] }], route: [dest(GATEWAY_HOST, gwPort, d.subset)] },
          { match: [{ gateways: [gwRef], port: gwPort, sniHosts: [t.host] }], route: [dest(t.host, exitPort)] },
        ],
      }
    : {
        http: [
          { match: [{ gateways: ['mesh'], port: meshPort }], route: [dest(GATEWAY_HOST, gwPort, d.subset)] },
          { match: [{ gateways: [gwRef], port: gwPort }], route: [dest(t.host, exitPort)] },
        ],
      };
  out.push(
    meta('VirtualService', `through-gateway-${i}`, vsNs, withExport({ hosts: [t.host], gateways: [gwRef, 'mesh'], ...legs }, d.vsExport)),
  );
  if (d.dr !== 'absent') {
    const mutual = { portLevelSettings: [{ port: { number: gwPort }, tls: { mode: 'ISTIO_MUTUAL', sni: t.host } }] };
    const withTls = d.variant === 'mutual' ? d.drTls === 'mutual' : d.strayTls;
    const subset = { name: d.dr === 'other-subset' ? 'other' : d.subset, ...(withTls ? { trafficPolicy: mutual } : {}) };
    const ns = d.dr === 'istio-system' ? EGRESS_GATEWAY.namespace : vsNs;
    out.push(meta('DestinationRule', `gateway-subset-${i}`, ns, withExport({ host: GATEWAY_HOST, subsets: [subset] }, d.drExport)));
  }
  if (d.variant === 'originate') {
    const tls = { port: { number: exitPort }, tls: { mode: 'SIMPLE', sni: t.host } };
    out.push(meta('DestinationRule', `originate-${i}`, t.namespace, { host: t.host, trafficPolicy: { portLevelSettings: [tls] } }));
  }
  return out;
}

// ---- TLS origination at the sidecar ---------------------------------------------------------------------

const originationDraw = (targets: RoutingTarget[]) =>
  fc.record({
    target: targetArb(targets, 'http'),
    ns: fc.constantFrom<string>(...NAMESPACES, 'entry'),
    missingHost: weighted([7, false], [1, true]),
    /** The port TLS is originated on: the HTTP port itself, or a TLS port the HTTP one is sent to. */
    rewrite: fc.boolean(),
    sni: fc.boolean(),
    /** Port-level settings (the tasks' form), or tls for every port. */
    portLevel: weighted([4, true], [1, false]),
    drExport: exportArb,
    vsExport: exportArb,
    pick: fc.nat(7),
  });
type OriginationDraw = typeof originationDraw extends (t: RoutingTarget[]) => fc.Arbitrary<infer T> ? T : never;

export function originationManifests(d: OriginationDraw, i: number): Obj[] {
  const t = d.target;
  const ns = d.ns === 'entry' ? t.namespace : d.ns;
  const host = d.missingHost ? MISSING_HOST : t.host;
  const httpPort = portOf(t, 'http', d.pick);
  const tlsPort = d.rewrite ? portOf(t, 'tls', d.pick) : httpPort;
  const tls = { mode: 'SIMPLE', ...(d.sni ? { sni: t.host } : {}) };
  // Top-level tls beside a port-level setting for the port that sets only a load balancer: the port-level setting
  // replaces the policy for its port, so that port originates no TLS (networking/util GetPortLevelTrafficPolicy;
  // fixtures/rules/destination-rule-port-level.yaml). Decided from the draw, not drawn: an extra draw would move
  // every later scenario of a seed.
  const lbOnly = !d.portLevel && d.pick % 2 === 1;
  const trafficPolicy = d.portLevel
    ? { portLevelSettings: [{ port: { number: tlsPort }, tls }] }
    : { tls, ...(lbOnly ? { portLevelSettings: [{ port: { number: tlsPort }, loadBalancer: { simple: 'RANDOM' } }] } : {}) };
  const out = [meta('DestinationRule', `originate-${i}`, ns, withExport({ host, trafficPolicy }, d.drExport))];
  if (d.rewrite) {
    const http = [{ match: [{ port: httpPort }], route: [dest(host, tlsPort)] }];
    out.push(meta('VirtualService', `to-tls-port-${i}`, ns, withExport({ hosts: [host], http }, d.vsExport)));
  }
  return out;
}

// ---- timeouts, retries and re-routes on the external host -----------------------------------------------

const routesDraw = (targets: RoutingTarget[]) =>
  fc.record({
    target: targetArb(targets, 'http'),
    /** Where a re-route goes: another declared host (or the same), or one nobody declares. */
    other: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...targets.map((t) => t.host)) },
      { weight: 1, arbitrary: fc.constant(MISSING_HOST) },
    ),
    ns: fc.constantFrom<string>(...NAMESPACES, 'entry'),
    missingHost: weighted([7, false], [1, true]),
    shape: fc.constantFrom('timeout', 'reroute', 'both'),
    timeout: fc.constantFrom('3s', '0.5s', '10s'),
    attempts: fc.constantFrom(2, 0, 5),
    withPort: fc.boolean(),
    /** A `tls` route by SNI to the other host as well (the TLS port's own routing). */
    tlsRoute: weighted([3, false], [1, true]),
    /** The SNI match names the other host, outside the VirtualService's hosts: refused, repaired. */
    sniOutside: weighted([6, false], [1, true]),
    vsExport: exportArb,
    pick: fc.nat(7),
  });
type RoutesDraw = typeof routesDraw extends (t: RoutingTarget[]) => fc.Arbitrary<infer T> ? T : never;

export function routesManifests(d: RoutesDraw, i: number): Obj[] {
  const t = d.target;
  const ns = d.ns === 'entry' ? t.namespace : d.ns;
  const host = d.missingHost ? MISSING_HOST : t.host;
  const port = d.withPort ? portOf(t, 'http', d.pick) : undefined;
  const timed = { timeout: d.timeout, retries: { attempts: d.attempts }, route: [dest(host, port)] };
  const reroute = { match: [{ uri: { prefix: '/v2' } }], route: [dest(d.other)] };
  const http = d.shape === 'timeout' ? [timed] : d.shape === 'reroute' ? [reroute, { route: [dest(host, port)] }] : [reroute, timed];
  const tlsPort = portOf(t, 'tls', d.pick);
  const sni = d.sniOutside && d.other !== host ? d.other : host;
  const tls = d.tlsRoute ? { tls: [{ match: [{ port: tlsPort, sniHosts: [sni] }], route: [dest(d.other, tlsPort)] }] } : {};
  return [meta('VirtualService', `routes-${i}`, ns, withExport({ hosts: [host], http, ...tls }, d.vsExport))];
}

// ---- a scenario's routing -------------------------------------------------------------------------------

function patternArb(targets: RoutingTarget[], i: number): fc.Arbitrary<Obj[]> {
  return fc.oneof(
    { weight: 2, arbitrary: gatewayDraw(targets).map((d) => gatewayManifests(d, i)) },
    { weight: 1, arbitrary: originationDraw(targets).map((d) => originationManifests(d, i)) },
    { weight: 1, arbitrary: routesDraw(targets).map((d) => routesManifests(d, i)) },
  );
}

/**
 * Routing manifests as drawn (may be refused: repair them), built on the exact hosts `manifests` declare.
 * `share` is the chance a scenario with such a host gets routing at all: one or, now and then, two patterns.
 * One in four by default: routed probes often stop on the misconfigurations drawn on purpose (a missing
 * subset, a VirtualService a namespace does not see); at one in three the CI fuzz's share of probes in a
 * ServiceEntry route or chain fell to 56 % on the real istiod (seed 1), at one in four it is 61 %.
 */
export function routingArb(manifests: Obj[], share = 1 / 4): fc.Arbitrary<Obj[]> {
  const targets = routingTargets(manifests);
  if (targets.length === 0 || share <= 0) return fc.constant([]);
  // Without an HTTP or TLS port no route of these kinds is ever asked: such scenarios get routing less often.
  const routable = targets.some((t) => t.ports.some((p) => HTTP_PROTOCOLS.has(p.protocol) || TLS_PROTOCOLS.has(p.protocol)));
  if (!routable) share /= 4;
  const some = fc
    .oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => patternArb(targets, i))))
    .map((lists) => lists.flat());
  if (share >= 1) return some;
  const none = Math.max(1, Math.round((1 - share) / share));
  return fc.oneof({ weight: none, arbitrary: fc.constant<Obj[]>([]) }, { weight: 1, arbitrary: some });
}
