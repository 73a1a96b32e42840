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
    // Part of the corpus: seeds 1-57 (2,708 probes; almost no VirtualService) and 229-232 (about 5,100 probes, the
    // generator aiming at gateways and routes: 280 VirtualService scenarios in 229-238); the whole corpus would
    // cost ~15 s per surviving mutant. One test per seed, so that a mutant the first seeds kill costs only those.
    env: { EGRESS_CORPUS_SEEDS: '1-57,229-232', EGRESS_CORPUS_PER_SEED: '1' },
  },
});
