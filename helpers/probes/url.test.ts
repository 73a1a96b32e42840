// Probe URLs as users write them, including the forms a parser is tempted to refuse.
import { describe, expect, it } from 'vitest';
import { UserError } from '../model/errors.ts';
import { hostHeader, parseProbeUrl, urlHost } from './url.ts';

describe('parseProbeUrl', () => {
  it('takes an absolute name (one trailing dot), keeping the host without it and saying it was there', () => {
    const t = parseProbeUrl('http://API.example.com./x');
    expect(t).toMatchObject({ scheme: 'http', host: 'api.example.com', port: 80, path: '/x', isIp: false, absolute: true });
    expect(parseProbeUrl('https://api.example.com.:8443').absolute).toBe(true);
    expect(parseProbeUrl('tcp://db.example.com.:5432')).toMatchObject({ host: 'db.example.com', port: 5432, absolute: true });
    expect(parseProbeUrl('http://api.example.com/').absolute).toBeUndefined();
  });

  it('refuses what is not a name: two trailing dots, an empty label, a lone dot, a dotted IP literal', () => {
    for (const bad of ['http://api.example.com../', 'http://api..example.com/', 'http://./', 'http://10.0.0.1./'])
      expect(() => parseProbeUrl(bad), bad).toThrow(UserError);
  });
});

describe('urlHost / hostHeader', () => {
  it('write the dot back where curl keeps it, the port only when it is not the default, IPv6 in brackets', () => {
    const abs = parseProbeUrl('http://api.example.com./');
    expect(urlHost(abs)).toBe('api.example.com.');
    expect(hostHeader(abs)).toBe('api.example.com.');
    expect(hostHeader(parseProbeUrl('https://api.example.com.:8443/'))).toBe('api.example.com.:8443');
    expect(hostHeader(parseProbeUrl('https://api.example.com/'))).toBe('api.example.com');
    expect(hostHeader(parseProbeUrl('http://[2001:db8::1]:8080/'))).toBe('[2001:db8::1]:8080');
  });
});
