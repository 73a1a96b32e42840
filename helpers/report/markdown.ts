// A Markdown summary for a CI step summary: counts, versions, then every case that did not pass.
import type { RunReport } from './results.ts';
import { countOutcomes } from './results.ts';

const cell = (s: string) => s.replaceAll('|', '\\|');

export function renderMarkdown(report: RunReport): string {
  const c = countOutcomes(report.results);
  const out = [
    `## Istio egress conformance — ${report.lane} lane`,
    '',
    `Istio ${report.istioVersion}; ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    `**${c.pass} passed, ${c.fail} failed, ${c.error} errors, ${c.skipped} skipped**`,
    '',
  ];
  if (report.setupError) out.push(`Setup failed: ${report.setupError}`, '');
  const notPassed = report.results.filter((r) => r.outcome !== 'pass');
  if (notPassed.length) {
    out.push('| outcome | case | expected | observed | why |', '|---|---|---|---|---|');
    for (const r of notPassed) {
      const obs = r.observed ? `${r.observed.verdict}${r.observed.cluster ? ` ${r.observed.cluster}` : ''}` : '—';
      out.push(`| ${r.outcome} | ${cell(r.id)} | ${r.expected.verdict} ${cell(r.expected.cluster)} | ${cell(obs)} | ${cell(r.message ?? '')} |`);
    }
  }
  return out.join('\n') + '\n';
}
