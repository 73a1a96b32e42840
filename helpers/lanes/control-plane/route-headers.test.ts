// Envoy's RouteMatch against the request a curl probe sends (route-match.ts routeMatches), rule by rule from
// Envoy's header_utility.cc / route_components.proto and the matchers Istio writes (route.go TranslateRouteMatch).
import { describe, expect, it } from 'vitest';
import { PINNED } from '../../tools/versions.ts';
import { routeMatches } from './route-match.ts';

const req = { host: 'api.example.com', path: '/v1/Items?tier=gold&x' };
const curlVersion = PINNED.images.curl.split(':').at(-1);

describe('routeMatches: headers', () => {
  it('reads the pseudo-headers and what curl and the connection manager put in the request', () => {
    const h = (name: string, exact: string) => ({ prefix: '/', headers: [{ name, string_match: { exact } }] });
    expect(routeMatches(h(':authority', 'api.example.com'), req)).toBe(true);
    expect(routeMatches(h(':authority', 'other.example.com'), req)).toBe(false);
    expect(routeMatches(h(':method', 'GET'), req)).toBe(true);
    expect(routeMatches(h(':method', 'POST'), req)).toBe(false);
    expect(routeMatches(h(':scheme', 'http'), req)).toBe(true);
    expect(routeMatches(h('user-agent', `curl/${curlVersion}`), req)).toBe(true);
    expect(routeMatches(h('accept', '*/*'), req)).toBe(true);
    expect(routeMatches(h('x-forwarded-proto', 'http'), req)).toBe(true);
    // HTTP/1 Host is :authority inside Envoy: a matcher named host finds no header.
    expect(routeMatches(h('host', 'api.example.com'), req)).toBe(false);
  });

  it('an absent header matches only a presence match asking for absence, or an inverted one asking for presence', () => {
    const m = (hm: object) => routeMatches({ prefix: '/', headers: [{ name: 'end-user', ...hm }] }, req);
    expect(m({ string_match: { exact: 'jason' } })).toBe(false);
    expect(m({ string_match: { exact: 'jason' }, invert_match: true })).toBe(false);
    expect(m({ present_match: true })).toBe(false);
    expect(m({ present_match: true, invert_match: true })).toBe(true);
    expect(m({ present_match: false })).toBe(true);
    expect(m({})).toBe(false);
    expect(m({ invert_match: true })).toBe(true);
    // Istio's withoutHeaders: inverted, the missing header read as "" (route.go TranslateRouteMatch).
    expect(m({ string_match: { exact: 'jason' }, invert_match: true, treat_missing_header_as_empty: true })).toBe(true);
    expect(m({ string_match: { exact: '' }, invert_match: true, treat_missing_header_as_empty: true })).toBe(false);
  });

  it('string matchers: prefix, suffix, contains, a full-match regex, ignore_case; inverted on a present header', () => {
    const m = (string_match: object, invert_match = false) =>
      routeMatches({ prefix: '/', headers: [{ name: ':authority', string_match, invert_match }] }, req);
    expect(m({ prefix: 'api.' })).toBe(true);
    expect(m({ suffix: '.example.com' })).toBe(true);
    expect(m({ contains: 'example' })).toBe(true);
    expect(m({ safe_regex: { regex: 'api\\..*' } })).toBe(true);
    expect(m({ safe_regex: { regex: 'api' } })).toBe(false);
    expect(m({ exact: 'API.example.com' })).toBe(false);
    expect(m({ exact: 'API.example.com', ignore_case: true })).toBe(true);
    expect(m({ exact: 'api.example.com' }, true)).toBe(false);
    expect(m({ exact: 'web.example.com' }, true)).toBe(true);
  });
});

describe('routeMatches: path and query', () => {
  it('a prefix reads the whole :path, an exact path the path without its query; case_sensitive false folds case', () => {
    expect(routeMatches({ prefix: '/v1/Items?tier' }, req)).toBe(true);
    expect(routeMatches({ path: '/v1/Items' }, req)).toBe(true);
    expect(routeMatches({ path: '/v1/items' }, req)).toBe(false);
    expect(routeMatches({ path: '/v1/items', case_sensitive: { value: false } }, req)).toBe(true);
    expect(routeMatches({ prefix: '/V1', case_sensitive: { value: false } }, req)).toBe(true);
    // As decoded from the wire: BoolValue false is an empty message.
    expect(routeMatches({ path: '/v1/items', case_sensitive: {} }, req)).toBe(true);
    expect(routeMatches({ path: '/v1/items', case_sensitive: { value: true } }, req)).toBe(false);
    expect(routeMatches({ safe_regex: { regex: '/v1/[A-Z].*' } }, req)).toBe(true);
  });

  it('query parameters: the name must be there; present_match or a string match on its first value', () => {
    const q = (m: object) => routeMatches({ prefix: '/', query_parameters: [{ name: 'tier', ...m }] }, req);
    expect(q({ string_match: { exact: 'gold' } })).toBe(true);
    expect(q({ string_match: { exact: 'silver' } })).toBe(false);
    expect(q({ present_match: true })).toBe(true);
    expect(routeMatches({ prefix: '/', query_parameters: [{ name: 'x', present_match: true }] }, req)).toBe(true);
    expect(routeMatches({ prefix: '/', query_parameters: [{ name: 'y', present_match: true }] }, req)).toBe(false);
  });

  it('dynamic metadata (JWT claims) is absent from a probe: only inverted matchers hold', () => {
    expect(routeMatches({ prefix: '/', dynamic_metadata: [{ filter: 'envoy.filters.http.jwt_authn' }] }, req)).toBe(false);
    expect(routeMatches({ prefix: '/', dynamic_metadata: [{ filter: 'envoy.filters.http.jwt_authn', invert: true }] }, req)).toBe(true);
  });
});
