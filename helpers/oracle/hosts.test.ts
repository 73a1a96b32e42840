// Istio's host name rules (pkg/config/host/name.go SubsetOf) and Envoy's virtual-host domain match
// (route_config.proto VirtualHost.domains): wildcards, their apex, and wildcards inside wildcards.
import { describe, expect, it } from 'vitest';
import { domainMatches, isWildcard, subsetOf } from './hosts.ts';

describe('subsetOf (host.Name.SubsetOf)', () => {
  it.each([
    ['a.example.com', 'a.example.com', true],
    ['b.example.com', 'a.example.com', false],
    ['a.example.com', '*', true],
    ['*.example.com', '*', true],
    ['*', '*', true],
    ['a.example.com', '*.example.com', true],
    ['x.a.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['aexample.com', '*.example.com', false],
    ['*.a.example.com', '*.example.com', true],
    ['*.example.com', '*.example.com', true],
    ['*.example.com', '*.a.example.com', false],
    ['*', '*.example.com', false],
    ['*.example.com', 'a.example.com', false],
  ] as const)('%s within %s: %s', (h, pattern, want) => {
    expect(subsetOf(h, pattern)).toBe(want);
  });

  it('only a leading * makes a wildcard', () => {
    expect(isWildcard('*.example.com')).toBe(true);
    expect(isWildcard('*')).toBe(true);
    expect(isWildcard('a.example.com')).toBe(false);
  });
});

describe('domainMatches (Envoy virtual-host domains)', () => {
  it.each([
    ['a.example.com', '*', 'any'],
    ['a.example.com', 'a.example.com', 'exact'],
    ['a.example.com', '*.example.com', 'suffix'],
    ['x.a.example.com', '*.example.com', 'suffix'],
    ['example.com', '*.example.com', undefined],
    ['aexample.com', '*.example.com', undefined],
    ['b.example.com', 'a.example.com', undefined],
    ['a.example.org', '*.example.com', undefined],
  ] as const)('%s against %s: %s', (host, domain, want) => {
    expect(domainMatches(host, domain)).toBe(want);
  });
});
