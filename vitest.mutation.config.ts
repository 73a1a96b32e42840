import { defineConfig } from 'vitest/config';

// The tests Stryker runs against each mutant of helpers/oracle/ (`npm run mutation`): the oracle's unit tests and
// its pinned rule fixtures and the corpus of real istiod answers (helpers/fuzz/corpus.test.ts), none of which needs a
// lane or Go.
// The catalogue and rule-coverage tests are left out: they reparse every fixture on each of ~2,000 reruns; so is
// mesh-default.test.ts, which starts a real istiod (10 s a rerun) and whose oracle half the rule pins hold.
export default defineConfig({
  test: {
    include: ['helpers/oracle/**/*.test.ts', 'helpers/fuzz/corpus.test.ts'],
    exclude: ['helpers/oracle/rules.test.ts', 'helpers/oracle/mesh-default.test.ts'],
    testTimeout: 60_000,
    // The corpus's first 57 seeds (2,708 probes, ~3 s a rerun); the whole corpus would cost ~15 s per mutant. One
    // test per seed, so that a mutant the first seeds kill costs only those.
    env: { EGRESS_CORPUS_SEEDS: '1-57', EGRESS_CORPUS_PER_SEED: '1' },
  },
});
