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

/**
 * The other names an HTTP virtual host answers to for a proxy of namespace `proxyNs`, whose DNS domain is
 * `<proxyNs>.svc.cluster.local` (pilot/pkg/networking/core/httproute.go GenerateAltVirtualHosts,
 * generateAltVirtualHostsForKubernetesService): a host `<name>.<ns>.svc.cluster.local` also answers to `<name>.<ns>`
 * and `<name>.<ns>.svc`, and, from its own namespace, to `<name>`; any other host to none (the absolute form with a
 * trailing dot is left out here: a probe names it with ProbeTarget.absolute). A ServiceEntry with such a host gets them like a Kubernetes Service. Wildcard
 * hosts are left out. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/alt-virtual-hosts.yaml.
 */
export function altVirtualHosts(hostname: string, proxyNs: string): string[] {
  const suffix = '.svc.cluster.local';
  if (isWildcard(hostname) || !hostname.endsWith(suffix)) return [];
  const ih = hostname.indexOf('.svc.');
  const dot = hostname.indexOf('.');
  if (dot + 1 >= hostname.length || dot + 1 > ih) return [];
  const name = hostname.slice(0, dot);
  const short = hostname.slice(0, ih);
  return hostname.slice(dot + 1, ih) === proxyNs ? [name, `${short}.svc`, short] : [short, `${short}.svc`];
}
