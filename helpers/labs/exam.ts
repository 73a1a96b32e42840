// A timed exam: a random set of labs, each started in turn, graded when the candidate says so (or when
// the clock runs out), a score in percent at the end with each task's result. The terminal, the clock
// and the way a task is started are passed in, so the same loop runs on a live cluster, on files, and
// in tests.
import type { Lab } from './load.ts';
import type { LabGrade } from './grade.ts';
import { percent } from './render.ts';
import type { ExamRecord } from './progress.ts';

/** A started task: what to tell the candidate, how to take an answer and how to grade. */
export interface ExamTask {
  /** Lines after the task text: where to work (export KUBECONFIG=…, or "type a file path"). */
  howToWork: string[];
  /** A line the candidate typed that is not a command (a file to apply, in file mode). Returns a reply. */
  input?(line: string): Promise<string>;
  grade(): Promise<LabGrade>;
  /** Tears the task down (a live lab's cluster stays for the next task; files are dropped). */
  end(): Promise<void>;
}

export interface ExamIO {
  out(line: string): void;
  /**
   * Waits for one line from the candidate, or resolves 'timeout' at `deadline` (ms since the epoch).
   * 'eof' when input is closed.
   */
  ask(prompt: string, deadline: number): Promise<string | 'timeout' | 'eof'>;
  now(): number;
}

export interface ExamOptions {
  minutes: number;
  count: number;
  /** Deterministic choice for tests; Math.random otherwise. */
  random?: () => number;
}

export interface TaskResult {
  lab: string;
  title: string;
  grade?: LabGrade;
  skipped: boolean;
}

/** `count` distinct labs in random order (Fisher-Yates on a copy). */
export function pickLabs(labs: Lab[], count: number, random: () => number = Math.random): Lab[] {
  const pool = [...labs];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    // i and j are both within [0, pool.length).
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, Math.min(count, pool.length));
}

export function clock(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const HELP = 'Enter: grade this task and go on · s: skip · q: grade this task and end the exam';

export async function runExam(
  labs: Lab[],
  opts: ExamOptions,
  startTask: (lab: Lab) => Promise<ExamTask>,
  io: ExamIO,
): Promise<{ results: TaskResult[]; record: ExamRecord }> {
  const say = (...lines: string[]) => lines.forEach((l) => io.out(l));
  const chosen = pickLabs(labs, opts.count, opts.random);
  const began = io.now();
  let deadline = began + opts.minutes * 60_000;
  io.out(`Exam: ${chosen.length} tasks, ${opts.minutes} minutes. A task counts when every one of its checks passes.`);
  const results: TaskResult[] = chosen.map((l) => ({ lab: l.name, title: l.title, skipped: true }));
  let over = false;
  for (let i = 0; i < chosen.length && !over; i++) {
    const lab = chosen[i]!; // i < chosen.length (loop condition)
    if (io.now() >= deadline) {
      say('', 'Time is up.');
      break;
    }
    say('', `── Task ${i + 1}/${chosen.length}: ${lab.title}  (${clock(deadline - io.now())} left) ──`, '', lab.task, '');
    // Setting a task up (a cluster starting) is not the candidate's time: the clock waits for it.
    const setupStarted = io.now();
    const task = await startTask(lab);
    deadline += io.now() - setupStarted;
    try {
      for (const l of task.howToWork) io.out(l);
      io.out(HELP);
      for (;;) {
        const answer = await io.ask(`[task ${i + 1}/${chosen.length}, ${clock(deadline - io.now())} left] > `, deadline);
        if (answer === 'timeout' || answer === 'eof' || answer.trim() === '' || answer.trim() === 'q') {
          if (answer === 'timeout') say('', 'Time is up: this task is graded as it stands.');
          const grade = await task.grade();
          results[i] = { lab: lab.name, title: lab.title, grade, skipped: false };
          io.out(`${grade.passed ? 'solved' : 'not solved'}: ${grade.score.passed}/${grade.score.total} checks`);
          over = answer !== '' && answer.trim() !== '';
          break;
        }
        if (answer.trim() === 's') {
          io.out('skipped');
          break;
        }
        io.out(task.input ? await task.input(answer.trim()) : `not a command: ${HELP}`);
      }
    } finally {
      await task.end();
    }
  }
  const solved = results.filter((r) => r.grade?.passed).length;
  const score = percent(solved, chosen.length);
  say('', 'Result', '');
  results.forEach((r, i) => {
    const how = r.grade
      ? `${r.grade.passed ? 'solved    ' : 'not solved'} ${r.grade.score.passed}/${r.grade.score.total} checks`
      : 'skipped   ';
    io.out(`  ${i + 1}. ${how}  ${r.lab}: ${r.title}`);
  });
  // Minutes of the candidate's own time: setup time was added to the deadline, so it is taken out here.
  const usedMinutes = Math.round(((opts.minutes * 60_000 - Math.max(0, deadline - io.now())) / 60_000) * 10) / 10;
  say('', `Score: ${score}% (${solved} of ${chosen.length} tasks solved) in ${usedMinutes} of ${opts.minutes} minutes`);
  const unsolved = results.filter((r) => !r.grade?.passed).map((r) => r.lab);
  if (unsolved.length) io.out(`Practise: ${unsolved.map((n) => `egress-conformance lab show ${n} --hints`).join('; ')}`);
  const record: ExamRecord = {
    at: new Date(began).toISOString(),
    minutes: opts.minutes,
    usedMinutes,
    percent: score,
    tasks: results.map((r) => ({
      lab: r.lab,
      solved: !!r.grade?.passed,
      passed: r.grade?.score.passed ?? 0,
      total: r.grade?.score.total ?? 0,
      ...(r.skipped ? { skipped: true } : {}),
    })),
  };
  return { results, record };
}
