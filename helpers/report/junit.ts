// JUnit XML, the format CI systems show natively. Errors are <error>, not <failure>: a lane that could
// not observe is not evidence against the mesh.
import { formatPath } from '../model/hops.ts';
import type { CaseResult, RunReport } from './results.ts';
import { asserted, countOutcomes } from './results.ts';

/** JUnit times are seconds with a decimal point. */
const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(3);

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** `POLICY/scenario/from→to expects blocked`: the id and what was asserted of it. */
export function testName(r: CaseResult): string {
  const a = asserted(r);
  return `${r.id} expects ${a.verdict}${a.by === 'pin' ? ' (pinned)' : ''}`;
}

/** What was seen, as text a reviewer reads in the CI's test view: one `key: value` per line. */
export function systemOut(r: CaseResult): string {
  const o = r.observed!;
  const scalar = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  return [
    `expected: ${asserted(r).verdict} via ${asserted(r).cluster}`,
    `observed: ${o.verdict}${o.cluster ? ` via ${o.cluster}` : ''}${o.signal ? ` (${o.signal})` : ''}`,
    ...(o.summary ? [`summary: ${o.summary}`] : []),
    ...(o.error ? [`error: ${o.error}`] : []),
    `model: ${r.expected.reason}`,
    ...Object.entries(o.evidence ?? {}).map(([k, v]) => `${k}: ${scalar(v)}`),
  ].join('\n');
}

export function renderJUnit(report: RunReport): string {
  const c = countOutcomes(report.results);
  const suite = `egress-conformance.${report.lane}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(suite)}" time="${seconds(Date.parse(report.finishedAt) - Date.parse(report.startedAt) || 0)}" tests="${report.results.length}" failures="${c.fail}" errors="${c.error + (report.setupError ? 1 : 0)}" skipped="${c.skipped}">`,
    `  <testsuite name="${esc(suite)}" tests="${report.results.length}" failures="${c.fail}" errors="${c.error + (report.setupError ? 1 : 0)}" skipped="${c.skipped}" timestamp="${esc(report.startedAt)}" time="${seconds(Date.parse(report.finishedAt) - Date.parse(report.startedAt) || 0)}">`,
    '    <properties>',
    `      <property name="istio.version" value="${esc(report.istioVersion)}"/>`,
    ...Object.entries(report.versions).map(([k, v]) => `      <property name="${esc(k)}" value="${esc(v)}"/>`),
    '    </properties>',
  ];
  if (report.setupError) {
    lines.push(
      `    <testcase classname="${esc(suite)}" name="setup" time="0.000"><error message="${esc(report.setupError.split('\n')[0] ?? '')}">${esc(report.setupError)}</error></testcase>`,
    );
  }
  for (const r of report.results) {
    // The name carries the asserted verdict, so a CI test list reads as a list of claims.
    lines.push(
      `    <testcase classname="${esc(`${suite}.${r.policy}.${r.scenario}`)}" name="${esc(testName(r))}" time="${seconds(r.durationMs)}">`,
    );
    const path = r.observed?.hops?.length ? `\nobserved path: ${formatPath(r.observed.hops)}` : '';
    if (r.outcome === 'fail') lines.push(`      <failure message="${esc(r.message ?? '')}">${esc(r.expected.reason + path)}</failure>`);
    if (r.outcome === 'error') lines.push(`      <error message="${esc(r.message ?? '')}"/>`);
    if (r.outcome === 'skipped') lines.push(`      <skipped message="${esc(r.message ?? '')}"/>`);
    if (r.observed) lines.push(`      <system-out>${esc(systemOut(r))}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
