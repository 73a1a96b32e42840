// Short host names in VirtualServices and DestinationRules, as istiod reads them. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - pilot/pkg/model/config.go ResolveShortnameToFQDN: a host without a dot (not `*`, not an IP address) becomes
//   `<host>.<namespace of the config>.svc.<domain>`, the domain being istiod's (cluster.local); any host with a dot
//   is kept as written.
// - pilot/pkg/model/virtualservice.go ResolveVirtualServiceShortnames applies it to a VirtualService's `hosts` and to
//   every destination of its http (route, mirror, mirrors), tcp and tls routes; push_context.go setDestinationRules
//   to a DestinationRule's `host`.
// So a VirtualService in `default` with `hosts: [api]` routes `api.default.svc.cluster.local`, not a ServiceEntry
// host `api` nor a request with `Host: api`; a destination `one` names `outbound|80||one.default.svc.cluster.local`.
// Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/vs-short-names.yaml.
import { isIP } from 'node:net';
import type { IstioConfig, ResourceSet } from '../model/types.ts';

const DOMAIN = 'cluster.local';

type Obj = Record<string, unknown>;

/** config.go ResolveShortnameToFQDN. */
export function resolveShortname(hostname: string, namespace: string): string {
  if (hostname === '' || hostname === '*' || isIP(hostname) !== 0 || hostname.includes('.')) return hostname;
  return `${hostname}.${namespace}.svc.${DOMAIN}`;
}

function withDestination(d: unknown, ns: string): unknown {
  if (!d || typeof d !== 'object') return d;
  const o = d as Obj;
  return typeof o.host === 'string' ? { ...o, host: resolveShortname(o.host, ns) } : o;
}

function withRoutes(routes: unknown, ns: string): unknown {
  if (!Array.isArray(routes)) return routes;
  return routes.map((r: Obj) => {
    const out: Obj = { ...r };
    if (Array.isArray(r.route))
      out.route = (r.route as Obj[]).map((w) => (w?.destination ? { ...w, destination: withDestination(w.destination, ns) } : w));
    if (r.mirror) out.mirror = withDestination(r.mirror, ns);
    if (Array.isArray(r.mirrors))
      out.mirrors = (r.mirrors as Obj[]).map((m) => (m?.destination ? { ...m, destination: withDestination(m.destination, ns) } : m));
    return out;
  });
}

function resolveConfig(c: IstioConfig): IstioConfig {
  if (c.kind === 'VirtualService') {
    const hosts = c.spec.hosts;
    const spec: Obj = { ...c.spec };
    if (Array.isArray(hosts)) spec.hosts = hosts.map((h) => (typeof h === 'string' ? resolveShortname(h, c.namespace) : h));
    for (const k of ['http', 'tcp', 'tls']) if (c.spec[k] !== undefined) spec[k] = withRoutes(c.spec[k], c.namespace);
    return { ...c, spec };
  }
  if (c.kind === 'DestinationRule' && typeof c.spec.host === 'string')
    return { ...c, spec: { ...c.spec, host: resolveShortname(c.spec.host, c.namespace) } };
  return c;
}

const needsResolving = (c: IstioConfig) => {
  const short = (h: unknown) => typeof h === 'string' && resolveShortname(h, c.namespace) !== h;
  if (c.kind === 'DestinationRule') return short(c.spec.host);
  if (c.kind !== 'VirtualService') return false;
  if (((c.spec.hosts as unknown[] | undefined) ?? []).some(short)) return true;
  return ['http', 'tcp', 'tls'].some((k) =>
    ((c.spec[k] as Obj[] | undefined) ?? []).some(
      (r) =>
        ((r.route as Obj[] | undefined) ?? []).some((w) => short((w?.destination as Obj | undefined)?.host)) ||
        short((r.mirror as Obj | undefined)?.host) ||
        ((r.mirrors as Obj[] | undefined) ?? []).some((m) => short((m?.destination as Obj | undefined)?.host)),
    ),
  );
};

const cache = new WeakMap<IstioConfig[], IstioConfig[]>();

/** The resources with every VirtualService and DestinationRule host written as istiod resolves it. */
export function withResolvedShortnames(resources: ResourceSet): ResourceSet {
  const routing = resources.routing;
  if (!routing || routing.length === 0) return resources;
  let resolved = cache.get(routing);
  if (!resolved) {
    resolved = routing.some(needsResolving) ? routing.map((c) => (needsResolving(c) ? resolveConfig(c) : c)) : routing;
    cache.set(routing, resolved);
  }
  return resolved === routing ? resources : { ...resources, routing: resolved };
}
