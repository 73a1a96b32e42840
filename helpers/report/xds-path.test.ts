// The one wording of istiod's path (expect, lab check, the fuzzer's corpus).
import { describe, expect, it } from 'vitest';
import { xdsPath } from './xds-path.ts';

describe('xdsPath', () => {
  it('walks listener, chain, route / virtual host / route name, then what answered', () => {
    const o = {
      verdict: 'blocked' as const,
      cluster: '(redirect)',
      evidence: {
        destination: '203.0.113.9:80',
        listener: '0.0.0.0_80',
        listenerMatch: 'wildcard',
        filterChain: 'filter_chains[0]',
        routeConfig: '80',
        virtualHost: 'api.example.com:80',
        route: 'r1',
        redirect: { status: 308 },
      },
    };
    expect(xdsPath(o)).toBe(
      'listener 0.0.0.0_80 (wildcard) → chain filter_chains[0] → route 80 / virtual host api.example.com:80 / r1 → redirect 308 → cluster (redirect)',
    );
    expect(xdsPath(o, { dial: true })).toMatch(/^dial 203\.0\.113\.9:80 → listener/);
    expect(xdsPath({ verdict: 'blocked', cluster: 'BlackHoleCluster', evidence: { directResponse: 502 } })).toBe(
      'direct response 502 → cluster BlackHoleCluster',
    );
  });

  it('is empty for evidence with no xDS step (the kind lane, the model), and ends with an error', () => {
    expect(xdsPath({ verdict: 'allowed', evidence: { status: 200 } })).toBe('');
    expect(xdsPath({ verdict: 'error', error: 'no listener', evidence: {} })).toBe('error: no listener');
  });
});
