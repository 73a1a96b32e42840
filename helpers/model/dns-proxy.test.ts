// The DNS proxy's lookup order, as pkg/dns/client/dns.go lookupHost walks it.
import { describe, expect, it } from 'vitest';
import { dnsProxyLookup, dnsProxyLookupOrder } from './dns-proxy.ts';

describe("the sidecar DNS proxy's lookup", () => {
  it('asks the name, then a wildcard for each parent domain, most specific first', () => {
    expect(dnsProxyLookupOrder('a.b.Example.com.')).toEqual(['a.b.example.com', '*.b.example.com', '*.example.com', '*.com']);
  });

  it('answers from the first name with an entry: the exact name before any wildcard, a nearer wildcard before a farther one', () => {
    const table: Record<string, string> = {
      '*.example.com': '240.240.0.1',
      '*.b.example.com': '240.240.0.2',
      'a.b.example.com': '240.240.0.3',
    };
    const at = (host: string) => dnsProxyLookup(host, (n) => table[n]);
    expect(at('a.b.example.com')).toEqual({ name: 'a.b.example.com', found: '240.240.0.3' });
    expect(at('c.b.example.com')).toEqual({ name: '*.b.example.com', found: '240.240.0.2' });
    expect(at('c.example.com')).toEqual({ name: '*.example.com', found: '240.240.0.1' });
    // The apex is not under its own wildcard.
    expect(at('example.com')).toBeUndefined();
  });
});
