// The comparison as JSON (`--json`, compare.json), as Markdown for a pull request (compare.md), and as
// a terminal table.
import { renderTable } from '../report/table.ts';
import type { Change, Comparison, RuleRef } from './diff.ts';
import type { CompareLane, CompareTarget } from './targets.ts';

export interface CompareDocument {
  lane: CompareLane;
  from: TargetInfo;
  to: TargetInfo;
  probes: number;
  ok: boolean;
  counts: { changes: number; explained: number; unexplained: number; missing: number; errors: number };
  /** Observed changes and predicted-but-missing ones. `rule` is the first rule behind it, or UNEXPLAINED. */
  changes: {
    id: string;
    status: Change['status'];
    from: { verdict: string; cluster: string };
    to: { verdict: string; cluster: string };
    rule: RuleRef | 'UNEXPLAINED';
    rules: RuleRef[];
    predicted: Change['predicted'];
    note?: string;
  }[];
  errors: Comparison['errors'];
  steadyDisagreements: Comparison['steadyDisagreements'];
  gates: RuleRef[];
}

export interface TargetInfo {
  label: string;
  oracleVersion: string;
  goModuleVersion?: string;
  details?: Record<string, string>;
}

function targetInfo(t: CompareTarget, details?: Record<string, string>): TargetInfo {
  return {
    label: t.label,
    oracleVersion: t.oracleVersion,
    ...(t.pin ? { goModuleVersion: t.pin.goModuleVersion } : {}),
    ...(details ? { details } : {}),
  };
}

export function toDocument(
  lane: CompareLane,
  from: CompareTarget,
  to: CompareTarget,
  c: Comparison,
  details: { from?: Record<string, string>; to?: Record<string, string> } = {},
): CompareDocument {
  const n = (s: Change['status']) => c.changes.filter((x) => x.status === s).length;
  const counts = {
    changes: c.changes.filter((x) => x.status !== 'missing').length,
    explained: n('explained'),
    unexplained: n('unexplained'),
    missing: n('missing'),
    errors: c.errors.length,
  };
  return {
    lane,
    from: targetInfo(from, details.from),
    to: targetInfo(to, details.to),
    probes: c.probes,
    ok: counts.unexplained === 0 && counts.missing === 0 && counts.errors === 0,
    counts,
    changes: c.changes.map((x) => ({
      id: x.id,
      status: x.status,
      from: x.from,
      to: x.to,
      rule: x.status === 'explained' && x.rules[0] ? x.rules[0] : 'UNEXPLAINED',
      rules: x.rules,
      predicted: x.predicted,
      ...(x.note ? { note: x.note } : {}),
    })),
    errors: c.errors,
    steadyDisagreements: c.steadyDisagreements,
    gates: c.gates.map((g) => ({
      id: g.id,
      since: g.since,
      effect: `${g.title}: before, ${g.before}; since, ${g.after}`,
      upstream: g.upstream,
    })),
  };
}

const ans = (a: { verdict: string; cluster: string }) => `${a.verdict} ${a.cluster}`;

function ruleCell(x: CompareDocument['changes'][number]): string {
  if (x.status === 'missing') return `MISSING (predicted by ${x.rules.map((r) => r.id).join(' + ') || '?'})`;
  if (x.rule === 'UNEXPLAINED') return 'UNEXPLAINED';
  return x.rules.map((r) => `${r.id} (${r.upstream.split(' ')[0]})`).join(' + ');
}

export function summaryLine(d: CompareDocument): string {
  const c = d.counts;
  return `${d.from.label} → ${d.to.label} on the ${d.lane} lane: ${d.probes} probes, ${c.changes} changed (${c.explained} explained, ${c.unexplained} unexplained), ${c.missing} predicted changes missing, ${c.errors} errors`;
}

export function renderTerminal(d: CompareDocument): string {
  const lines = [summaryLine(d)];
  if (d.changes.length) {
    lines.push(
      '',
      renderTable(
        ['#', 'PROBE', d.from.label, d.to.label, 'RULE'],
        d.changes.map((x, i) => [String(i + 1), x.id, ans(x.from), ans(x.to), ruleCell(x)]),
      ),
    );
    const rules = new Map<string, RuleRef>();
    for (const x of d.changes) for (const r of x.rules) rules.set(r.id, r);
    if (rules.size) {
      lines.push('', 'Rules:');
      for (const r of rules.values()) lines.push(`  ${r.id} (since ${r.since}, ${r.upstream}): ${r.effect}`);
    }
    const notes = d.changes.map((x, i) => (x.note ? `  ${i + 1}. ${x.note}` : '')).filter(Boolean);
    if (notes.length) lines.push('', 'Not explained by the oracle:', ...notes);
  }
  if (d.errors.length)
    lines.push(
      '',
      `Errors (${d.errors.length}):`,
      ...d.errors.slice(0, 20).map((e) => `  ${e.id} [${e.side}]: ${e.error}`),
      ...(d.errors.length > 20 ? [`  … ${d.errors.length - 20} more in the JSON report`] : []),
    );
  return lines.join('\n');
}

const md = (s: string) => s.replaceAll('|', '\\|');

export function renderMarkdown(d: CompareDocument): string {
  const out = [
    `## Upgrade check: ${md(d.from.label)} → ${md(d.to.label)}`,
    '',
    `${d.ok ? '✅' : '❌'} ${md(summaryLine(d))}.`,
    '',
    `| | from | to |`,
    `|---|---|---|`,
    `| build | ${md(d.from.label)} | ${md(d.to.label)} |`,
    `| oracle rules of | ${d.from.oracleVersion} | ${d.to.oracleVersion} |`,
    ...(d.from.goModuleVersion ? [`| istio.io/istio | ${d.from.goModuleVersion} | ${d.to.goModuleVersion ?? ''} |`] : []),
    '',
  ];
  if (d.gates.length) {
    out.push('Version-gated rules between the two:', '');
    for (const g of d.gates) out.push(`- **${g.id}** (since ${g.since}, ${md(g.upstream)}): ${md(g.effect)}`);
    out.push('');
  }
  if (d.changes.length) {
    out.push('| # | probe | before | after | rule |', '|---|---|---|---|---|');
    d.changes.forEach((x, i) =>
      out.push(
        `| ${i + 1} | \`${md(x.id)}\` | ${md(ans(x.from))} | ${md(ans(x.to))} | ${md(ruleCell(x))}${x.note ? ` — ${md(x.note)}` : ''} |`,
      ),
    );
    out.push('');
  } else out.push('No probe changes its verdict or cluster.', '');
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
  return out.join('\n');
}
