// `lab check`: grades the running lab (after `lab start`) or files applied over the lab's starting state,
// always on the real istiod, and records the attempt with the grader that graded it.
import { UserError } from '../model/errors.ts';
import { applyFiles, startState } from './apply.ts';
import { type LabDeps, backendOf, fileGraderOf } from './deps.ts';
import type { LabGrade } from './grade.ts';
import { attachCurrent, gradeLive, readCurrent } from './live.ts';
import { findLab, type Lab } from './load.ts';
import { recordAttempt, stateDir } from './progress.ts';
import { renderGrade } from './render.ts';

export function recordGrade(lab: Lab, g: LabGrade, mode: 'file' | 'live', d: LabDeps): void {
  try {
    recordAttempt(
      {
        at: new Date().toISOString(),
        lab: lab.name,
        domain: lab.domain,
        mode,
        passed: g.score.passed,
        total: g.score.total,
        gradedBy: g.gradedBy,
      },
      d.env,
    );
  } catch (e) {
    d.io.err(`progress not saved (${stateDir(d.env)}: ${(e as Error).message})`);
  }
}

export function gradable(lab: Lab): void {
  if (lab.needs) throw new UserError(`lab ${lab.name} cannot be graded yet: it needs ${lab.needs}, which no lane observes yet`);
}

export async function labCheck(name: string, flags: { file?: string[] }, d: LabDeps): Promise<number> {
  const lab = findLab(name);
  gradable(lab);
  let grade: LabGrade;
  let mode: 'file' | 'live';
  if (flags.file?.length) {
    const state = applyFiles(startState(lab), flags.file);
    const grader = await fileGraderOf(d, d.io.err);
    try {
      d.io.err(`grading on ${grader.name}: the real istiod decides`);
      grade = await grader.grade(lab, state);
    } finally {
      await grader.close();
    }
    mode = 'file';
  } else {
    const current = readCurrent(d.env);
    if (!current)
      throw new UserError(
        `no lab is running: \`egress-conformance lab start ${name}\` and work with kubectl, or grade a file with \`lab check ${name} -f FILE\``,
      );
    if (current.lab !== name)
      throw new UserError(
        `the running lab is ${current.lab}, not ${name}: \`lab check ${current.lab}\`, or \`lab start ${name}\` (this stops ${current.lab})`,
      );
    const { live } = await attachCurrent(await backendOf(d), d.env);
    grade = await gradeLive(lab, live);
    mode = 'live';
  }
  for (const l of renderGrade(lab, grade, { referee: true })) d.io.out(l);
  recordGrade(lab, grade, mode, d);
  return grade.passed ? 0 : 1;
}
