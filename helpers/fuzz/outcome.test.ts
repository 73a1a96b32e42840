// Where a call landed, read from the evaluator's evidence on istiod's xDS (and from the model's answer): the
// categories of the outcome mix every fuzz run prints.
import { describe, expect, it } from 'vitest';
import type { Observation } from '../model/types.ts';
import { categoryOfExpectation, categoryOfObservation, emptyMix, formatMix } from './outcome.ts';

const obs = (o: Partial<Observation>, evidence: Record<string, unknown>): Observation => ({ verdict: 'allowed', ...o, evidence });

describe('outcome categories', () => {
  it('read the lane: route, SNI chain, TCP chain, passthrough, blackhole, no listener, DFP', () => {
    const port = { listener: '0.0.0.0_443', listenerMatch: 'wildcard' };
    expect(categoryOfObservation(obs({ cluster: 'outbound|80||a.example.com' }, { ...port, virtualHost: 'a.example.com:80' }))).toBe(
      'route',
    );
    expect(
      categoryOfObservation(obs({ cluster: 'outbound|443||a.example.com' }, { ...port, filterChainSteps: ['server_names: matched'] })),
    ).toBe('sni-chain');
    expect(categoryOfObservation(obs({ cluster: 'outbound|5432||db.example.org' }, { ...port, filterChainSteps: [] }))).toBe('tcp-chain');
    expect(categoryOfObservation(obs({ cluster: 'PassthroughCluster' }, port))).toBe('passthrough');
    expect(categoryOfObservation(obs({ verdict: 'blocked', cluster: 'BlackHoleCluster' }, port))).toBe('blackhole');
    expect(
      categoryOfObservation(obs({ cluster: 'PassthroughCluster' }, { listener: 'virtualOutbound', listenerMatch: 'virtualOutbound' })),
    ).toBe('no-listener');
    // A DYNAMIC_DNS entry's forward-proxy cluster is the entry's route or chain, whatever its CDS type; DFP is the
    // mesh's ALLOW_ANY_DYNAMIC_DNS catch-all only (the model and the referee's signal draw the same line).
    expect(categoryOfObservation(obs({ cluster: 'outbound|80||*.example.org' }, { ...port, virtualHost: '*.example.org:80' }))).toBe(
      'route',
    );
    expect(categoryOfObservation(obs({ cluster: 'outbound|5432||*.example.org' }, { ...port, filterChainSteps: [] }))).toBe('tcp-chain');
    expect(categoryOfObservation(obs({ cluster: 'AllowAnyDynamicDNSCluster' }, { ...port, virtualHost: 'allow_any' }))).toBe('dfp');
    expect(categoryOfObservation(obs({ verdict: 'error', error: 'x' }, port))).toBe('error');
    // A lane that classified the call itself is taken at its word.
    expect(
      categoryOfObservation(
        obs(
          { xds: { snapshot: { listeners: [], clusters: [], routes: [] }, address: '1.2.3.4', resolvedBy: 'ip-literal', category: 'dfp' } },
          {},
        ),
      ),
    ).toBe('dfp');
  });

  it('read the model from its listener, cluster and landing', () => {
    const e = { verdict: 'allowed' as const, policy: 'ALLOW_ANY' as const, listener: '0.0.0.0_80', cluster: 'outbound|80||a.example.com' };
    expect(categoryOfExpectation({ ...e, reason: 'listener 0.0.0.0_80, HTTP chain, route 80, virtual host a.example.com:80' })).toBe(
      'route',
    );
    expect(categoryOfExpectation({ ...e, reason: 'listener 0.0.0.0_443, SNI chain a.example.com' })).toBe('sni-chain');
    expect(categoryOfExpectation({ ...e, reason: 'listener 0.0.0.0_5432: non-HTTP TCP takes the match-all TCP chain' })).toBe('tcp-chain');
    expect(categoryOfExpectation({ ...e, listener: 'virtualOutbound', cluster: 'PassthroughCluster', reason: '' })).toBe('no-listener');
  });

  it('print the mix with the share in a ServiceEntry route or chain', () => {
    const mix = { ...emptyMix(), route: 3, 'tcp-chain': 2, 'sni-chain': 1, passthrough: 1, blackhole: 1, 'no-listener': 2 };
    expect(formatMix(mix)).toBe(
      'route 3, TCP chain 2, SNI chain 1, passthrough 1, blackhole 1, no listener 2, DFP 0 (60% in a ServiceEntry route or chain)',
    );
  });
});
