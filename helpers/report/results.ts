// One lane result per case run: what the oracle expected, what the lane observed, and the outcome.
import { formatHopTls, formatPath } from '../model/hops.ts';
import type { BlockSignal, Expectation, Hop, Observation, PolicyMode, Verdict } from '../model/types.ts';

export type Outcome = 'pass' | 'fail' | 'error' | 'skipped';

export interface CaseResult {
  id: string;
  policy: PolicyMode;
  scenario: string;
  from: string;
  to: string;
  expected: Expectation;
  observed?: Observation;
  outcome: Outcome;
  /** Why it failed, errored or was skipped. */
  message?: string;
  /** Time spent observing this probe (JUnit `time`). */
  durationMs?: number;
  /** Conformance features the case exercises (helpers/report/features.ts). */
  features?: string[];
  /** The case's own pin, set when the observation agreed with the model but contradicted this pin. */
  pin?: { verdict: Verdict; cluster: string };
}

/** What a case's assertion asserted: the pin it failed on, else the model's expectation. */
export function asserted(r: CaseResult): { verdict: Verdict; cluster: string; signal?: BlockSignal; by: 'pin' | 'model' } {
  if (r.pin) return { ...r.pin, by: 'pin' };
  return {
    verdict: r.expected.verdict,
    cluster: r.expected.cluster,
    ...(r.expected.signal ? { signal: r.expected.signal } : {}),
    by: 'model',
  };
}

/** Top-level figures of a JSON report, so CI reads them without walking the results. */
export interface ReportTotals {
  counts: Record<Outcome, number> & { total: number };
  /** Wall time of the run (start to finish), and the time spent observing probes (sum of durationMs). */
  durationMs: number;
  observeMs: number;
}

export function totalsOf(report: Pick<RunReport, 'results' | 'startedAt' | 'finishedAt'>): ReportTotals {
  return {
    counts: { ...countOutcomes(report.results), total: report.results.length },
    durationMs: Math.max(0, Date.parse(report.finishedAt) - Date.parse(report.startedAt) || 0),
    observeMs: Math.round(report.results.reduce((n, r) => n + (r.durationMs ?? 0), 0)),
  };
}

export interface RunReport {
  lane: string;
  istioVersion: string;
  versions: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  results: CaseResult[];
  /** Set when setup failed before any probe ran. */
  setupError?: string;
  /** The exit code of a user-fixable setup failure (2 bad input, 3 missing environment). */
  setupExitCode?: number;
  /** Written while the run is still going (results so far); the last report of a finished run has none. */
  partial?: boolean;
  /** The signal that stopped the run (Ctrl-C is SIGINT); the results are those observed before it. */
  interrupted?: string;
}

/**
 * Compare an observation with the oracle. `error` observations are never a pass. The cluster is compared
 * only when the lane saw it (`Observation.cluster`: xDS, or the client sidecar's access log); the human
 * `summary` of what the client saw is never compared.
 */
export function judge(expected: Expectation, observed: Observation): { outcome: Outcome; message?: string } {
  if (observed.verdict === 'error') return { outcome: 'error', message: observed.error ?? 'the lane could not observe a verdict' };
  if (observed.verdict !== expected.verdict) {
    return {
      outcome: 'fail',
      message: `expected ${expected.verdict} (${expected.cluster}), observed ${observed.verdict}${observed.cluster ? ` (${observed.cluster})` : ''}`,
    };
  }
  if (observed.cluster && observed.cluster !== expected.cluster) {
    return {
      outcome: 'fail',
      message: `verdict ${observed.verdict} as expected, but through ${observed.cluster} instead of ${expected.cluster}`,
    };
  }
  if (expected.signal && observed.signal && observed.signal !== expected.signal) {
    return { outcome: 'fail', message: `blocked as expected, but by ${observed.signal} instead of ${expected.signal}` };
  }
  // Past the first hop: compared when both sides followed the call (the lane saw each hop, the model explains it).
  if (expected.hops && observed.hops && !sameHops(expected.hops, observed.hops)) {
    return { outcome: 'fail', message: `path ${formatPath(observed.hops)} instead of ${formatPath(expected.hops)}` };
  }
  return { outcome: 'pass' };
}

/** Same proxies (a sidecar is the probe's source whatever its Pod is called), clusters and TLS, in order. */
export function sameHops(a: Hop[], b: Hop[]): boolean {
  return (
    a.length === b.length &&
    a.every((h, i) => {
      const o = b[i]!;
      return (
        h.kind === o.kind &&
        (h.kind === 'sidecar' || h.proxy === o.proxy) &&
        h.cluster === o.cluster &&
        formatHopTls(h.tls) === formatHopTls(o.tls)
      );
    })
  );
}

export function countOutcomes(results: CaseResult[]): Record<Outcome, number> {
  const c: Record<Outcome, number> = { pass: 0, fail: 0, error: 0, skipped: 0 };
  for (const r of results) c[r.outcome]++;
  return c;
}
