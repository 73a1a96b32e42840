// lab start/check/stop/exam/progress through the command functions, on a simulated backend: a cluster
// held in memory, "kubectl apply" being applyFiles, verdicts from the oracle. The real stack's backend
// is tested in live.test.ts; this file tests the lab commands' own logic: the state file, a stale lab,
// grading a running lab, the exam's clock and score, progress under a temp XDG_STATE_HOME.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFiles, startState, type LabState } from './apply.ts';
import { findLab, loadLabs, type Lab } from './load.ts';
import { gradeState, oracleGrader, oracleObserver } from './grade.ts';
import type { LiveBackend, LiveLab } from './live.ts';
import type { ExamIO } from './exam.ts';
import { pickLabs, runExam } from './exam.ts';
import { LAB_ISTIO_VERSION } from './version.ts';
import { labCheck, labExam, labProgress, labStart, labStop, type LabDeps } from '../../scripts/commands/lab.ts';
import { UserError } from '../model/errors.ts';

class SimBackend implements LiveBackend {
  readonly running = new Map<string, { lab: Lab; state: LabState }>();
  readonly stopped: string[] = [];
  private n = 0;

  /** What `kubectl apply -f` does to the running cluster. */
  kubectlApply(files: string[]): void {
    const [running] = this.running.entries();
    if (!running) throw new Error('kubectl apply with no running lab');
    const [h, c] = running;
    this.running.set(h, { ...c, state: applyFiles(c.state, files) });
  }

  private liveOf(handle: string): LiveLab {
    return {
      kubeconfig: `/sim/${handle}/kubeconfig`,
      gradedBy: 'simulated istiod (oracle)',
      observe: (p) => oracleObserver(this.running.get(handle)!.state.resources, LAB_ISTIO_VERSION)(p),
      resources: async () => this.running.get(handle)!.state.resources,
      notes: async () => [],
    };
  }

  async start(lab: Lab) {
    // As the stack does: what an earlier start left behind is removed first.
    for (const h of [...this.running.keys()]) await this.stop(h);
    const handle = `run-${++this.n}`;
    this.running.set(handle, { lab, state: startState(lab) });
    return { live: this.liveOf(handle), handle };
  }

  async attach(handle: string) {
    return this.running.has(handle) ? this.liveOf(handle) : undefined;
  }

  async stop(handle: string) {
    this.stopped.push(handle);
    return this.running.delete(handle);
  }
}

let dir: string;
let env: NodeJS.ProcessEnv;
let out: string[];
let err: string[];
let backend: SimBackend;
let deps: LabDeps;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'labs-session-'));
  env = { ...process.env, XDG_STATE_HOME: join(dir, 'state') };
  out = [];
  err = [];
  backend = new SimBackend();
  deps = { io: { out: (s) => out.push(s), err: (s) => err.push(s) }, env, backend: async () => backend };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const stdout = () => out.join('\n');

