// A timed exam in the shape of the real one: tasks drawn across the curriculum's domains by weight, a
// clock shown as time left, tasks taken in any order, a score per task (its share of passed checks) and
// in total (the mean), a pass mark, and at the end a review of every failed check. The terminal, the
// clock and how a task is set up are passed in, so one loop runs on a live cluster, on files, and in tests.
import { DOMAIN_TITLES } from './domains.ts';
import { drawExam } from './draw.ts';
import type { LabGrade } from './grade.ts';
import type { Lab } from './load.ts';
import type { ExamRecord } from './progress.ts';
import { percent, sourceLabel } from './render.ts';
import { describeConstraint } from './constraints.ts';

/** One task of the exam: how to work on it, how to enter it (set up its cluster) and how to grade it. */
export interface ExamTask {
  /** Lines after the task text: where to work (export KUBECONFIG=…, or "type a file path"). */
  howToWork(): string[];
  /** Called on every visit before the candidate works (a live lab's cluster is started here). */
  enter(): Promise<void>;
  /** A line the candidate typed that is not a command (a file to apply, in file mode). Returns a reply. */
  input?(line: string): Promise<string>;
  grade(): Promise<LabGrade>;
  /** Whether leaving and coming back keeps the candidate's work (files do; a live lab restarts). */
  keepsWork: boolean;
}

export interface ExamIO {
  out(line: string): void;
  /** One line from the candidate, or 'timeout' at `deadline` (ms since the epoch); 'eof' when input is closed. */
  ask(prompt: string, deadline: number): Promise<string | 'timeout' | 'eof'>;
  now(): number;
}

export interface ExamOptions {
  minutes: number;
  count: number;
  /** Percent of the total score needed to pass. */
  passMark: number;
  random?: () => number;
}

export interface TaskResult {
  lab: Lab;
  grade?: LabGrade;
  percent: number;
}

