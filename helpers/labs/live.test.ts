// Every lab on the live stack, as a candidate works: `lab start`, the answer applied with the real kubectl
// (an IstioOperator with `lab install -f`, the lab's istioctl install), `lab check` graded by the real
// istiod. The reference solution passes, the starting state does not, and every wrong answer fails with
// a reason. Skipped, with the reason, where the stack cannot start (a binary not built).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import pRetry from 'p-retry';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { loadLabs } from './load.ts';
import { stateDir } from './progress.ts';
import { chooseKubectl, type KubectlChoice } from './kubectl.ts';
import { readCurrent, type LiveBackend } from './live.ts';
import { isRecordedAlive } from '../lanes/control-plane/process.ts';
import { ControlPlaneLane } from '../lanes/control-plane/lane.ts';
import { EnvironmentError } from '../model/errors.ts';
import type { LabDeps } from './deps.ts';
import { labCheck } from './check.ts';
import { labInstall, labStart, labStop } from './session.ts';

const labs = loadLabs().filter((l) => !l.needs); // the gateway labs wait for the lane to observe hops
const dir = mkdtempSync(join(tmpdir(), 'labs-live-'));
const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(dir, 'state') };
let out: string[] = [];
let backend: LiveBackend | undefined;
let missing = '';
let kubectl: KubectlChoice;
const deps = (): LabDeps => ({ io: { out: (s) => out.push(s), err: () => {} }, env, backend: async () => backend! });

beforeAll(async () => {
  try {
    const { stackBackend } = await import('./stack.ts');
    backend = await stackBackend({ env });
    kubectl = await chooseKubectl(join(stateDir(env), 'bin'), { env });
  } catch (e) {
    if (!(e instanceof EnvironmentError)) throw e;
    missing = e.message;
  }
}, 60_000);
// The stack is detached on purpose (it outlives a command); a test worker that ends without its afterAll
// (killed on a timeout) must not leave it behind, so its recorded pids are also ended on exit.
const stackFile = join(stateDir(env), 'lab', 'stack.json');
const endRecorded = () => {
  if (existsSync(stackFile)) ControlPlaneLane.stopRecorded(JSON.parse(readFileSync(stackFile, 'utf8')));
};
process.once('exit', endRecorded);
afterAll(async () => {
  if (backend && readCurrent(env)) await labStop(deps());
  endRecorded();
  rmSync(dir, { recursive: true, force: true });
});

/** An answer file split as a candidate applies it: the IstioOperator to lab install, the rest to kubectl. */
function split(file: string): { operator?: string; resources?: string } {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toString())
    .filter((t) => t.trim() && !/^\s*#[^\n]*\s*$/.test(t));
  const iop = docs.filter((t) => /kind:\s*IstioOperator/.test(t));
  const rest = docs.filter((t) => !/kind:\s*IstioOperator/.test(t));
  const put = (name: string, parts: string[]) => {
    if (!parts.length) return undefined;
    const p = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
    writeFileSync(p, parts.join('---\n'));
    return p;
  };
  return { operator: put('operator.yaml', iop), resources: put('resources.yaml', rest) };
}

async function answer(file: string): Promise<void> {
  const { operator, resources } = split(file);
  if (operator) expect(await labInstall({ file: [operator] }, deps())).toBe(0);
  if (resources) {
    const kubeconfig = JSON.parse(readFileSync(join(stateDir(env), 'current-lab.json'), 'utf8')).kubeconfig as string;
    const r = await execa(kubectl.path, ['apply', '-f', resources], {
      env: { ...env, KUBECONFIG: kubeconfig },
      reject: false,
      timeout: 60_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
  }
}

async function check(name: string): Promise<{ code: number; text: string }> {
  out = [];
  const code = await labCheck(name, {}, deps());
  return { code, text: out.join('\n') };
}

describe('labs on the live stack (lab start, kubectl apply, lab check)', () => {
  it.for(labs.map((l) => [l.name] as [string]))('%s', { timeout: 300_000 }, async ([name], ctx) => {
    if (missing) ctx.skip(`skipped: ${missing}`);
    const lab = labs.find((l) => l.name === name)!;
    expect(await labStart(name, deps())).toBe(0);
    const start = await check(name);
    expect(start.code, start.text).toBe(1);
    await answer(lab.solution);
    const solved = await check(name);
    expect(solved.code, solved.text).toBe(0);
    expect(solved.text).toContain('Why it works:');
    // One wrong answer per lab here (every wrong answer is graded on istiod in labs.test.ts, seconds each).
    for (const w of lab.wrong.slice(0, 1)) {
      expect(await labStart(name, deps())).toBe(0);
      await answer(w.file);
      const wrong = await check(name);
      expect(wrong.code, `${w.file}\n${wrong.text}`).toBe(1);
      expect(wrong.text).toMatch(/FAIL[\s\S]*expected[\s\S]*got[\s\S]*istiod {4}listener[\s\S]*why/);
    }
  });

  it("lab stop ends the stack's own processes and removes its run dir", async (ctx) => {
    if (missing) ctx.skip(`skipped: ${missing}`);
    const [lab] = labs;
    if (!lab) throw new Error('no labs to start');
    if (!readCurrent(env)) await labStart(lab.name, deps());
    const state = JSON.parse(readFileSync(join(stateDir(env), 'lab', 'stack.json'), 'utf8')) as {
      runDir: string;
      processes: { pid: number; binary: string }[];
    };
    expect(state.processes.every((p) => isRecordedAlive(p.pid, p.binary))).toBe(true);
    expect(await labStop(deps())).toBe(0);
    await pRetry(
      () => {
        if (state.processes.some((p) => isRecordedAlive(p.pid, p.binary))) throw new Error('a stack process is still alive');
      },
      { retries: 50, minTimeout: 100, maxTimeout: 100 },
    );
    expect(existsSync(state.runDir)).toBe(false);
    expect(readCurrent(env)).toBeUndefined();
  });
});
