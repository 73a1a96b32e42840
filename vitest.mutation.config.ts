import { defineConfig } from 'vitest/config';

// The tests Stryker runs against each mutant of helpers/oracle/ (`npm run mutation`): the oracle's unit
// tests, its pinned rule fixtures and the corpus of real istiod answers, none of which needs a lane or Go.
export default defineConfig({
  test: {
    include: ['helpers/oracle/**/*.test.ts', 'helpers/corpus/**/*.test.ts', 'helpers/catalogue/catalogue.test.ts'],
    testTimeout: 60_000,
  },
});
