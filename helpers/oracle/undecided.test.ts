// The scenarios of fixtures/rules/undecided/: istiod's pinned answers that the model cannot predict yet. The model
// must say so (notModelled) on each pinned probe, whatever answer it gives.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue, RULES_DIR } from '../catalogue/load.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const cases = expandCases(loadCatalogue(join(RULES_DIR, 'undecided'), undefined, { requirePins: true }));

describe('undecided scenarios are said aloud as not modelled', () => {
  it('has scenarios to check', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases)
    it(c.id, () => {
      const got = expectProbe(c.scenario.resources, c.probe, { istioVersion: PINNED.istio, policy: c.policy });
      const note = 'an HTTP call by address to an entry with several addresses (istiod keeps one per host)';
      expect(got.notModelled ?? []).toContain(note);
      // Said aloud: the reason is what `expect`, the reports and the fuzzer print.
      expect(got.reason).toContain(`not modelled: ${note}`);
    });
});
