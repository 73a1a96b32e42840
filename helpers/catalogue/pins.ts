// The hand-pinned expectation of a catalogue probe for one policy and Istio version.
import type { PolicyMode } from '../model/types.ts';
import { compareVersions, parseIstioVersion } from '../oracle/version.ts';
import type { CatalogueProbe, PinnedExpectation } from './types.ts';

/**
 * `expect`, unless an `expectBefore` bound above the version pins this policy: then the lowest such
 * bound's pin. A policy an older bound does not list is unchanged there.
 */
export function pinFor(probe: CatalogueProbe, policy: PolicyMode, istioVersion: string): PinnedExpectation | undefined {
  const v = parseIstioVersion(istioVersion);
  const older = (probe.expectBefore ?? []).find((e) => e.expect[policy] && compareVersions(v, parseIstioVersion(e.before)) < 0);
  return older ? older.expect[policy] : probe.expect[policy];
}
