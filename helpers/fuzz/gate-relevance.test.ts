// gateDependencies skips a version gate no condition of the resources reaches (expect.ts gateCanMatter). Held to
// the full computation on real scenarios: for every probe of part of the corpus, the gates it lists are exactly
// those whose flip alone changes the model's verdict or cluster.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectProbe, gateDependencies } from '../oracle/expect.ts';
import { GATES, gateOpen, parseIstioVersion } from '../oracle/version.ts';
import { PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { readCorpus } from './corpus.ts';
import { scenarioPods } from './pods.ts';
import { admit, toProbe } from './scenario.ts';

const CORPUS = fileURLToPath(new URL('../../fixtures/corpus/', import.meta.url));

describe('the version gates an answer depends on', () => {
  for (const build of PINNED_BUILDS)
    it(`are those whose flip alone changes it, none skipped (corpus ${build.label}, seeds 1-12)`, () => {
      const v = parseIstioVersion(build.istioVersion);
      const differ: string[] = [];
      let dependencies = 0;
      for (const s of readCorpus(`${CORPUS}${build.label}`, (seed) => seed <= 12)) {
        const a = admit({ ...s, probes: s.probes });
        if (!a.ok) continue;
        const opts = { istioVersion: build.istioVersion, policy: s.policy, workloads: scenarioPods(a.resources, s.probes) };
        s.probes.forEach((p, i) => {
          const probe = toProbe(p);
          const base = expectProbe(a.resources, probe, { ...opts, explainGates: false });
          const flipping = GATES.filter((g) => {
            const f = expectProbe(a.resources, probe, { ...opts, explainGates: false, gates: { [g.id]: !gateOpen(v, g.id) } });
            return f.verdict !== base.verdict || f.cluster !== base.cluster;
          }).map((g) => g.id);
          const listed = gateDependencies(a.resources, probe, opts).map((d) => d.gate.id);
          dependencies += listed.length;
          if (listed.join() !== flipping.join()) differ.push(`${s.id}#${i}: listed ${listed} ≠ flipping ${flipping}`);
        });
      }
      expect(differ).toEqual([]);
      // The comparison means something only where some answers do depend on a gate.
      expect(dependencies).toBeGreaterThan(0);
    });
});
