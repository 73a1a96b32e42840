// Envoy's matching rules one by one, as the evaluators follow them: filter chains by server name and
// prefix range, virtual hosts by domain, and the Host header a client sends.
import { describe, expect, it } from 'vitest';
import { longestPrefixMatch, selectFilterChain, serverNameRank } from './filter-chain.ts';
import { hostHeader } from '../../probes/url.ts';
import { selectVirtualHost } from './route-match.ts';

describe('Envoy matching rules', () => {
  it('server names: exact beats the longest wildcard', () => {
    expect(serverNameRank(['a.example.com'], 'a.example.com')).toBe(Infinity);
    expect(serverNameRank(['*.example.com', '*.b.example.com'], 'a.b.example.com')).toBe('*.b.example.com'.length);
    expect(serverNameRank(['*.example.com'], 'example.com')).toBe(-1);
    expect(serverNameRank(['*.example.com'], undefined)).toBe(-1);
  });

  it('prefix ranges: longest prefix, IPv4 and IPv6', () => {
    const ranges = [
      { address_prefix: '10.0.0.0', prefix_len: { value: 8 } },
      { address_prefix: '10.1.0.0', prefix_len: { value: 16 } },
    ];
    expect(longestPrefixMatch(ranges, '10.1.2.3')).toBe(16);
    expect(longestPrefixMatch(ranges, '10.2.2.3')).toBe(8);
    expect(longestPrefixMatch(ranges, '11.0.0.1')).toBe(-1);
    expect(longestPrefixMatch([{ address_prefix: '2001:db8::', prefix_len: { value: 32 } }], '2001:db8::5')).toBe(32);
  });

  it('filter chains: a chain with a matching criterion beats one without; none matching → chains without it', () => {
    const any = { name: 'any', filter_chain_match: {} };
    const net = { name: 'net', filter_chain_match: { prefix_ranges: [{ address_prefix: '192.0.2.0', prefix_len: { value: 24 } }] } };
    const l = { filter_chains: [any, net] };
    const facts = { destinationPort: 1, transportProtocol: 'raw_buffer' as const, applicationProtocols: [] };
    expect(selectFilterChain(l, { ...facts, destinationIp: '192.0.2.9' }).chain?.name).toBe('net');
    expect(selectFilterChain(l, { ...facts, destinationIp: '198.51.100.9' }).chain?.name).toBe('any');
    expect(selectFilterChain({ filter_chains: [net] }, { ...facts, destinationIp: '198.51.100.9' }).chain).toBeUndefined();
  });

  it('virtual hosts: exact, then longest suffix wildcard, then prefix, then *; port ignored when asked', () => {
    const rc = {
      ignore_port_in_host_matching: true,
      virtual_hosts: [
        { name: 'star', domains: ['*'] },
        { name: 'suffix', domains: ['*.example.com'] },
        { name: 'longer', domains: ['*.api.example.com'] },
        { name: 'exact', domains: ['api.example.com'] },
        { name: 'prefix', domains: ['internal.*'] },
      ],
    };
    expect(selectVirtualHost(rc, 'api.example.com:8080').vhost?.name).toBe('exact');
    expect(selectVirtualHost(rc, 'v1.api.example.com').vhost?.name).toBe('longer');
    expect(selectVirtualHost(rc, 'www.example.com').vhost?.name).toBe('suffix');
    expect(selectVirtualHost(rc, 'internal.corp').vhost?.name).toBe('prefix');
    expect(selectVirtualHost(rc, 'example.org').vhost?.name).toBe('star');
    expect(selectVirtualHost({ virtual_hosts: [{ name: 'p', domains: ['a.com:8080'] }] }, 'a.com:8080').vhost?.name).toBe('p');
  });

  it('Host header omits the default port', () => {
    expect(hostHeader({ scheme: 'http', host: 'a.com', port: 80 })).toBe('a.com');
    expect(hostHeader({ scheme: 'http', host: 'a.com', port: 8080 })).toBe('a.com:8080');
    expect(hostHeader({ scheme: 'https', host: 'a.com', port: 443 })).toBe('a.com');
  });
});
