// Feedback that teaches: each failed check says what was expected (and what it stands for), what
// happened, the path the call took in the sidecar's config, and the oracle's reason; a pass shows the
// lab's explanation; both end with a score.
import type { Lab } from './load.ts';
import type { CheckResult, LabGrade } from './grade.ts';
import { describeConstraint } from './constraints.ts';
import { formatHop, formatPath } from '../model/hops.ts';
import type { Hop } from '../model/types.ts';

export function percent(passed: number, total: number): number {
  return total === 0 ? 0 : Math.round((100 * passed) / total);
}

function want(r: CheckResult): string {
  return `${r.check.want}${r.check.signal ? ` (${r.check.signal})` : ''}${r.check.cluster ? ` via ${r.check.cluster}` : ''}`;
}

function got(r: CheckResult): string {
  return `${r.got}${r.signal ? ` (${r.signal})` : ''}${r.check.cluster || r.got !== 'error' ? ` via ${r.cluster ?? '(no cluster seen)'}` : ''}`;
}

export function sourceLabel(from: CheckResult['check']['from']): string {
  const labels = Object.entries(from.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return labels.length ? `${from.namespace} (${labels.join(',')})` : from.namespace;
}

/** The whole report of one grading, as lines. */
export function renderGrade(lab: Lab, g: LabGrade, opts: { referee: boolean }): string[] {
  const lines: string[] = [`${lab.title} (${lab.name}), graded by ${g.gradedBy}`, ''];
  g.results.forEach((r, i) => {
    const head = `${i + 1}. from ${sourceLabel(r.check.from)} to ${r.check.to.raw}`;
    if (r.pass) {
      lines.push(`  ok    ${head}: ${got(r)}`);
      return;
    }
    lines.push(`  FAIL  ${head}`);
    lines.push(`          expected  ${want(r)}: ${r.check.because}`);
    lines.push(`          got       ${got(r)}${r.error ? `: ${r.error}` : ''}`);
    if (r.failure && r.failure.kind !== 'not observed') lines.push(`          reason    ${r.failure.kind}: ${r.failure.detail}`);
    if (r.check.via)
      lines.push(
        `          path      expected ${r.check.via.map((h) => formatHop(h as Hop, true)).join(' → ')}; got ${r.hops ? formatPath(r.hops) : '(no hops seen)'}`,
      );
    lines.push(`          ${opts.referee ? 'istiod  ' : 'path    '}  ${r.path}`);
    lines.push(`          hint      ${r.hint}`);
    lines.push(`          why       ${r.oracle.reason}`);
    if (r.oracleDisagrees) {
      lines.push(
        `          note      the oracle predicted ${r.oracle.verdict}${r.oracle.hops ? ` by ${formatPath(r.oracle.hops)}` : ''}; istiod's answer counts (a gap in the oracle: please report it)`,
      );
    }
  });
  g.constraints.forEach((c, i) => {
    const head = `${g.results.length + i + 1}. ${describeConstraint(c.constraint)}`;
    if (c.pass) {
      lines.push(`  ok    ${head}`);
      return;
    }
    lines.push(`  FAIL  ${head}`);
    lines.push(`          expected  ${c.expected}: ${c.constraint.because}`);
    lines.push(`          got       ${c.got}`);
    lines.push(`          where     ${c.path}`);
    lines.push(`          hint      ${c.hint}`);
  });
  if (g.notes.length) {
    lines.push('', 'Notes (what grading did not use, or used without the oracle modelling it):');
    for (const n of g.notes) lines.push(`  - ${n}`);
  }
  const { passed, total } = g.score;
  lines.push('', `Score: ${passed}/${total} checks (${percent(passed, total)}%)`);
  if (g.passed) {
    lines.push(`PASS: ${lab.name}`, '', 'Why it works:', ...lab.explanation.split('\n').map((l) => `  ${l}`));
  } else {
    lines.push(`NOT YET: ${total - passed} check(s) fail; \`egress-conformance lab show ${lab.name} --hints\` for hints`);
  }
  return lines;
}
