// A VirtualService HTTPMatchRequest's request fields against the request a curl probe sends. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad), pilot/pkg/networking/core/route/
// route.go TranslateRouteMatch: `headers` become header matchers (a key `@request.auth.claims…` a JWT-claim metadata
// matcher instead); `withoutHeaders` the same, inverted, a missing header read as "" unless the match is a regex
// `*` (canBeConvertedToPresentMatch: a presence match); `method`, `authority`, `scheme` match the pseudo-headers
// `:method`, `:authority`, `:scheme`; `queryParams` query parameter matchers (regex `*` = present); `ignoreUriCase`
// sets case_sensitive false on the path. Envoy then (http/header_utility.cc matchHeaders, route config): a missing
// header fails a value match and passes an inverted presence match; a regex is a full match; a probe carries no JWT.
// Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/vs-request-matches.yaml.
import { re2FullMatch } from '../probes/regex.ts';
import { curlRequestHeaders, queryParameters } from '../probes/request.ts';

type Obj = Record<string, unknown>;

/** The request fields this module decides (besides `uri`); `statPrefix` only names the route's stats. */
export const REQUEST_FIELDS = ['headers', 'withoutHeaders', 'authority', 'method', 'scheme', 'queryParams', 'ignoreUriCase', 'statPrefix'];

/** util.ConvertToEnvoyMatch: exact, prefix or a full-match regex. */
function stringMatches(m: Obj, value: string): boolean {
  if (typeof m.exact === 'string') return value === m.exact;
  if (typeof m.prefix === 'string') return value.startsWith(m.prefix);
  if (typeof m.regex === 'string') return re2FullMatch(m.regex, value);
  return true;
}

const presenceOnly = (m: Obj | undefined) =>
  !m || (m.exact === undefined && m.prefix === undefined && (m.regex === undefined || m.regex === '*'));

const isClaim = (name: string) => name.startsWith('@request.auth.claims');

/** One header match; `inverted` for withoutHeaders. */
function headerHolds(name: string, m: Obj | undefined, headers: Record<string, string>, inverted: boolean): boolean {
  // A JWT claim is dynamic metadata the probe's request never carries: only its inverted matcher holds.
  if (isClaim(name)) return inverted;
  const value = headers[name.toLowerCase()];
  if (presenceOnly(m)) return (value !== undefined) !== inverted;
  if (value === undefined && !inverted) return false;
  return stringMatches(m ?? {}, value ?? '') !== inverted;
}

/** Whether the match's request fields hold for the probe's request (Host as sent, `:path` with its query). */
export function requestFieldsHold(m: Obj, authority: string, path: string): boolean {
  const headers = curlRequestHeaders(authority, path);
  const each = (o: unknown, inverted: boolean) =>
    Object.entries((o as Record<string, Obj | undefined> | undefined) ?? {}).every(([k, v]) => headerHolds(k, v, headers, inverted));
  if (!each(m.headers, false) || !each(m.withoutHeaders, true)) return false;
  for (const [field, header] of [
    ['method', ':method'],
    ['authority', ':authority'],
    ['scheme', ':scheme'],
  ] as const)
    if (m[field] !== undefined && !headerHolds(header, m[field] as Obj, headers, false)) return false;
  const params = queryParameters(path);
  return Object.entries((m.queryParams as Record<string, Obj | undefined> | undefined) ?? {}).every(([k, v]) => {
    const value = params.get(k);
    return value !== undefined && (presenceOnly(v) || stringMatches(v ?? {}, value));
  });
}

/** The `uri` match, folded when `ignoreUriCase` (a prefix reads the whole path, exact and regex the path only). */
export function uriHolds(uri: Obj | undefined, path: string, ignoreCase: boolean): boolean {
  if (!uri) return true;
  const fold = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  const pathOnly = path.split('?')[0] ?? path;
  if (typeof uri.exact === 'string') return fold(pathOnly) === fold(uri.exact);
  if (typeof uri.prefix === 'string') return fold(path).startsWith(fold(uri.prefix));
  if (typeof uri.regex === 'string') return re2FullMatch(uri.regex, pathOnly);
  return true;
}
