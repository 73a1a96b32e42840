// The `via:` and `tls:` pins of the catalogue against the model: the path it explains, hop by hop, and where
// TLS starts. (Verdicts and clusters are checked in catalogue.test.ts; the lane checks both on istiod.)
import { describe, expect, it } from 'vitest';
import { formatHop, tlsOrigin } from '../model/hops.ts';
import { expectProbe } from '../oracle/index.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { expandCases, loadCatalogue } from './load.ts';

const cases = expandCases(loadCatalogue()).filter((c) => c.probe.via?.[c.policy] || c.probe.tls);

describe('catalogue paths', () => {
  it('the gateway, TLS-origination and routing scenarios pin their paths', () => {
    const names = new Set(cases.map((c) => c.scenario.name));
    for (const n of [
      'egress-gateway-http',
      'egress-gateway-tls-passthrough',
      'tls-origination-sidecar',
      'tls-origination-gateway',
      'egress-gateway-mutual',
    ])
      expect(names).toContain(n);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s: the model explains the pinned path', (_id, c) => {
    const got = expectProbe(c.scenario.resources, c.probe, { istioVersion: PINNED_PILOT.istioVersion, policy: c.policy });
    const via = c.probe.via?.[c.policy];
    if (via)
      expect((got.hops ?? []).map((h) => formatHop(h, true))).toEqual(
        via.map((h) => formatHop({ kind: h.proxy === 'sidecar' ? 'sidecar' : 'gateway', ...h }, true)),
      );
    if (c.probe.tls) expect(tlsOrigin(got.hops ?? [], c.probe.to.scheme)).toBe(c.probe.tls);
  });
});
