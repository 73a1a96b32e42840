// The probe's HTTP request as route matching sees it.
import { describe, expect, it } from 'vitest';
import { PINNED } from '../tools/versions.ts';
import { CURL_VERSION, curlRequestHeaders, queryParameters } from './request.ts';

describe('curlRequestHeaders', () => {
  it("names the pinned curl image's version in User-Agent", () => {
    expect(PINNED.images.curl.split(':').at(-1)).toBe(CURL_VERSION);
    expect(curlRequestHeaders('a.example.com', '/')['user-agent']).toBe(`curl/${CURL_VERSION}`);
  });

  it('holds the Host as sent in :authority and the whole path in :path; no `host` header', () => {
    const h = curlRequestHeaders('a.example.com:8080', '/x?y=1');
    expect(h).toMatchObject({ ':authority': 'a.example.com:8080', ':path': '/x?y=1', ':method': 'GET', ':scheme': 'http' });
    expect(h.host).toBeUndefined();
  });
});

describe('queryParameters', () => {
  it('takes the first value of each name, as written; a bare name has the empty value', () => {
    const q = queryParameters('/p?a=1&b&a=2&c=x%20y');
    expect([...q]).toEqual([
      ['a', '1'],
      ['b', ''],
      ['c', 'x%20y'],
    ]);
    expect(queryParameters('/p').size).toBe(0);
  });
});
