// Grades a learner's resources for a lab by behaviour: every check is a probe, observed on a lane (the
// real istiod where it can run) or, failing that, answered by the oracle. The learner's YAML is loaded
// with the same admission checks as everything else, so a resource Istio would reject fails the lab.
import { resolve } from 'node:path';
import type { BlockSignal, Verdict } from '../model/types.ts';
import type { Lane } from '../lanes/lane.ts';
import { loadResourceFiles } from '../istio/load.ts';
import { FIXTURES_DIR } from '../catalogue/load.ts';
import { expectProbe } from '../oracle/index.ts';
import type { Lab, LabCheck } from './load.ts';

export interface CheckResult {
  check: LabCheck;
  got: Verdict | 'error';
  signal?: BlockSignal;
  pass: boolean;
  detail: string;
}

export interface LabGrade {
  lab: string;
  gradedBy: string;
  results: CheckResult[];
  passed: boolean;
}

function judgeCheck(check: LabCheck, got: Verdict | 'error', signal: BlockSignal | undefined, detail: string): CheckResult {
  const pass = got === check.want && (!check.signal || check.signal === signal);
  return { check, got, ...(signal ? { signal } : {}), pass, detail };
}

/**
 * `lane`: a lane that is set up (the caller owns its lifetime), or `oracle` with the Istio version
 * whose rules apply.
 */
export async function gradeLab(lab: Lab, files: string[], grader: { lane: Lane; name: string } | { oracle: string }): Promise<LabGrade> {
  const resources = loadResourceFiles([...lab.start.map((f) => resolve(FIXTURES_DIR, f)), ...files]);
  const results: CheckResult[] = [];
  if ('oracle' in grader) {
    for (const check of lab.checks) {
      const e = expectProbe(resources, { from: check.from, to: check.to }, { istioVersion: grader.oracle, policy: lab.policy });
      results.push(judgeCheck(check, e.verdict, e.signal, e.reason));
    }
    return { lab: lab.name, gradedBy: `oracle (Istio ${grader.oracle} rules)`, results, passed: results.every((r) => r.pass) };
  }
  const handle = await grader.lane.applyScenario(`lab-${lab.name}`, lab.policy, resources);
  try {
    for (const check of lab.checks) {
      const o = await grader.lane.observe(handle, { from: check.from, to: check.to });
      results.push(judgeCheck(check, o.verdict, o.signal, o.error ?? `${o.cluster ?? ''}`));
    }
  } finally {
    await grader.lane.clearScenario(handle);
  }
  return { lab: lab.name, gradedBy: grader.name, results, passed: results.every((r) => r.pass) };
}
