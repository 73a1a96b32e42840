// What an HTTP connection manager does with a request: the virtual host its Host header selects, the
// first route whose match takes its path, and the cluster that route names.
//
// Envoy (VirtualHost.domains): exact domain, then the longest `*.suffix`, then the longest `prefix*`, then
// `*`. With ignore_port_in_host_matching the Host port is dropped first.
import type { TcpProxy, XdsRouteConfiguration } from './xds-types.ts';

type VirtualHost = NonNullable<XdsRouteConfiguration['virtual_hosts']>[number];
type Route = NonNullable<VirtualHost['routes']>[number];
type RouteMatch = NonNullable<Route['match']>;
type RouteAction = NonNullable<Route['route']>;

/** Envoy virtual host selection. Returns the vhost and how it matched. */
export function selectVirtualHost(routeConfig: XdsRouteConfiguration, host: string): { vhost?: VirtualHost; how?: string } {
  let h = host.toLowerCase();
  if (routeConfig.ignore_port_in_host_matching) h = h.replace(/:\d+$/, '');
  const vhosts = routeConfig.virtual_hosts ?? [];
  const domainsOf = (v: VirtualHost) => (v.domains ?? []).map((d) => d.toLowerCase());
  const exact = vhosts.find((v) => domainsOf(v).includes(h));
  if (exact) return { vhost: exact, how: `exact ${h}` };
  let best: { v: VirtualHost; len: number; d: string } | undefined;
  for (const v of vhosts) {
    for (const d of domainsOf(v)) {
      // `*.x` / `*x` suffix wildcards: the wildcard must stand for at least one character.
      if (d.startsWith('*') && d !== '*' && h.endsWith(d.slice(1)) && h.length > d.length - 1) {
        if (!best || d.length > best.len) best = { v, len: d.length, d };
      }
    }
  }
  if (best) return { vhost: best.v, how: `suffix ${best.d}` };
  for (const v of vhosts) {
    for (const d of domainsOf(v)) {
      if (d.endsWith('*') && d !== '*' && h.startsWith(d.slice(0, -1)) && h.length > d.length - 1) {
        if (!best || d.length > best.len) best = { v, len: d.length, d };
      }
    }
  }
  if (best) return { vhost: best.v, how: `prefix ${best.d}` };
  const star = vhosts.find((v) => domainsOf(v).includes('*'));
  return star ? { vhost: star, how: 'wildcard *' } : {};
}

export function routeMatches(match: RouteMatch, path: string): boolean {
  const pathOnly = path.split('?')[0] ?? path;
  if ((match.headers ?? []).length > 0 || (match.query_parameters ?? []).length > 0) return false;
  if (match.prefix !== undefined) return path.startsWith(match.prefix);
  if (match.path !== undefined) return pathOnly === match.path;
  if (match.path_separated_prefix !== undefined) {
    return pathOnly === match.path_separated_prefix || pathOnly.startsWith(`${match.path_separated_prefix}/`);
  }
  if (match.safe_regex?.regex !== undefined) {
    try {
      return new RegExp(`^(?:${match.safe_regex.regex})$`).test(pathOnly);
    } catch {
      return false;
    }
  }
  return false;
}

/** The cluster of a route action or a TcpProxy (the first of weighted clusters). */
export function clusterOfAction(action: RouteAction | TcpProxy | null | undefined): string | undefined {
  if (!action) return undefined;
  if (action.cluster) return action.cluster;
  return action.weighted_clusters?.clusters?.[0]?.name;
}

/** Route settings that change a call without changing its cluster: a timeout, retries. */
export function routeFacts(action: unknown): string[] {
  const r = (action ?? {}) as {
    timeout?: { seconds?: string | number; nanos?: number };
    retry_policy?: { num_retries?: { value?: number } };
  };
  const out: string[] = [];
  if (r.timeout) out.push(`timeout ${Number(r.timeout.seconds ?? 0) + (r.timeout.nanos ?? 0) / 1e9}s`);
  const n = r.retry_policy?.num_retries?.value;
  if (n !== undefined) out.push(`retries ${n}`);
  return out;
}
