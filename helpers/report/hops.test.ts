// Hops in judging and in the reports: the path is compared when both sides followed the call, and shown in
// the Markdown matrix and the JUnit failure text.
import { describe, expect, it } from 'vitest';
import type { Expectation, Hop, Observation } from '../model/types.ts';
import { renderJUnit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { judge, type RunReport } from './results.ts';

const GW = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';
const hops = (last: string): Hop[] => [
  { kind: 'sidecar', proxy: 'default/sidecar', cluster: GW },
  { kind: 'gateway', proxy: 'istio-system/istio-egressgateway', cluster: last, tls: { mode: 'SIMPLE', sni: 'edition.example.com' } },
];
const expected: Expectation = {
  verdict: 'allowed',
  cluster: GW,
  reason: 'r',
  listener: '0.0.0.0_80',
  policy: 'REGISTRY_ONLY',
  hops: hops('outbound|443||edition.example.com'),
};
const observedOk: Observation = {
  verdict: 'allowed',
  cluster: GW,
  evidence: {},
  hops: hops('outbound|443||edition.example.com').map((h, i) => (i === 0 ? { ...h, proxy: 'default/egress-client' } : h)),
};
const observedBad: Observation = { ...observedOk, hops: hops('outbound|80||edition.example.com') };

describe('hops', () => {
  it('a different second hop fails even when the first cluster agrees; the sidecar Pod name does not matter', () => {
    expect(judge(expected, observedOk).outcome).toBe('pass');
    const v = judge(expected, observedBad);
    expect(v.outcome).toBe('fail');
    expect(v.message).toMatch(/path .*istio-egressgateway outbound\|80\|\|edition\.example\.com.* instead of/);
    expect(
      judge(expected, { ...observedOk, hops: [{ ...observedOk.hops![0]!, tls: { mode: 'ISTIO_MUTUAL' } }, observedOk.hops![1]!] }).outcome,
    ).toBe('fail');
  });

  it('reports show the path, and a direct call that bypasses the gateway says so', () => {
    const report: RunReport = {
      lane: 'control-plane',
      istioVersion: 'x',
      versions: {},
      startedAt: '2026-12-02T07:00:00Z',
      finishedAt: '2026-12-02T07:00:01Z',
      results: [
        {
          id: 'a',
          policy: 'REGISTRY_ONLY',
          scenario: 's',
          from: 'default',
          to: 'http://edition.example.com/',
          expected,
          observed: observedBad,
          outcome: 'fail',
          message: 'm',
        },
        {
          id: 'b',
          policy: 'REGISTRY_ONLY',
          scenario: 's',
          from: 'default',
          to: 'https://edition.example.com/',
          expected: { ...expected, hops: undefined },
          observed: {
            verdict: 'allowed',
            cluster: 'outbound|443||edition.example.com',
            evidence: {},
            bypassesGateway: 'istio-system/istio-egressgateway',
          },
          outcome: 'pass',
        },
      ],
    };
    const md = renderMarkdown(report);
    expect(md).toContain('istio-system/istio-egressgateway outbound\\|80\\|\\|edition.example.com (tls:SIMPLE:edition.example.com)');
    expect(md).toContain('(bypasses the gateway istio-system/istio-egressgateway)');
    expect(renderJUnit(report)).toMatch(/observed path: default\/sidecar outbound\|80\|edition/);
  });
});
