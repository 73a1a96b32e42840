// The warm stack's record and `down`: real processes stand in for the stack's servers (the live test
// below runs the real stack when the pinned tools are built); `down` ends exactly the recorded programs,
// removes the run dir and the record, and leaves a recycled pid (another program) alone.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDown } from '../../scripts/commands/down.ts';
import { runStatus } from '../../scripts/commands/status.ts';
import { runUp } from '../../scripts/commands/up.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { clearCurrent, writeCurrent } from '../labs/live.ts';
import { usableWarm } from './acquire.ts';
import { isUp, readWarm, type WarmRecord, warmFile, writeWarm } from './warm.ts';

const root = mkdtempSync(join(tmpdir(), 'iec-warm-'));
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone: what the tests wanted
    }
  }
  rmSync(root, { recursive: true, force: true });
});

const SLEEP = ['/usr/bin/sleep', '/bin/sleep'].find((p) => existsSync(p))!;

function sleeper(): { pid: number; name: string; binary: string } {
  const child = spawn(SLEEP, ['300'], { detached: true, stdio: 'ignore' });
  child.unref();
  started.push(child.pid!);
  return { pid: child.pid!, name: 'sleep', binary: SLEEP };
}

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie has ended; only its parent has not reaped it yet
  } catch {
    return false;
  }
};

function record(env: NodeJS.ProcessEnv, processes: WarmRecord['processes'], extra: Partial<WarmRecord> = {}): WarmRecord {
  const runDir = join(root, `run-${processes.map((p) => p.pid).join('-')}`);
  mkdirSync(join(runDir, 'etcd'), { recursive: true });
  const rec: WarmRecord = {
    format: 1,
    provider: 'control-plane-detached',
    build: { label: 'master-2026-08-27', goModuleVersion: 'v0.0.0-x', istioVersion: '1.32.0-alpha.x' },
    kubeconfig: join(runDir, 'kubeconfig'),
    runDir,
    endpoints: { 'kube-apiserver': 'https://127.0.0.1:1' },
    processes,
    baseMesh: {},
    startedAt: new Date().toISOString(),
    providerState: {},
    ...extra,
  };
  writeWarm(rec, env);
  return rec;
}

const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) } };
};

