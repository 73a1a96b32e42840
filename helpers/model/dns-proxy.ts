// The names the sidecar's DNS proxy looks up for a query, in order (pkg/dns/client/dns.go lookupHost): the name
// itself, then a wildcard entry for each parent domain, most specific first ("a.b.example.com" →
// "*.b.example.com", "*.example.com", "*.com"). The first one in istiod's name table answers. Both the model and
// the lanes resolve names this way, so a name under a wildcard entry with an address dials that address.
export function dnsProxyLookupOrder(host: string): string[] {
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  return [labels.join('.'), ...labels.slice(1).map((_, i) => `*.${labels.slice(i + 1).join('.')}`)];
}

/** The first name of the lookup order that `has` an entry for, with that entry's key. */
export function dnsProxyLookup<T>(host: string, entry: (name: string) => T | undefined): { name: string; found: T } | undefined {
  for (const name of dnsProxyLookupOrder(host)) {
    const found = entry(name);
    if (found !== undefined) return { name, found };
  }
  return undefined;
}