describe('a live lab', () => {
  it('start prints the task and export KUBECONFIG; check fails the start with reasons, passes after kubectl apply of the solution; stop clears it', async () => {
    const lab = findLab('tcp-trap-addresses');
    expect(await labStart(lab.name, deps)).toBe(0);
    expect(stdout()).toContain('export KUBECONFIG=/sim/run-1/kubeconfig');
    expect(stdout()).toContain(lab.task.split('\n')[0]);
    expect(JSON.parse(readFileSync(join(env.XDG_STATE_HOME!, 'istio-egress-conformance', 'current-lab.json'), 'utf8'))).toMatchObject({
      lab: lab.name,
      handle: 'run-1',
    });

    out = [];
    expect(await labCheck(lab.name, {}, deps)).toBe(1);
    expect(stdout()).toMatch(/FAIL {2}3\. from frontend to tcp:\/\/198\.51\.100\.7:5432\n\s+expected {2}blocked: another address on 5432/);
    expect(stdout()).toMatch(/istiod {4}listener 0\.0\.0\.0_5432 → cluster outbound\|5432\|\|db\.example\.com/);
    expect(stdout()).toMatch(/why {7}.*match-all TCP chain/);
    expect(stdout()).toMatch(/Score: 2\/4 checks \(50%\)/);

    backend.kubectlApply([lab.solution]);
    out = [];
    expect(await labCheck(lab.name, {}, deps)).toBe(0);
    expect(stdout()).toMatch(/Score: 4\/4 checks \(100%\)\nPASS: tcp-trap-addresses/);
    expect(stdout()).toContain('Why it works:');

    out = [];
    expect(await labStop(deps)).toBe(0);
    expect(backend.running.size).toBe(0);
    expect(existsSync(join(env.XDG_STATE_HOME!, 'istio-egress-conformance', 'current-lab.json'))).toBe(false);
    await expect(labCheck(lab.name, {}, deps)).rejects.toThrow(/no lab is running/);

    out = [];
    labProgress(deps);
    expect(stdout()).toMatch(/tcp-trap-addresses\s+2\s+yes\s+4\/4/);
  });

  it('a second lab start finds the lab an earlier shell left running and stops it first', async () => {
    await labStart('api-over-http', deps);
    await labStart('postgres-serviceentry', deps);
    expect(backend.stopped).toEqual(['run-1']);
    expect([...backend.running.values()].map((r) => r.lab.name)).toEqual(['postgres-serviceentry']);
    expect(err.join('\n')).toMatch(/lab api-over-http .* is still recorded as running; it is removed first/);
  });

  it('check names the running lab when asked about another, and says so when its processes are gone', async () => {
    await labStart('api-over-http', deps);
    await expect(labCheck('postgres-serviceentry', {}, deps)).rejects.toThrow(
      /the running lab is api-over-http, not postgres-serviceentry/,
    );
    backend.running.clear(); // the stack died with the shell
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(/lab api-over-http is no longer running .* lab start api-over-http/);
    // ... and the stale record is gone, so the next command says plainly that nothing runs.
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(UserError);
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(/no lab is running/);
  });

  it('check -f works with no running lab, and a file the cluster would refuse is refused', async () => {
    const lab = findLab('export-to-named-namespace');
    expect(await labCheck(lab.name, { file: [lab.wrong[0].file], grader: 'oracle' }, deps)).toBe(1);
    expect(stdout()).toMatch(/FAIL {2}2\. from default to https:\/\/api\.example\.com\//);
    const f = join(dir, 'typo.yaml');
    writeFileSync(
      f,
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: fronted}\nspec: {hosts: [api.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}\n',
    );
    await expect(labCheck(lab.name, { file: [f], grader: 'oracle' }, deps)).rejects.toThrow(/namespaces "fronted" not found/);
  });
});

describe('lab exam', () => {
  /** A scripted candidate and a clock that moves only when the candidate "works". */
  function scripted(answers: (string | 'timeout')[], minutesPerAnswer = 1): ExamIO & { lines: string[] } {
    let t = Date.parse('2026-11-29T12:00:00Z');
    const lines: string[] = [];
    return {
      lines,
      out: (l) => lines.push(l),
      now: () => t,
      ask: async (_prompt, deadline) => {
        const a = answers.shift();
        if (a === undefined) return 'eof';
        if (a === 'timeout') {
          t = deadline;
          return 'timeout';
        }
        t += minutesPerAnswer * 60_000;
        return a;
      },
    };
  }

  it('picks distinct labs at random', () => {
    const labs = ['a', 'b', 'c', 'd'].map((name) => ({ name }) as Lab);
    let x = 0;
    const seq = () => [0.9, 0.1, 0.5][x++ % 3] ?? 0;
    const picked = pickLabs(labs, 3, seq).map((l) => l.name);
    expect(new Set(picked).size).toBe(3);
    expect(picked).not.toEqual(['a', 'b', 'c']);
  });

  it('files mode: a solved task, a skipped one, and one graded when the clock runs out; score in percent, progress kept', async () => {
    const random = () => 0.42;
    const [first] = pickLabs(loadLabs(), 3, random);
    if (!first) throw new Error('pickLabs picked nothing');
    const io = scripted([first.solution, '', 's', 'timeout']);
    deps.examIO = io;
    deps.random = random;
    const code = await labExam({ files: true, count: '3', minutes: '10', grader: 'oracle' }, deps);
    expect(code).toBe(0); // the exam ran to its end; the score is the result
    const text = io.lines.join('\n');
    expect(text).toMatch(/Exam: 3 tasks, 10 minutes/);
    expect(text).toContain(`── Task 1/3: ${first.title}  (10:00 left) ──`);
    expect(text).toContain(`applied ${first.solution}`);
    expect(text).toMatch(/Time is up: this task is graded as it stands/);
    expect(text).toMatch(/1\. solved {4} \d+\/\d+ checks/);
    expect(text).toMatch(/2\. skipped/);
    expect(text).toMatch(/3\. not solved \d+\/\d+ checks/);
    expect(text).toMatch(/Score: 33% \(1 of 3 tasks solved\) in 10 of 10 minutes/);
    out = [];
    labProgress(deps);
    expect(stdout()).toMatch(/Exams:[\s\S]*33%\s+1\/3\s+10\/10/);
    expect(stdout()).toMatch(new RegExp(`${first.name}\\s+1\\s+yes`));
  });

  it('live mode: each task started in turn on the backend, graded live, the lab stopped at the end', async () => {
    const io = scripted([]);
    const seen: string[] = [];
    io.ask = async () => {
      const [first] = backend.running.entries();
      if (!first) throw new Error('the exam asked with no lab running');
      const [h, run] = first;
      if (!seen.includes(h)) {
        seen.push(h);
        backend.kubectlApply([run.lab.solution]);
      }
      return '';
    };
    deps.examIO = io;
    expect(await labExam({ count: '2', minutes: '20' }, deps)).toBe(0);
    expect(seen).toEqual(['run-1', 'run-2']);
    expect(backend.stopped).toEqual(['run-1', 'run-2']);
    expect(io.lines.join('\n')).toMatch(/Score: 100% \(2 of 2 tasks solved\)/);
    expect(io.lines.join('\n')).toMatch(/export KUBECONFIG=\/sim\/run-1\/kubeconfig/);
  });

  it("the clock waits while a task is set up (a cluster starting is not the candidate's time)", async () => {
    const io = scripted(['', '']);
    let t = 0;
    io.now = () => t;
    const ask = io.ask;
    io.ask = async (p, d) => {
      t += 60_000; // one minute of work per task
      return ask(p, d);
    };
    const labs = [findLab('api-over-http'), findLab('postgres-serviceentry')];
    const { record } = await runExam(
      labs,
      { minutes: 10, count: 2, random: () => 0 },
      async (lab) => {
        t += 5 * 60_000; // a slow start
        const state = startState(lab);
        return {
          howToWork: [],
          grade: () => gradeState(lab, state.resources, oracleGrader(state.resources, LAB_ISTIO_VERSION), LAB_ISTIO_VERSION),
          end: async () => {},
        };
      },
      io,
    );
    expect(io.lines.filter((l) => l.startsWith('── Task')).map((l) => /\((\S+) left\)/.exec(l)![1])).toEqual(['10:00', '9:00']);
    expect(record.usedMinutes).toBe(2);
    expect(record.tasks.every((x) => !x.skipped)).toBe(true);
  });

  it('bad flags are one clear error', async () => {
    await expect(labExam({ count: '0' }, deps)).rejects.toThrow(/--count: "0" must be a whole number from 1 to 14/);
    await expect(labExam({ minutes: 'soon', files: true }, deps)).rejects.toThrow(/--minutes/);
    await expect(labExam({ grader: 'oracle' }, deps)).rejects.toThrow(/--grader applies to --files/);
  });
});
