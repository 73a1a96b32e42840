// A Markdown summary for a CI step summary: counts and versions, every case that did not pass with why,
// then the whole verdict matrix (policy × scenario × probe), also when everything passed, so the summary
// shows what was proven and not only what broke.
import { formatPath } from '../model/hops.ts';
import type { CaseResult, RunReport } from './results.ts';
import { asserted, countOutcomes } from './results.ts';
import { conformanceMarkdown } from './conformance.ts';

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
// Past the sidecar, the observed cell is the path hop by hop; a direct call a gateway has a route for says so.
const observed = (r: CaseResult) =>
  r.observed
    ? `${r.observed.verdict}${(r.observed.hops?.length ?? 0) > 1 ? ` ${formatPath(r.observed.hops!)}` : r.observed.cluster ? ` ${r.observed.cluster}` : ''}${r.observed.bypassesGateway ? ` (bypasses the gateway ${r.observed.bypassesGateway})` : ''}`
    : '—';
const OUTCOME: Record<CaseResult['outcome'], string> = { pass: 'pass', fail: '**FAIL**', error: '**ERROR**', skipped: 'skipped' };

export function renderMarkdown(report: RunReport): string {
  const c = countOutcomes(report.results);
  const out = [
    `## Istio egress conformance — ${report.lane} lane`,
    '',
    `Istio ${report.istioVersion}; ${Object.entries(report.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
    `**${c.pass} passed, ${c.fail} failed, ${c.error} errors, ${c.skipped} skipped**`,
    '',
  ];
  out.push(...conformanceMarkdown(report));
  if (report.interrupted) out.push(`Interrupted by ${report.interrupted}: the results below are those observed before it.`, '');
  if (report.setupError) out.push(`Setup failed: ${cell(report.setupError.split('\n')[0] ?? '')}`, '');
  const notPassed = report.results.filter((r) => r.outcome === 'fail' || r.outcome === 'error');
  if (notPassed.length) {
    out.push('### Not passed', '', '| outcome | case | expected | observed | why |', '|---|---|---|---|---|');
    for (const r of notPassed) {
      out.push(
        `| ${r.outcome} | ${cell(r.id)} | ${asserted(r).verdict} ${cell(asserted(r).cluster)}${r.pin ? ' (pin)' : ''} | ${cell(observed(r))} | ${cell(r.message ?? '')} |`,
      );
    }
    out.push('');
  }
  if (report.results.length) {
    out.push('### Verdict matrix', '', '| policy | scenario | probe | expected | observed | outcome |', '|---|---|---|---|---|---|');
    for (const r of report.results) {
      out.push(
        `| ${r.policy} | ${cell(r.scenario)} | ${cell(`${r.from} → ${r.to}`)} | ${asserted(r).verdict} ${cell(asserted(r).cluster)}${r.pin ? ' (pin)' : ''} | ${cell(observed(r))} | ${OUTCOME[r.outcome]} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
