// Exam-practice labs (fixtures/labs/*.yaml): a task, a starting state, checks on behaviour, hints.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { BlockSignal, PolicyMode, ProbeSource, ProbeTarget, Verdict } from '../model/types.ts';
import { POLICY_MODES } from '../model/types.ts';
import { UserError } from '../model/errors.ts';
import { FIXTURES_DIR } from '../catalogue/load.ts';
import { parseProbeUrl } from '../probes/url.ts';

export const LABS_DIR = join(FIXTURES_DIR, 'labs');

export interface LabCheck {
  from: ProbeSource;
  to: ProbeTarget;
  want: Verdict;
  signal?: BlockSignal;
}

export interface Lab {
  name: string;
  title: string;
  policy: PolicyMode;
  task: string;
  /** Resource files (under fixtures/) present before the learner's. */
  start: string[];
  checks: LabCheck[];
  hints: string[];
  /** Path of the reference solution (under fixtures/labs/). */
  solution: string;
  file: string;
}

type Obj = Record<string, unknown>;

function parseLab(file: string): Lab {
  const bad = (what: string): never => {
    throw new UserError(`${file}: ${what}`);
  };
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    bad(`not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!parsed || typeof parsed !== 'object') bad('a lab is a mapping with name, task and checks');
  const doc = parsed as Obj;
  if (typeof doc.name !== 'string' || typeof doc.task !== 'string') bad('a lab needs name and task');
  if (!POLICY_MODES.includes(doc.policy as PolicyMode)) bad('policy must be ALLOW_ANY or REGISTRY_ONLY');
  const checks = (doc.checks ?? []) as Obj[];
  if (!Array.isArray(checks) || checks.length === 0) bad('checks must be a non-empty list');
  return {
    name: doc.name as string,
    title: String(doc.title ?? doc.name),
    policy: doc.policy as PolicyMode,
    task: (doc.task as string).trim(),
    start: (doc.start ?? []) as string[],
    checks: checks.map((c, i) => {
      const [want, signal, ...rest] = String(c.want ?? '').split(/\s+/);
      if ((want !== 'allowed' && want !== 'blocked') || rest.length || (signal && want !== 'blocked') || (signal && signal !== 'http-502' && signal !== 'tcp-close')) {
        bad(`checks[${i}].want must be allowed, blocked, "blocked http-502" or "blocked tcp-close"`);
      }
      const from = typeof c.from === 'string' ? { namespace: c.from } : (c.from as ProbeSource);
      return { from, to: parseProbeUrl(String(c.to), `${file} checks[${i}].to`), want: want as Verdict, ...(signal ? { signal: signal as BlockSignal } : {}) };
    }),
    hints: ((doc.hints ?? []) as unknown[]).map(String),
    solution: String(doc.solution ?? ''),
    file,
  };
}

export function loadLabs(dir = LABS_DIR): Lab[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => parseLab(join(dir, f)));
}

export function findLab(name: string, dir = LABS_DIR): Lab {
  const labs = loadLabs(dir);
  const lab = labs.find((l) => l.name === name);
  if (!lab) throw new UserError(`lab "${name}" does not exist; labs: ${labs.map((l) => l.name).join(', ')}`);
  return lab;
}
