import { defineConfig } from 'vitest/config';
import SummaryReporter from './helpers/report/vitest-summary.ts';

// Without a terminal (CI logs, files), no colour codes: tinyrainbow turns them on whenever CI is set.
// Set here for the workers and the commands tests run; .ci/run sets it for vitest's own process too.
if (!process.stdout.isTTY && process.env.FORCE_COLOR === undefined) process.env.NO_COLOR ??= '1';

// Two projects: `unit` (tests beside the code, no external services beyond what .ci/run starts)
// and `e2e` (suites/, one lane chosen by EGRESS_LANE). `npm test` runs both; the e2e suite reports
// itself skipped, with the reason, when its lane cannot run here.
export default defineConfig({
  test: {
    reporters: ['default', new SummaryReporter()],
    globalSetup: ['./helpers/testing/global-tmp.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['helpers/**/*.test.ts', 'scripts/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['suites/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
