// The HTTP request a plain-HTTP probe puts before a sidecar's routes: what curl sends, as Envoy's connection
// manager holds it when the route is chosen. Both lanes' evidence and the model's route matching read it.
//
// curl (the kind lane's pinned image; Debian's curl for the control-plane lane's real clients) sends GET with
// Host, User-Agent `curl/<version>` and Accept `*/*`. Envoy keeps HTTP/1 Host as `:authority` (a matcher
// named `host` finds nothing: route_components.proto HeaderMatcher), and before choosing the route adds
// x-forwarded-proto and, as Istio's sidecars generate request ids, x-request-id (conn_manager_utility.cc
// mutateRequestHeaders runs ahead of the route lookup).
/**
 * The version of the pinned curl image (fixtures/versions.json images.curl), written here so that this module, which
 * the model uses, reads no file; request.test.ts holds the two together.
 */
export const CURL_VERSION = '8.11.1';

/** A fixed request id: a matcher can only ask whether it is there or test a pattern no id would match. */
const REQUEST_ID = '00000000-0000-4000-8000-000000000000';

/**
 * The request headers of a probe's HTTP request at route selection, by lower-case name, pseudo-headers included.
 * `authority` is the Host header as sent (url.ts hostHeader); `path` is `:path`, query string included.
 */
export function curlRequestHeaders(authority: string, path: string, scheme: 'http' | 'https' = 'http'): Record<string, string> {
  return {
    ':authority': authority,
    ':method': 'GET',
    ':scheme': scheme,
    ':path': path,
    'user-agent': `curl/${CURL_VERSION}`,
    accept: '*/*',
    'x-forwarded-proto': scheme,
    'x-request-id': REQUEST_ID,
  };
}

/** The query parameters of a path as written (not decoded), the first value of each name. */
export function queryParameters(path: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = path.indexOf('?');
  if (q < 0) return out;
  for (const pair of path.slice(q + 1).split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (!out.has(name)) out.set(name, eq < 0 ? '' : pair.slice(eq + 1));
  }
  return out;
}
