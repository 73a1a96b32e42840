// `lab exam`: the exam's shape by default (15 tasks across the domains, 120 minutes, 68 % to pass),
// each task on a live lab the candidate drives with kubectl, or answered with files (--files), graded
// on the real istiod either way. While the clock runs, setup's progress goes to a log file, not the screen.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { UserError } from '../model/errors.ts';
import { exitCodeFor, onInterrupt } from '../process/interrupt.ts';
import { applyFiles, type LabState, startState } from './apply.ts';
import { gradable } from './check.ts';
import { backendOf, fileGraderOf, type IO, type LabDeps } from './deps.ts';
import { type ExamIO, type ExamTask, runExam } from './exam.ts';
import type { FileGrader } from './file-grader.ts';
import type { LiveBackend, LiveLab } from './live.ts';
import { gradeLive, startLab, stopCurrent } from './live.ts';
import { type Lab, loadLabs } from './load.ts';
import { recordAttempt, recordExam, stateDir } from './progress.ts';
import { kubectlExports } from './session.ts';
import { startingState } from './show.ts';

function wholeNumber(v: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`${flag}: "${v}" must be a whole number from ${min} to ${max}`);
  return n;
}

/** stdin/stdout with a deadline: a line typed, or 'timeout' when the clock runs out. */
function terminalExamIO(io: IO): ExamIO & { close(): void } {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines: string[] = [];
  let waiting: ((l: string | 'eof') => void) | undefined;
  let closed = false;
  rl.on('line', (l) => {
    const answer = waiting;
    if (!answer) {
      lines.push(l);
      return;
    }
    waiting = undefined;
    answer(l);
  });
  rl.on('close', () => {
    closed = true;
    waiting?.('eof');
  });
  return {
    out: io.out,
    now: () => Date.now(),
    ask: (prompt, deadline) => {
      process.stdout.write(prompt);
      const queued = lines.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (closed) return Promise.resolve('eof');
      return new Promise((resolve) => {
        const t = setTimeout(
          () => {
            waiting = undefined;
            resolve('timeout');
          },
          Math.max(0, deadline - Date.now()),
        );
        waiting = (l) => {
          clearTimeout(t);
          resolve(l);
        };
      });
    },
    close: () => rl.close(),
  };
}

/** A task answered with files typed at the prompt; its state is kept when the candidate moves on. */
function fileTask(lab: Lab, grader: () => Promise<FileGrader>): ExamTask {
  let state: LabState = startState(lab);
  return {
    keepsWork: true,
    howToWork: () => [
      `No live cluster: write your YAML and type its path here to apply it (as kubectl apply -f would). Already in the cluster: ${startingState(lab).join(', ') || 'nothing'}.`,
    ],
    enter: async () => {},
    input: async (line) => {
      try {
        state = applyFiles(state, line.split(/\s+/));
        return `applied ${line}`;
      } catch (e) {
        if (e instanceof UserError) return `refused: ${e.message}`;
        throw e;
      }
    },
    grade: async () => (await grader()).grade(lab, state),
  };
}

/** A task on the live stack: entering it starts its lab (the stack stays up between tasks). */
function liveTask(lab: Lab, backend: LiveBackend, quiet: (l: string) => void, d: LabDeps): ExamTask {
  let live: LiveLab | undefined;
  let exports: string[] = [];
  return {
    keepsWork: false,
    howToWork: () => [
      'In another terminal, work with kubectl (an IstioOperator: egress-conformance lab install -f FILE):',
      ...exports.map((l) => `  ${l}`),
    ],
    enter: async () => {
      live = await startLab(lab, backend, quiet, d.env);
      exports = await kubectlExports(live.kubeconfig, d, quiet);
    },
    grade: async () => {
      if (!live) throw new Error(`task ${lab.name} graded before it was entered`);
      return gradeLive(lab, live);
    },
  };
}

export async function labExam(
  flags: { minutes?: string; count?: string; files?: boolean; passMark?: string },
  d: LabDeps,
): Promise<number> {
  const labs = loadLabs().filter((l) => !l.needs);
  const count = wholeNumber(flags.count, '--count', Math.min(15, labs.length), 1, labs.length);
  const minutes = wholeNumber(flags.minutes, '--minutes', 120, 1, 600);
  const passMark = wholeNumber(flags.passMark, '--pass-mark', 68, 1, 100);
  for (const l of labs) gradable(l);
  // Setup's progress (stack start, Istio install, the kubectl choice) is kept out of the candidate's screen.
  mkdirSync(stateDir(d.env), { recursive: true });
  const log = join(stateDir(d.env), 'exam-setup.log');
  const quiet = (l: string) => appendFileSync(log, `${new Date().toISOString()} ${l}\n`);
  d.io.err(`setting up (progress in ${log}); the clock starts with the first task`);
  let backend: LiveBackend | undefined;
  let grader: Promise<FileGrader> | undefined;
  if (flags.files) grader = fileGraderOf(d, quiet);
  else backend = await backendOf(d);
  if (grader) await grader; // the lane is up before the clock starts
  const io = d.examIO ?? terminalExamIO(d.io);
  // Ctrl-C (or a closed terminal) mid-exam: the running lab and the grading lane are stopped first.
  const cleanup = async () => {
    if (backend) await stopCurrent(backend, quiet, d.env);
    if (grader) await (await grader).close();
  };
  const unregister = onInterrupt(async (sig) => {
    await cleanup();
    d.io.err('exam interrupted; nothing recorded');
    process.exit(exitCodeFor(sig));
  });
  try {
    const { record } = await runExam(
      labs,
      { minutes, count, passMark, ...(d.random ? { random: d.random } : {}) },
      (lab) => (backend ? liveTask(lab, backend, quiet, d) : fileTask(lab, () => grader as Promise<FileGrader>)),
      io,
    );
    try {
      recordExam(record, d.env);
      for (const t of record.tasks.filter((x) => x.gradedBy))
        recordAttempt(
          {
            at: record.at,
            lab: t.lab,
            ...(t.domain ? { domain: t.domain } : {}),
            mode: 'exam',
            passed: t.passed,
            total: t.total,
            gradedBy: t.gradedBy as string,
          },
          d.env,
        );
    } catch (e) {
      d.io.err(`progress not saved (${stateDir(d.env)}: ${(e as Error).message})`);
    }
    return record.passed ? 0 : 1;
  } finally {
    unregister();
    (io as Partial<{ close(): void }>).close?.();
    await cleanup();
  }
}
