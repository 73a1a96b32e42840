// Host name matching with Istio's wildcard rules: only a leading `*.` label (or `*` alone) is a wildcard.
// pkg/config/host/name.go: `Matches` is true when the names overlap in either direction,
// `SubsetOf` when every name matched by the first is matched by the second.

export function isWildcard(h: string): boolean {
  return h.startsWith('*');
}

/** Is concrete or wildcard name `h` inside wildcard-or-concrete `pattern`? */
export function subsetOf(h: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (!isWildcard(pattern)) return h === pattern;
  const suffix = pattern.slice(1); // ".example.com"
  if (h === '*') return false;
  if (isWildcard(h)) return h.slice(1).endsWith(suffix);
  return h.endsWith(suffix) && h.length > suffix.length;
}

/**
 * Envoy virtual-host domain matching for a Host header: exact first, then the longest suffix
 * wildcard (`*.example.com`), then `*` (envoy route_config.proto, VirtualHost.domains).
 */
export function domainMatches(hostHeader: string, domain: string): 'exact' | 'suffix' | 'any' | undefined {
  if (domain === '*') return 'any';
  if (domain === hostHeader) return 'exact';
  if (domain.startsWith('*') && hostHeader.endsWith(domain.slice(1)) && hostHeader.length > domain.length - 1) return 'suffix';
  return undefined;
}
