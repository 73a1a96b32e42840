// The report of an interrupted run: the results the suite wrote so far, marked with the signal, and
// every case it did not reach listed as skipped with that reason.
import type { CaseResult, RunReport } from './results.ts';

export function markInterrupted(
  partial: RunReport | undefined,
  signal: string,
  notRun: Omit<CaseResult, 'outcome' | 'message'>[],
  base: Pick<RunReport, 'lane' | 'istioVersion' | 'versions' | 'startedAt'>,
): RunReport {
  const report: RunReport = partial ? { ...partial } : { ...base, finishedAt: '', results: [] };
  const seen = new Set(report.results.map((r) => r.id));
  const reason = `not run: interrupted by ${signal}`;
  report.results = [
    ...report.results,
    ...notRun.filter((c) => !seen.has(c.id)).map((c) => ({ ...c, outcome: 'skipped' as const, message: reason })),
  ];
  report.finishedAt = new Date().toISOString();
  report.interrupted = signal;
  delete report.partial;
  return report;
}