export function clock(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(s % 60).padStart(2, '0')}`;
}

const HELP = 'Enter: next task · N or "g N": go to task N · l: list tasks · end: finish the exam (work is graded when you leave a task)';

const taskPercent = (g: LabGrade | undefined) => (g ? percent(g.score.passed, g.score.total) : 0);

/** Each failed check of each task not fully solved, for the review at the end. */
export function review(results: TaskResult[]): string[] {
  const lines: string[] = [];
  results.forEach((r, i) => {
    if (r.grade?.passed) return;
    lines.push(`  Task ${i + 1}, ${r.lab.name} (${r.percent}%):`);
    if (!r.grade) {
      lines.push('    not answered');
      return;
    }
    for (const c of r.grade.results.filter((x) => !x.pass)) {
      const want = `${c.check.want}${c.check.signal ? ` (${c.check.signal})` : ''}${c.check.cluster ? ` via ${c.check.cluster}` : ''}`;
      lines.push(
        `    - from ${sourceLabel(c.check.from)} to ${c.check.to.raw}: expected ${want}, got ${c.got} via ${c.cluster ?? '?'}${c.failure ? ` [${c.failure.kind}]` : ''} (${c.check.because})`,
      );
    }
    for (const c of r.grade.constraints.filter((x) => !x.pass))
      lines.push(`    - ${describeConstraint(c.constraint)}: expected ${c.expected}, got ${c.got} (${c.constraint.because})`);
  });
  return lines;
}

export async function runExam(
  labs: Lab[],
  opts: ExamOptions,
  openTask: (lab: Lab, index: number) => ExamTask,
  io: ExamIO,
): Promise<{ results: TaskResult[]; record: ExamRecord }> {
  const say = (...lines: string[]) => {
    for (const l of lines) io.out(l);
  };
  const chosen = drawExam(labs, opts.count, opts.random);
  const tasks = chosen.map((l, i) => openTask(l, i));
  const grades: (LabGrade | undefined)[] = chosen.map(() => undefined);
  const began = io.now();
  let deadline = began + opts.minutes * 60_000;
  const list = () => chosen.map((l, i) => `  ${i + 1}. [${DOMAIN_TITLES[l.domain]}] ${l.title}${grades[i] ? '  (answered)' : ''}`);
  say(
    `Exam: ${chosen.length} tasks, ${opts.minutes} minutes, pass mark ${opts.passMark}%. Take them in any order; each scores its share of passed checks.`,
    ...list(),
  );
  let current = 0;
  let over = false;
  while (!over) {
    const lab = chosen[current] as Lab;
    const task = tasks[current] as ExamTask;
    say('', `── Task ${current + 1}/${chosen.length}: ${lab.title}  (${clock(deadline - io.now())} left) ──`, '', lab.task, '');
    if (grades[current] && !task.keepsWork)
      say('(this task restarts from its starting state; your earlier grade stands unless this one is better)');
    // Setting a task up (a cluster starting) is not the candidate's time: the clock waits for it.
    const setupStarted = io.now();
    await task.enter();
    deadline += io.now() - setupStarted;
    say(...task.howToWork(), HELP);
    let next = current;
    for (;;) {
      const answer = await io.ask(`[task ${current + 1}/${chosen.length}, ${clock(deadline - io.now())} left] > `, deadline);
      const a = answer === 'timeout' || answer === 'eof' ? answer : answer.trim();
      if (a === 'l') {
        say(...list());
        continue;
      }
      const go = /^(?:g\s*)?(\d+)$/.exec(a);
      if (go && (Number(go[1]) < 1 || Number(go[1]) > chosen.length)) {
        io.out(`no task ${go[1]}: 1 to ${chosen.length}`);
        continue;
      }
      if (a === '' || go || a === 'timeout' || a === 'eof' || a === 'end' || a === 'q') {
        if (a === 'timeout') say('', 'Time is up: this task is graded as it stands.');
        const g = await task.grade();
        const before = grades[current];
        grades[current] = !before || task.keepsWork || g.score.passed >= before.score.passed ? g : before;
        over = !(a === '' || go);
        next = go ? Number(go[1]) - 1 : (current + 1) % chosen.length;
        break;
      }
      io.out(task.input ? await task.input(a) : `not a command: ${HELP}`);
    }
    if (io.now() >= deadline && !over) {
      say('', 'Time is up.');
      over = true;
    }
    current = next;
  }
  const results: TaskResult[] = chosen.map((lab, i) => ({
    lab,
    ...(grades[i] ? { grade: grades[i] } : {}),
    percent: taskPercent(grades[i]),
  }));
  const total = results.length ? Math.round(results.reduce((n, r) => n + r.percent, 0) / results.length) : 0;
  const passed = total >= opts.passMark;
  say('', 'Result', '');
  results.forEach((r, i) => {
    const how = r.grade ? `${String(r.percent).padStart(3)}%  ${r.grade.score.passed}/${r.grade.score.total} checks` : '  0%  not answered';
    io.out(`  ${String(i + 1).padStart(2)}. ${how}  [${DOMAIN_TITLES[r.lab.domain]}] ${r.lab.name}`);
  });
  const usedMinutes = Math.round(((opts.minutes * 60_000 - Math.max(0, deadline - io.now())) / 60_000) * 10) / 10;
  say('', `Score: ${total}% (pass mark ${opts.passMark}%): ${passed ? 'PASS' : 'FAIL'}, in ${usedMinutes} of ${opts.minutes} minutes`);
  const failed = review(results);
  if (failed.length) say('', 'Review: the checks that failed', ...failed);
  const record: ExamRecord = {
    at: new Date(began).toISOString(),
    minutes: opts.minutes,
    usedMinutes,
    percent: total,
    passMark: opts.passMark,
    passed,
    tasks: results.map((r) => ({
      lab: r.lab.name,
      domain: r.lab.domain,
      solved: !!r.grade?.passed,
      passed: r.grade?.score.passed ?? 0,
      total: r.grade?.score.total ?? 0,
      percent: r.percent,
      ...(r.grade ? { gradedBy: r.grade.gradedBy } : { skipped: true }),
    })),
  };
  return { results, record };
}
