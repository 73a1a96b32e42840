// The conformance report, conformance-<lane>.yaml, in the shape of Gateway API's ConformanceReport: the
// implementation (Istio build, how it was installed), date, lane, and profiles with core and extended
// features, each `success`, `partial` (some of its cases skipped) or `failure`, with pass/skip/fail counts
// and the names of the skipped and failed cases. A feature with a skipped case is never claimed: only
// `success` features are listed as supported.
import { stringify } from 'yaml';
import { FEATURES, type ProfileName } from './features.ts';
import type { CaseResult, RunReport } from './results.ts';

export type FeatureResult = 'success' | 'partial' | 'failure';

export interface Statistics {
  Passed: number;
  Skipped: number;
  Failed: number;
}

export interface FeatureReport {
  name: string;
  result: FeatureResult;
  claim: string;
  statistics: Statistics;
  failedTests?: string[];
  skippedTests?: string[];
}

export interface LevelReport {
  result: FeatureResult;
  statistics: Statistics;
  supportedFeatures: string[];
  /** Features whose cases failed or errored. */
  unsupportedFeatures: string[];
  /** Features with a skipped case and no failure: not claimed either way. */
  untestedFeatures: string[];
  features: FeatureReport[];
}

export interface ConformanceReport {
  apiVersion: 'egress-conformance.istio-egress-conformance/v1alpha1';
  kind: 'ConformanceReport';
  date: string;
  lane: string;
  implementation: { project: 'istio'; version: string; installed: string; details: Record<string, string> };
  /** Cases no feature describes are still counted here. */
  statistics: Statistics;
  profiles: { name: ProfileName; core?: LevelReport; extended?: LevelReport }[];
}

const stats = (rs: CaseResult[]): Statistics => ({
  Passed: rs.filter((r) => r.outcome === 'pass').length,
  Skipped: rs.filter((r) => r.outcome === 'skipped').length,
  // An error is not evidence against the mesh, but it is not a pass either: nothing is claimed on it.
  Failed: rs.filter((r) => r.outcome === 'fail' || r.outcome === 'error').length,
});

const resultOf = (s: Statistics): FeatureResult => (s.Failed > 0 ? 'failure' : s.Skipped > 0 ? 'partial' : 'success');

/** How Istio came to run, in words, per lane (a lane's details may say it better: `installed`). */
function installed(report: RunReport): string {
  if (report.versions.installed) return report.versions.installed;
  const lane = report.versions.lane ?? report.lane;
  if (lane === 'kind') return `istioctl install -f fixtures/istio/<POLICY>.yaml (Istio ${report.istioVersion}) on a kind cluster`;
  if (lane === 'control-plane') return `pilot-discovery ${report.istioVersion} on a local API server, installed by istioctl install -f`;
  if (lane === 'model') return 'not installed: the model (helpers/oracle) answered; no Istio ran';
  return lane;
}

function level(results: CaseResult[], names: string[]): LevelReport | undefined {
  const features: FeatureReport[] = [];
  for (const name of names) {
    const rs = results.filter((r) => r.features?.includes(name));
    if (rs.length === 0) continue;
    const s = stats(rs);
    const failed = rs.filter((r) => r.outcome === 'fail' || r.outcome === 'error').map((r) => r.id);
    const skipped = rs.filter((r) => r.outcome === 'skipped').map((r) => r.id);
    features.push({
      name,
      result: resultOf(s),
      claim: FEATURES.find((f) => f.name === name)?.claim ?? '',
      statistics: s,
      ...(failed.length ? { failedTests: failed } : {}),
      ...(skipped.length ? { skippedTests: skipped } : {}),
    });
  }
  if (features.length === 0) return undefined;
  const total = features.reduce(
    (t, f) => ({
      Passed: t.Passed + f.statistics.Passed,
      Skipped: t.Skipped + f.statistics.Skipped,
      Failed: t.Failed + f.statistics.Failed,
    }),
    { Passed: 0, Skipped: 0, Failed: 0 },
  );
  const named = (r: FeatureResult) => features.filter((f) => f.result === r).map((f) => f.name);
  return {
    result: features.some((f) => f.result === 'failure') ? 'failure' : features.some((f) => f.result === 'partial') ? 'partial' : 'success',
    statistics: total,
    supportedFeatures: named('success'),
    unsupportedFeatures: named('failure'),
    untestedFeatures: named('partial'),
    features,
  };
}

export function conformanceReport(report: RunReport): ConformanceReport {
  const profiles: ConformanceReport['profiles'] = [];
  for (const name of ['SIDECAR-EGRESS', 'EGRESS-GATEWAY', 'TLS-ORIGINATION'] as const) {
    const of = (l: 'core' | 'extended') => FEATURES.filter((f) => f.profile === name && f.level === l).map((f) => f.name);
    const core = level(report.results, of('core'));
    const extended = level(report.results, of('extended'));
    if (core || extended) profiles.push({ name, ...(core ? { core } : {}), ...(extended ? { extended } : {}) });
  }
  return {
    apiVersion: 'egress-conformance.istio-egress-conformance/v1alpha1',
    kind: 'ConformanceReport',
    date: report.finishedAt,
    lane: report.lane,
    implementation: { project: 'istio', version: report.istioVersion, installed: installed(report), details: report.versions },
    statistics: stats(report.results),
    profiles,
  };
}

export function renderConformanceYaml(report: RunReport): string {
  return stringify(conformanceReport(report), { lineWidth: 0 });
}

/** The Markdown summary's opening: features, then (in the rest of the summary) cases and probes. */
export function conformanceMarkdown(report: RunReport): string[] {
  const c = conformanceReport(report);
  const out = [
    '### Conformance',
    '',
    '| profile | level | feature | result | passed | skipped | failed |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const p of c.profiles)
    for (const l of ['core', 'extended'] as const)
      for (const f of p[l]?.features ?? [])
        out.push(
          `| ${p.name} | ${l} | ${f.name} | ${f.result === 'success' ? 'success' : `**${f.result}**`} | ${f.statistics.Passed} | ${f.statistics.Skipped} | ${f.statistics.Failed} |`,
        );
  if (c.profiles.length === 0) out.push('| — | — | no case of this run exercises a listed feature | — | — | — | — |');
  out.push('', 'A feature with a skipped case is `partial` and is not claimed.', '');
  return out;
}
