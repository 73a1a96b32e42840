// The comparison as JSON (`--json`, compare.json) and as a terminal table; Markdown is in markdown.ts.
import { renderTable } from '../report/table.ts';
import type { Answer, Change, Comparison, RuleRef } from './diff.ts';
import type { CompareLane, CompareTarget } from './targets.ts';

export interface CompareDocument {
  lane: CompareLane;
  from: TargetInfo;
  to: TargetInfo;
  probes: number;
  ok: boolean;
  counts: {
    changes: number;
    explained: number;
    unexplained: number;
    missing: number;
    errors: number;
    opened: number;
    closed: number;
    rerouted: number;
    unchanged: number;
  };
  /** Observed changes and predicted-but-missing ones. `rule` is the first rule behind it, or UNEXPLAINED. */
  changes: {
    id: string;
    status: Change['status'];
    direction?: Change['direction'];
    from: Answer;
    to: Answer;
    rule: RuleRef | 'UNEXPLAINED';
    rules: RuleRef[];
    predicted: Change['predicted'];
    note?: string;
  }[];
  errors: Comparison['errors'];
  steadyDisagreements: Comparison['steadyDisagreements'];
  gates: RuleRef[];
  /** Probe ids observed the same on both sides, in case order. */
  unchanged: string[];
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
  const towards = (d: Change['direction']) => c.changes.filter((x) => x.direction === d).length;
  const counts = {
    changes: c.changes.filter((x) => x.status !== 'missing').length,
    explained: n('explained'),
    unexplained: n('unexplained'),
    missing: n('missing'),
    errors: c.errors.length,
    opened: towards('opened'),
    closed: towards('closed'),
    rerouted: towards('rerouted'),
    unchanged: c.unchanged.length,
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
      ...(x.direction ? { direction: x.direction } : {}),
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
    unchanged: c.unchanged,
  };
}

/** The path, where there is one, starts at the sidecar's cluster, so it stands in for the cluster. */
export const ans = (a: Answer) => `${a.verdict} ${a.path ?? a.cluster}`;

export function ruleCell(x: CompareDocument['changes'][number]): string {
  if (x.status === 'missing') return `MISSING (predicted by ${x.rules.map((r) => r.id).join(' + ') || '?'})`;
  if (x.rule === 'UNEXPLAINED') return 'UNEXPLAINED';
  return x.rules.map((r) => `${r.id} (${r.upstream.split(' ')[0]})`).join(' + ');
}

/** OPENED shouts: egress that now gets out is what an upgrade review must not read past, explained or not. */
export function directionCell(x: CompareDocument['changes'][number]): string {
  if (!x.direction) return 'none observed';
  return x.direction === 'opened' ? 'OPENED' : x.direction;
}

export function summaryLine(d: CompareDocument): string {
  const c = d.counts;
  return `${d.from.label} → ${d.to.label} on the ${d.lane} lane: ${d.probes} probes, ${c.changes} changed (${c.opened} opened, ${c.closed} closed, ${c.rerouted} rerouted; ${c.explained} explained, ${c.unexplained} unexplained), ${c.missing} predicted changes missing, ${c.unchanged} unchanged, ${c.errors} errors`;
}

/** `POLICY/scenario` → the probes (`from→to`) of that scenario, in case order: a long list read by scenario. */
export function groupByScenario(ids: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const cut = id.indexOf('/', id.indexOf('/') + 1);
    const [head, probe] = cut < 0 ? ['', id] : [id.slice(0, cut), id.slice(cut + 1)];
    (groups.get(head) ?? groups.set(head, []).get(head)!).push(probe);
  }
  return groups;
}

export function renderTerminal(d: CompareDocument): string {
  const lines = [summaryLine(d)];
  if (d.changes.length) {
    lines.push(
      '',
      renderTable(
        ['#', 'PROBE', 'CHANGE', d.from.label, d.to.label, 'RULE'],
        d.changes.map((x, i) => [String(i + 1), x.id, directionCell(x), ans(x.from), ans(x.to), ruleCell(x)]),
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
  lines.push('', d.unchanged.length ? `Unchanged (${d.unchanged.length} probes):` : 'Unchanged: none');
  for (const [head, probes] of groupByScenario(d.unchanged)) lines.push(`  ${head}: ${probes.join(', ')}`);
  return lines.join('\n');
}
