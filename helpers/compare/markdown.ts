// compare.md: the comparison as Markdown to attach to a change request or a pull request. Builds
// compared, counts by direction, every change with its explanation and path, then the unchanged probes.
import { ans, type CompareDocument, directionCell, groupByScenario, ruleCell, summaryLine } from './report.ts';

const md = (s: string) => s.replaceAll('|', '\\|');

/** ❌ when the default gate fails; ⚠️ rather than ✅ when anything opened, however well it is explained. */
function verdictIcon(d: CompareDocument): string {
  if (!d.ok) return '❌';
  return d.counts.opened ? '⚠️' : '✅';
}

function explanation(x: CompareDocument['changes'][number]): string {
  const because =
    x.status === 'explained' ? x.rules.map((r) => `${r.id} (since ${r.since}, ${r.upstream}): ${r.effect}`).join('; ') : ruleCell(x);
  return `${md(because)}${x.note ? ` — ${md(x.note)}` : ''}`;
}

function builds(d: CompareDocument): string[] {
  return [
    '| | from | to |',
    '|---|---|---|',
    `| build | ${md(d.from.label)} | ${md(d.to.label)} |`,
    `| oracle rules of | ${d.from.oracleVersion} | ${d.to.oracleVersion} |`,
    ...(d.from.goModuleVersion ? [`| istio.io/istio | ${d.from.goModuleVersion} | ${d.to.goModuleVersion ?? ''} |`] : []),
    '',
  ];
}

function counts(d: CompareDocument): string[] {
  const c = d.counts;
  return [
    '| opened | closed | rerouted | unchanged | not observed | unexplained | predicted, missing |',
    '|---|---|---|---|---|---|---|',
    `| ${c.opened} | ${c.closed} | ${c.rerouted} | ${c.unchanged} | ${c.errors} | ${c.unexplained} | ${c.missing} |`,
    '',
  ];
}

function changes(d: CompareDocument): string[] {
  if (!d.changes.length) return ['No probe changes its verdict, cluster or path.', ''];
  return [
    '| # | probe | change | before | after | explanation |',
    '|---|---|---|---|---|---|',
    ...d.changes.map(
      (x, i) =>
        `| ${i + 1} | \`${md(x.id)}\` | ${x.direction === 'opened' ? '**OPENED**' : directionCell(x)} | ${md(ans(x.from))} | ${md(ans(x.to))} | ${explanation(x)} |`,
    ),
    '',
  ];
}

function appendix(d: CompareDocument): string[] {
  const missing = new Set(d.changes.filter((x) => x.status === 'missing').map((x) => x.id));
  const out = [`### Appendix: ${d.unchanged.length} unchanged probes`, ''];
  if (!d.unchanged.length) return [...out, 'None: every probe changed or was not observed.', ''];
  out.push(`<details><summary>${d.unchanged.length} probes answer the same on both builds</summary>`, '');
  for (const [head, probes] of groupByScenario(d.unchanged)) {
    out.push(`- **${md(head)}** (${probes.length})`);
    for (const p of probes) {
      const flag = missing.has(`${head}/${p}`) ? ' (a change was predicted: MISSING above)' : '';
      out.push(`  - \`${md(p)}\`${flag}`);
    }
  }
  return [...out, '', '</details>', ''];
}

export function renderMarkdown(d: CompareDocument): string {
  const out = [
    `## Upgrade check: ${md(d.from.label)} → ${md(d.to.label)}`,
    '',
    `${verdictIcon(d)} ${md(summaryLine(d))}.`,
    '',
    ...builds(d),
    ...counts(d),
  ];
  if (d.gates.length) {
    out.push('Version-gated rules between the two:', '');
    for (const g of d.gates) out.push(`- **${g.id}** (since ${g.since}, ${md(g.upstream)}): ${md(g.effect)}`);
    out.push('');
  }
  out.push('### Changes', '', ...changes(d));
  if (d.errors.length) {
    out.push(
      `<details><summary>${d.errors.length} probes could not be observed</summary>`,
      '',
      ...d.errors.map((e) => `- \`${md(e.id)}\` (${e.side}): ${md(e.error)}`),
      '',
      '</details>',
      '',
    );
  }
  if (d.steadyDisagreements.length) {
    out.push(
      `${d.steadyDisagreements.length} probes disagree with the oracle the same way on both versions (not an upgrade change): ${d.steadyDisagreements.map((s) => `\`${md(s.id)}\``).join(', ')}`,
      '',
    );
  }
  out.push(...appendix(d));
  return out.join('\n');
}