describe('the warm stack record', () => {
  it('round-trips, is up while every recorded program runs, and status prints builds, endpoints, uptime and pids', () => {
    const env = { XDG_STATE_HOME: join(root, 'a') };
    const rec = record(env, [sleeper(), sleeper()]);
    expect(readWarm(env)).toEqual(rec);
    expect(isUp(rec)).toBe(true);
    const o = io();
    expect(runStatus({}, o.io, env)).toBe(0);
    const text = o.out.join('\n');
    expect(text).toMatch(/warm stack: up/);
    expect(text).toMatch(/master-2026-08-27/);
    expect(text).toMatch(/kube-apiserver: +https:\/\/127\.0\.0\.1:1/);
    for (const p of rec.processes) expect(text).toContain(`sleep ${p.pid}`);
    expect(text).toMatch(/uptime: +\d+s/);
  });

  it('down ends every recorded process, removes the run dir and the record; nothing is left running', async () => {
    const env = { XDG_STATE_HOME: join(root, 'b') };
    const rec = record(env, [sleeper(), sleeper(), sleeper()]);
    const o = io();
    expect(await runDown({}, o.io, env)).toBe(0);
    for (const p of rec.processes) expect(alive(p.pid)).toBe(false);
    expect(existsSync(rec.runDir)).toBe(false);
    expect(existsSync(warmFile(env))).toBe(false);
    expect(o.err.join('\n')).toMatch(/down: stopped sleep \d+, sleep \d+, sleep \d+; removed /);
    // and then: nothing up, for status and for a second down
    expect(runStatus({}, io().io, env)).toBe(3);
    const again = io();
    expect(await runDown({}, again.io, env)).toBe(0);
    expect(again.err).toEqual(['down: no warm stack is up']);
  });

  it('its answer server: shown by status, ended by down, and the stack is up without it', async () => {
    const env = { XDG_STATE_HOME: join(root, 'd') };
    const server = { ...sleeper(), name: 'answer-server' };
    const rec = record(env, [sleeper()], { answerServer: { ...server, socket: '/nonexistent/answers.sock' } });
    const o = io();
    expect(runStatus({}, o.io, env)).toBe(0);
    expect(o.out.join('\n')).toContain(`answers:    /nonexistent/answers.sock (answer server ${server.pid})`);
    process.kill(server.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    expect(isUp(rec)).toBe(true);
    const revived = { ...sleeper(), name: 'answer-server' };
    record(env, rec.processes, { answerServer: { ...revived, socket: '/nonexistent/answers.sock' } });
    const down = io();
    expect(await runDown({}, down.io, env)).toBe(0);
    expect(alive(revived.pid)).toBe(false);
    expect(down.err.join('\n')).toContain(`answer-server ${revived.pid}`);
  });

  it('a dead part makes the stack not up; a pid now running another program is not killed', async () => {
    const env = { XDG_STATE_HOME: join(root, 'c') };
    const other = sleeper();
    const rec = record(env, [{ ...other, binary: '/usr/local/bin/kube-apiserver' }]);
    expect(isUp(rec)).toBe(false);
    const o = io();
    expect(runStatus({}, o.io, env)).toBe(3);
    expect(o.out[0]).toMatch(/NOT RUNNING/);
    expect(await runDown({}, io().io, env)).toBe(0);
    expect(alive(other.pid)).toBe(true);
    expect(readdirSync(join(root, 'c', 'istio-egress-conformance', 'stack'))).toEqual([]);
  });

  it('a stack lab start started: status says so, and `up` keeps it as its own (lab stop then leaves it up)', async () => {
    const env = { XDG_STATE_HOME: join(root, 'd') };
    const build = { label: PINNED_PILOT.label, goModuleVersion: PINNED_PILOT.goModuleVersion, istioVersion: PINNED_PILOT.istioVersion };
    const rec = record(env, [sleeper(), sleeper()], { build, startedBy: 'lab start' });
    const st = io();
    expect(runStatus({}, st.io, env)).toBe(0);
    expect(st.out.join('\n')).toMatch(/started by: lab start \(lab stop ends it/);
    const up = io();
    expect(await runUp({}, up.io, env)).toBe(0);
    expect(up.out).toEqual([`export KUBECONFIG=${rec.kubeconfig}`]);
    expect(up.err.join('\n')).toMatch(/the stack lab start started is up .*; it stays up after lab stop now/);
    const after = readWarm(env)!;
    expect(after.startedBy).toBeUndefined();
    expect(after.runDir).toBe(rec.runDir);
    for (const p of rec.processes) expect(alive(p.pid)).toBe(true);
    expect(await runDown({}, io().io, env)).toBe(0);
  });

  it("is not used by other commands while a lab runs on it (their scenarios would write over the lab's objects)", () => {
    const env = { XDG_STATE_HOME: join(root, 'e') };
    const build = { label: PINNED_PILOT.label, goModuleVersion: PINNED_PILOT.goModuleVersion, istioVersion: PINNED_PILOT.istioVersion };
    const rec = record(env, [sleeper()], { build });
    const said: string[] = [];
    const ask = () => usableWarm({ pin: PINNED_PILOT, say: (l) => said.push(l), env });
    expect(ask()?.runDir).toBe(rec.runDir);
    writeCurrent({ lab: 'api-over-http', startedAt: rec.startedAt, handle: rec.runDir, kubeconfig: rec.kubeconfig }, env);
    expect(ask()).toBeUndefined();
    expect(said).toEqual(['stack: lab api-over-http is running on the warm stack (`lab stop` ends it); starting a stack for this command']);
    // A lab recorded on another (older) stack does not hold this one.
    writeCurrent({ lab: 'api-over-http', startedAt: rec.startedAt, handle: join(root, 'gone'), kubeconfig: rec.kubeconfig }, env);
    expect(ask()?.runDir).toBe(rec.runDir);
    clearCurrent(env);
  });
});
