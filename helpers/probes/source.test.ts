// Probe sources from labelled workloads: `NAMESPACE[key=value,...]`, in --probe and in case files.
import { describe, expect, it } from 'vitest';
import { formatProbeSource, parseProbeFlag, parseProbeSource } from './url.ts';

describe('probe sources', () => {
  it('a namespace, or a namespace with pod labels', () => {
    expect(parseProbeSource('default')).toEqual({ namespace: 'default' });
    expect(parseProbeSource('default[app=web,tier=front-1]')).toEqual({ namespace: 'default', labels: { app: 'web', tier: 'front-1' } });
    expect(parseProbeSource('default[app.kubernetes.io/name=web]')).toEqual({
      namespace: 'default',
      labels: { 'app.kubernetes.io/name': 'web' },
    });
  });

  it('--probe splits at the first "=" after the labels', () => {
    const p = parseProbeFlag('default[app=web]=http://db.example.com/?a=b');
    expect(p.from).toEqual({ namespace: 'default', labels: { app: 'web' } });
    expect(p.target.raw).toBe('http://db.example.com/?a=b');
    expect(parseProbeFlag('frontend=tcp://db.example.com:5432').from).toEqual({ namespace: 'frontend' });
  });

  it('prints labels sorted, the form case ids and tables use', () => {
    expect(formatProbeSource({ namespace: 'default', labels: { tier: 'x', app: 'web' } })).toBe('default[app=web,tier=x]');
    expect(formatProbeSource({ namespace: 'default' })).toBe('default');
  });

  it.each([
    ['default[]=tcp://a.example.com:1', /"" in "default\[\]" is not a pod label/],
    ['default[app]=tcp://a.example.com:1', /"app" in "default\[app\]" is not a pod label key=value/],
    ['default[app=we b]=tcp://a.example.com:1', /is not a pod label/],
    ['default[app=web=tcp://a.example.com:1', /must be NAMESPACE=URL/],
    ['Default[app=web]=tcp://a.example.com:1', /"Default" is not a valid namespace name/],
  ])('%s is bad input', (flag, message) => {
    expect(() => parseProbeFlag(flag)).toThrow(message);
  });
});
