// `lab progress`: per lab, per curriculum domain over time (each day's mean score), and past exams,
// each with the grader that graded it, so a score given by anything but the real istiod shows.
import { renderTable } from '../report/table.ts';
import type { LabDeps } from './deps.ts';
import { DOMAINS, DOMAIN_TITLES } from './domains.ts';
import { type Lab, loadLabs } from './load.ts';
import { type Attempt, readAttempts, readExams, stateDir, summarise } from './progress.ts';
import { percent } from './render.ts';

/** Per domain, each day's mean score (percent of checks passed) over its attempts, oldest first. */
export function domainsOverTime(labs: Lab[], attempts: Attempt[]): { domain: string; days: { day: string; percent: number }[] }[] {
  const domainOf = new Map(labs.map((l) => [l.name, l.domain as string]));
  return DOMAINS.map((domain) => {
    const byDay = new Map<string, number[]>();
    for (const a of attempts) {
      if ((a.domain ?? domainOf.get(a.lab)) !== domain || a.total === 0) continue;
      const day = a.at.slice(0, 10);
      byDay.set(day, [...(byDay.get(day) ?? []), percent(a.passed, a.total)]);
    }
    const days = [...byDay.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, ps]) => ({ day, percent: Math.round(ps.reduce((n, p) => n + p, 0) / ps.length) }));
    return { domain, days };
  });
}

export function labProgress(d: LabDeps): number {
  const labs = loadLabs();
  const attempts = readAttempts(d.env);
  const rows = summarise(
    labs.map((l) => l.name),
    attempts,
  );
  d.io.out(
    renderTable(
      ['LAB', 'ATTEMPTS', 'SOLVED', 'BEST', 'LAST', 'GRADED BY (LAST)'],
      rows.map((r) => [
        r.lab,
        String(r.attempts),
        r.solved ? 'yes' : r.attempts ? 'not yet' : '-',
        r.best ? `${r.best.passed}/${r.best.total}` : '-',
        r.last ?? '-',
        attempts.filter((a) => a.lab === r.lab).at(-1)?.gradedBy ?? '-',
      ]),
    ),
  );
  const solved = rows.filter((r) => r.solved).length;
  d.io.out(`\n${solved} of ${labs.length} labs solved\n\nBy domain (each day's mean score, oldest first):`);
  const over = domainsOverTime(labs, attempts);
  d.io.out(
    renderTable(
      ['DOMAIN', 'SOLVED', 'SCORES OVER TIME'],
      over.map((o) => {
        const mine = rows.filter((r) => labs.find((l) => l.name === r.lab)?.domain === o.domain);
        return [
          DOMAIN_TITLES[o.domain as (typeof DOMAINS)[number]],
          `${mine.filter((r) => r.solved).length}/${mine.length}`,
          o.days.map((x) => `${x.day} ${x.percent}%`).join(' → ') || '-',
        ];
      }),
    ),
  );
  const exams = readExams(d.env);
  if (exams.length) {
    d.io.out('\nExams:');
    d.io.out(
      renderTable(
        ['WHEN', 'SCORE', 'RESULT', 'TASKS SOLVED', 'MINUTES', 'GRADED BY'],
        exams.map((e) => [
          e.at,
          `${e.percent}%`,
          e.passMark === undefined ? '-' : `${e.passed ? 'pass' : 'fail'} (mark ${e.passMark}%)`,
          `${e.tasks.filter((t) => t.solved).length}/${e.tasks.length}`,
          `${e.usedMinutes}/${e.minutes}`,
          [...new Set(e.tasks.map((t) => t.gradedBy).filter(Boolean))].join(', ') || '-',
        ]),
      ),
    );
  }
  d.io.out(`\n(kept in ${stateDir(d.env)})`);
  return 0;
}
