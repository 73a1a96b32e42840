// How a `run` ends, decided from its report: a nightly job must not go green by skipping its cases,
// while `npm test` (which never comes here) keeps reporting skips as skips.
import type { RunReport } from './results.ts';
import { countOutcomes } from './results.ts';

export interface RunEnd {
  /** 0 every case passed, 1 a case failed or errored, 2/3 the setup's own code, 3 cases skipped, 130/143 interrupted. */
  code: number;
  /** The one closing line for stderr, when the code needs a reason. */
  line?: string;
}

export function runEnd(report: RunReport | undefined, suiteExitCode: number): RunEnd {
  if (report?.interrupted) {
    return { code: report.interrupted === 'SIGTERM' ? 143 : 130, line: `interrupted by ${report.interrupted}; partial report written` };
  }
  if (!report) {
    return {
      code: suiteExitCode === 0 ? 3 : 1,
      line: 'the suite ended without writing its report, so no case was checked; see the output above',
    };
  }
  if (report.setupError) {
    return { code: report.setupExitCode ?? 1, line: `${report.lane} lane setup failed: ${report.setupError.split('\n')[0]}` };
  }
  const c = countOutcomes(report.results);
  if (c.fail || c.error) return { code: 1 };
  if (report.results.length === 0) return { code: 3, line: `the ${report.lane} lane ran no case` };
  if (c.skipped) {
    const reason = report.results.find((r) => r.outcome === 'skipped')?.message ?? 'no reason given';
    return {
      code: 3,
      line: `${c.skipped} of ${report.results.length} cases were skipped on the ${report.lane} lane (${reason}); a run passes only when its cases ran`,
    };
  }
  if (suiteExitCode !== 0)
    return { code: 1, line: 'every case passed, but the suite failed outside them (a teardown or hook); see the output above' };
  return { code: 0 };
}
