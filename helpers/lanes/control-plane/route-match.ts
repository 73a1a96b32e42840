// What an HTTP connection manager does with a request: the virtual host its Host header selects, the
// first route whose match takes its path, and the cluster that route names.
//
// Envoy (VirtualHost.domains): exact domain, then the longest `*.suffix`, then the longest `prefix*`, then
// `*`. With ignore_port_in_host_matching the Host port is dropped first.
import { re2FullMatch } from '../../probes/regex.ts';
import { curlRequestHeaders, queryParameters } from '../../probes/request.ts';
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

type HeaderMatcher = NonNullable<RouteMatch['headers']>[number];
type StringMatcher = NonNullable<HeaderMatcher['string_match']>;
type QueryMatcher = NonNullable<RouteMatch['query_parameters']>[number];

/** What a route is matched against: the Host header as sent and `:path` with its query string. */
export interface RouteRequest {
  host: string;
  path: string;
}

/** envoy.type.matcher.v3.StringMatcher. */
function stringMatches(m: StringMatcher, value: string): boolean {
  const fold = (s: string) => (m.ignore_case ? s.toLowerCase() : s);
  if (m.exact !== undefined) return fold(value) === fold(m.exact);
  if (m.prefix !== undefined) return fold(value).startsWith(fold(m.prefix));
  if (m.suffix !== undefined) return fold(value).endsWith(fold(m.suffix));
  if (m.contains !== undefined) return fold(value).includes(fold(m.contains));
  if (m.safe_regex?.regex !== undefined) return re2FullMatch(m.safe_regex.regex, value);
  return false;
}

/**
 * One HeaderMatcher (Envoy http/header_utility.cc matchHeaders): a header that is absent matches only a
 * present_match that asks for absence, or, inverted, one that asks for presence, unless
 * treat_missing_header_as_empty reads it as ""; else the value is matched and the result inverted if asked.
 */
function headerMatches(m: HeaderMatcher, headers: Record<string, string>): boolean {
  const specifier = [
    'string_match',
    'exact_match',
    'prefix_match',
    'suffix_match',
    'contains_match',
    'safe_regex_match',
    'range_match',
  ].some((k) => m[k as keyof HeaderMatcher] !== undefined && m[k as keyof HeaderMatcher] !== null);
  // No specifier at all is a presence match (HEADER_MATCH_SPECIFIER_NOT_SET).
  const present = m.present_match ?? (specifier ? undefined : true);
  let value = headers[(m.name ?? '').toLowerCase()];
  if (value === undefined) {
    if (!m.treat_missing_header_as_empty) return present !== undefined && (m.invert_match ? present : !present);
    value = '';
  }
  let match: boolean;
  if (m.string_match) match = stringMatches(m.string_match, value);
  else if (m.exact_match !== undefined) match = m.exact_match === '' || value === m.exact_match;
  else if (m.prefix_match !== undefined) match = value.startsWith(m.prefix_match);
  else if (m.suffix_match !== undefined) match = value.endsWith(m.suffix_match);
  else if (m.contains_match !== undefined) match = value.includes(m.contains_match);
  else if (m.safe_regex_match?.regex !== undefined) match = re2FullMatch(m.safe_regex_match.regex, value);
  else if (m.range_match) {
    const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    match = n >= Number(m.range_match.start) && n < Number(m.range_match.end);
  } else match = present ?? true;
  return match !== !!m.invert_match;
}

/** One QueryParameterMatcher: the first value of the name, which must be there. */
function queryMatches(m: QueryMatcher, params: Map<string, string>): boolean {
  const value = params.get(m.name ?? '');
  if (value === undefined) return false;
  if (m.present_match) return true;
  return m.string_match ? stringMatches(m.string_match, value) : false;
}

/**
 * Envoy's RouteMatch against a probe's request: the path specifier (case_sensitive false folds case; a prefix
 * reads the whole `:path`, an exact path and a regex the path without its query), then every header and query
 * parameter matcher. A route with dynamic-metadata matchers (Istio's JWT claim matches) meets a request that
 * carries no such metadata: it matches only where each matcher is inverted.
 */
export function routeMatches(match: RouteMatch, request: RouteRequest): boolean {
  // A BoolValue false arrives as an empty message (proto3 leaves the default out): set and not true is false.
  const folds = !!match.case_sensitive && match.case_sensitive.value !== true;
  const fold = (s: string) => (folds ? s.toLowerCase() : s);
  const path = fold(request.path);
  const pathOnly = path.split('?')[0] ?? path;
  let pathOk: boolean;
  if (match.prefix !== undefined) pathOk = path.startsWith(fold(match.prefix));
  else if (match.path !== undefined) pathOk = pathOnly === fold(match.path);
  else if (match.path_separated_prefix !== undefined) {
    const p = fold(match.path_separated_prefix);
    pathOk = pathOnly === p || pathOnly.startsWith(`${p}/`);
  } else if (match.safe_regex?.regex !== undefined) pathOk = re2FullMatch(match.safe_regex.regex, request.path.split('?')[0] ?? '');
  else pathOk = false;
  if (!pathOk) return false;
  const headers = curlRequestHeaders(request.host, request.path);
  if (!(match.headers ?? []).every((h) => headerMatches(h, headers))) return false;
  const params = queryParameters(request.path);
  if (!(match.query_parameters ?? []).every((q) => queryMatches(q, params))) return false;
  return (match.dynamic_metadata ?? []).every((d) => !!d.invert);
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
