// What the lab commands need from outside: a terminal, the environment (whose XDG state holds the warm
// stack's record and the labs' own), and the exam's terminal and draw. The CLI passes the real ones.
import { relative } from 'node:path';
import type { ExamIO } from './exam.ts';
import type { FileGrader } from './file-grader.ts';
import type { LiveBackend } from './live.ts';

export type IO = { out: (s: string) => void; err: (s: string) => void };

export interface LabDeps {
  io: IO;
  env?: NodeJS.ProcessEnv;
  /** The live-lab backend; the warm stack (stack.ts) unless a test must see that none is reached. */
  backend?: () => Promise<LiveBackend>;
  /** Exam terminal; defaults to stdin/stdout with a deadline. */
  examIO?: ExamIO;
  /** The exam's draw; Math.random by default. */
  random?: () => number;
}

export async function backendOf(d: LabDeps): Promise<LiveBackend> {
  if (d.backend) return d.backend();
  const { stackBackend } = await import('./stack.ts');
  return stackBackend({ env: d.env ?? process.env });
}

export async function fileGraderOf(d: LabDeps, say: (line: string) => void): Promise<FileGrader> {
  const { openLaneGrader } = await import('./file-grader.ts');
  return openLaneGrader(say, d.env);
}

export const fixturePath = (p: string): string => relative(process.cwd(), p) || p;
