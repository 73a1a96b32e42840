// Every lab on the live stack, as a candidate works: `lab start`, the answer applied with the real kubectl
// (an IstioOperator with `lab install -f`, the lab's istioctl install), `lab check` graded by the real
// istiod. The reference solution passes, the starting state does not, and every wrong answer fails with
// a reason. Skipped, with the reason, where the stack cannot start (a binary not built).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import pRetry from 'p-retry';
import { loadLabs } from './load.ts';
import { readCurrent } from './live.ts';
import { isRecordedAlive, readWarm } from '../stack/warm.ts';
import type { LabDeps } from './deps.ts';
import { labCheck } from './check.ts';
import { labStart, labStop } from './session.ts';
import { answer as apply, endLabStack, labStackEnv } from '../testing/lab-stack.ts';

const labs = loadLabs().filter((l) => !l.needs); // a lab that needs what no lane observes is listed, never graded
// No `up` here: the first `lab start` finds no warm stack and starts one detached, as `up` would; the
// others reuse it; the last test's `lab stop` ends it.
const stack = labStackEnv('labs-live-');
const { env } = stack;
let out: string[] = [];
let err: string[] = [];
const deps = (): LabDeps => ({ io: { out: (s) => out.push(s), err: (s) => err.push(s) }, env });

beforeAll(() => {
  if (!stack.missing && !labs.length) throw new Error('no labs to start');
});
afterAll(() => endLabStack(stack));

async function answer(file: string): Promise<void> {
  await apply(stack, file, deps().io);
}

async function check(name: string): Promise<{ code: number; text: string }> {
  out = [];
  const code = await labCheck(name, {}, deps());
  return { code, text: out.join('\n') };
}

describe('labs on the live stack (lab start, kubectl apply, lab check)', () => {
  it.for(labs.map((l) => [l.name] as [string]))('%s', { timeout: 300_000 }, async ([name], ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const lab = labs.find((l) => l.name === name)!;
    err = [];
    const before = readWarm(env);
    expect(await labStart(name, deps())).toBe(0);
    expect(err.join('\n')).toMatch(
      before ? /lab: reusing the stack an earlier lab start left up/ : /lab: starting a local cluster \+ istiod .*detached/,
    );
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

  it('lab stop ends the stack lab start started: its own processes, its run dir, its warm-stack record', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const [lab] = labs;
    if (!readCurrent(env)) await labStart(lab!.name, deps());
    const rec = readWarm(env);
    expect(rec?.startedBy).toBe('lab start');
    expect(readCurrent(env)?.handle).toBe(rec!.runDir);
    expect(rec!.processes.every(isRecordedAlive)).toBe(true);
    expect(await labStop(deps())).toBe(0);
    await pRetry(
      () => {
        if (rec!.processes.some(isRecordedAlive)) throw new Error('a stack process is still alive');
      },
      { retries: 50, minTimeout: 100, maxTimeout: 100 },
    );
    expect(existsSync(rec!.runDir)).toBe(false);
    expect(readWarm(env)).toBeUndefined();
    expect(readCurrent(env)).toBeUndefined();
  });
});
