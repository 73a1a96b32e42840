// Test support for the lab command tests: one real warm stack per test file (started as `egress-conformance
// up` starts it, or left to `lab start`), the candidate's real kubectl, and a sure end for every stack a
// test file started: in afterAll, and on the worker's exit when afterAll never ran (a timeout kill), since
// the stack is detached on purpose and would outlive the worker.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runUp } from '../../scripts/commands/up.ts';
import { ControlPlaneLane, type LaneState } from '../lanes/control-plane/lane.ts';
import { controlPlaneMissing } from '../lanes/control-plane/requirements.ts';
import { clearCurrent, readCurrent } from '../labs/live.ts';
import { chooseKubectl } from '../labs/kubectl.ts';
import { stateDir } from '../labs/progress.ts';
import { labInstall, labStop } from '../labs/session.ts';
import type { IO } from '../labs/deps.ts';
import { EnvironmentError } from '../model/errors.ts';
import { endRecordedProcesses, readWarm, removeWarm } from '../stack/warm.ts';

export interface LabStack {
  dir: string;
  /** The process environment with this file's own XDG state (the warm stack's record and the labs' state). */
  env: NodeJS.ProcessEnv;
  /** Why the stack cannot run here (a pinned tool not built); empty when it can. */
  missing: string;
}

const quiet: IO = { out: () => {}, err: () => {} };

/** A temp XDG state for one test file; the stack is ended on the worker's exit whatever happens. */
export function labStackEnv(prefix: string): LabStack {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(dir, 'state') };
  process.once('exit', () => endWarmSync(env));
  return { dir, env, missing: controlPlaneMissing(env) ?? '' };
}

/** `egress-conformance up` in this file's state; an EnvironmentError becomes the reason tests skip. */
export async function upForTests(s: LabStack): Promise<void> {
  if (s.missing) return;
  try {
    const code = await runUp({}, quiet, s.env);
    if (code !== 0) throw new Error(`egress-conformance up exited ${code}`);
  } catch (e) {
    if (!(e instanceof EnvironmentError)) throw e;
    s.missing = e.message;
  }
}

/**
 * Ends the warm stack recorded in `env` without awaiting anything ('exit' handlers run synchronously): the
 * lane's own stop (istiod, the kwok cluster), then any recorded pid still running its recorded program.
 */
export function endWarmSync(env: NodeJS.ProcessEnv): void {
  const rec = readWarm(env);
  if (!rec) return;
  try {
    ControlPlaneLane.stopRecorded(rec.providerState as LaneState);
  } catch {
    // a part already gone: the pids below are ended one by one
  }
  endRecordedProcesses(rec);
  removeWarm(env);
}

/** For afterAll: the running lab stopped as a candidate stops it, then the stack ended, then the files. */
export async function endLabStack(s: LabStack): Promise<void> {
  try {
    if (!s.missing && readCurrent(s.env)) await labStop({ io: quiet, env: s.env });
  } finally {
    endWarmSync(s.env);
    rmSync(s.dir, { recursive: true, force: true });
  }
}

/**
 * Between tests: no lab running and no lab history (attempts, exams, the current-lab record), the warm
 * stack left as it is, so each test starts as a candidate's first command would.
 */
export async function freshLabState(s: LabStack): Promise<void> {
  if (readCurrent(s.env)) await labStop({ io: quiet, env: s.env });
  clearCurrent(s.env);
  const d = stateDir(s.env);
  if (!existsSync(d)) return;
  for (const f of readdirSync(d)) if (f !== 'stack' && f !== 'bin') rmSync(join(d, f), { recursive: true, force: true });
}

/** The kubectl a candidate is told to use, run against the running lab's API server. */
export async function kubectl(s: LabStack, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const current = readCurrent(s.env);
  if (!current) throw new Error('kubectl with no lab running');
  const k = await chooseKubectl(join(stateDir(s.env), 'bin'), { env: s.env });
  const r = await execa(k.path, args, { env: { ...s.env, KUBECONFIG: current.kubeconfig }, reject: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The Istio objects in the lab's cluster that are not the stack's own, as `kind namespace/name`, sorted. */
export async function labObjects(s: LabStack): Promise<string[]> {
  const r = await kubectl(s, [
    'get',
    'serviceentries.networking.istio.io,sidecars.networking.istio.io',
    '-A',
    '-l',
    '!egress-conformance.io/run',
    '-o',
    'jsonpath={range .items[*]}{.kind} {.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
  ]);
  if (r.exitCode !== 0) throw new Error(`kubectl get: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/**
 * An answer file applied as a candidate applies it: its IstioOperator with `lab install -f`, the rest
 * with `kubectl apply -f`.
 */
export async function answer(s: LabStack, file: string, io: IO = quiet): Promise<void> {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toString())
    .filter((t) => t.trim() && !/^\s*#[^\n]*\s*$/.test(t));
  const isOperator = (t: string) => /kind:\s*IstioOperator/.test(t);
  const put = (name: string, parts: string[]) => {
    const p = join(s.dir, `${Math.random().toString(36).slice(2)}-${name}`);
    writeFileSync(p, parts.join('---\n'));
    return p;
  };
  const operator = docs.filter(isOperator);
  const rest = docs.filter((t) => !isOperator(t));
  if (operator.length) {
    const code = await labInstall({ file: [put('operator.yaml', operator)] }, { io, env: s.env });
    if (code !== 0) throw new Error(`lab install -f ${file} exited ${code}`);
  }
  if (rest.length) {
    const r = await kubectl(s, ['apply', '-f', put('resources.yaml', rest)]);
    if (r.exitCode !== 0) throw new Error(`kubectl apply -f ${file}: ${r.stderr}`);
  }
}

/**
 * The hooks of a describe block whose tests share this file's warm stack: `up` before them, the stack ended
 * after them, and before each a candidate's fresh state, then `reset` for the test's own output buffers.
 */
export function onWarmStack(s: LabStack, reset: () => void): void {
  beforeAll(() => upForTests(s), 300_000);
  afterAll(() => endLabStack(s));
  beforeEach(async () => {
    if (!s.missing) await freshLabState(s);
    reset();
  });
}
