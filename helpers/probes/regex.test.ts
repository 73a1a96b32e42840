// RE2 patterns as Istio writes them, run as a full match.
import { describe, expect, it } from 'vitest';
import { re2FullMatch } from './regex.ts';

describe('re2FullMatch', () => {
  it('matches the whole value, reads a leading (?i) as case-insensitive, and matches nothing it cannot compile', () => {
    expect(re2FullMatch('/v1/.*', '/v1/items')).toBe(true);
    expect(re2FullMatch('/v1', '/v1/items')).toBe(false);
    expect(re2FullMatch('(?i)/V1/.*', '/v1/items')).toBe(true);
    expect(re2FullMatch('/V1/.*', '/v1/items')).toBe(false);
    expect(re2FullMatch('*', 'x')).toBe(false);
  });
});
