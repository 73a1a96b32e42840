// Past attempts and exams, one JSON object per line under the user's XDG state directory
// (${XDG_STATE_HOME:-~/.local/state}/istio-egress-conformance/), so `lab progress` survives reboots and
// a half-written line (a crash) costs one record, not the file.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec: a relative XDG_STATE_HOME is invalid and must be ignored.
  const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'istio-egress-conformance');
}

export interface Attempt {
  at: string;
  lab: string;
  /** The lab's curriculum domain (absent in records written before domains existed). */
  domain?: string;
  /** file: `lab check -f`; live: a started lab; exam: a task of an exam. */
  mode: 'file' | 'live' | 'exam';
  passed: number;
  total: number;
  gradedBy: string;
}

export interface ExamRecord {
  at: string;
  minutes: number;
  /** Minutes actually used (the clock may have run out). */
  usedMinutes: number;
  percent: number;
  passMark?: number;
  passed?: boolean;
  tasks: {
    lab: string;
    domain?: string;
    solved: boolean;
    passed: number;
    total: number;
    percent?: number;
    /** Who graded the task ("istiod 1.…"); absent when it was not answered. */
    gradedBy?: string;
    skipped?: boolean;
  }[];
}

const ATTEMPTS = 'attempts.jsonl';
const EXAMS = 'exams.jsonl';

function append(file: string, record: object, env: NodeJS.ProcessEnv): void {
  const dir = stateDir(env);
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, file), `${JSON.stringify(record)}\n`);
}

function readLines<T>(file: string, env: NodeJS.ProcessEnv): T[] {
  const p = join(stateDir(env), file);
  if (!existsSync(p)) return [];
  const out: T[] = [];
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line cut short by a crash: skip it
    }
  }
  return out;
}

export function recordAttempt(a: Attempt, env: NodeJS.ProcessEnv = process.env): void {
  append(ATTEMPTS, a, env);
}

export function recordExam(e: ExamRecord, env: NodeJS.ProcessEnv = process.env): void {
  append(EXAMS, e, env);
}

export function readAttempts(env: NodeJS.ProcessEnv = process.env): Attempt[] {
  return readLines<Attempt>(ATTEMPTS, env);
}

export function readExams(env: NodeJS.ProcessEnv = process.env): ExamRecord[] {
  return readLines<ExamRecord>(EXAMS, env);
}

export interface LabProgress {
  lab: string;
  attempts: number;
  solved: boolean;
  best: { passed: number; total: number } | undefined;
  last: string | undefined;
}

/** Per lab (in the given order): attempts, solved ever, best score, last attempt time. */
export function summarise(labs: string[], attempts: Attempt[]): LabProgress[] {
  return labs.map((lab) => {
    const mine = attempts.filter((a) => a.lab === lab);
    const best = mine.reduce<Attempt | undefined>((b, a) => (!b || a.passed / a.total > b.passed / b.total ? a : b), undefined);
    return {
      lab,
      attempts: mine.length,
      solved: mine.some((a) => a.passed === a.total),
      best: best ? { passed: best.passed, total: best.total } : undefined,
      last: mine.at(-1)?.at,
    };
  });
}
