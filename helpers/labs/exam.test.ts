// lab exam through the command function and the exam loop, on the real warm stack (one per file, started as
// `egress-conformance up` starts it): files graded there by the real istiod, live tasks started as labs
// and answered with the real kubectl. The draw by domain weight, the clock as time left (setup not
// counted), tasks in any order, per-task and total score against the pass mark, the review, quiet setup,
// progress. The draw and the flags need no stack; the rest skip, with the reason, without the pinned tools.
import { describe, expect, it } from 'vitest';
import { findLab, loadLabs } from './load.ts';
import { startState } from './apply.ts';
import type { ExamIO } from './exam.ts';
import { runExam } from './exam.ts';
import { drawExam, seats } from './draw.ts';
import type { LabDeps } from './deps.ts';
import { labExam } from './exam-command.ts';
import { openLaneGrader } from './file-grader.ts';
import { readCurrent } from './live.ts';
import { labProgress } from './progress-command.ts';
import { isUp, readWarm } from '../stack/warm.ts';
import { loadResourceFiles } from '../istio/load.ts';
import { answer, labObjects, labStackEnv, onWarmStack } from '../testing/lab-stack.ts';

const stack = labStackEnv('labs-exam-');
const { env } = stack;
let out: string[] = [];
let err: string[] = [];
let deps: LabDeps;

const stdout = () => out.join('\n');

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

describe('lab exam: the draw and the flags (no stack)', () => {
  it('draws across the domains by weight, a domain short of labs giving its places to the others', () => {
    expect(seats({ installation: 10, 'traffic-management': 10, 'securing-workloads': 10, troubleshooting: 10 }, 20)).toEqual({
      installation: 4,
      'traffic-management': 7,
      'securing-workloads': 5,
      troubleshooting: 4,
    });
    const short = seats({ installation: 2, 'traffic-management': 20, 'securing-workloads': 1, troubleshooting: 3 }, 15);
    expect(short).toMatchObject({ installation: 2, 'securing-workloads': 1, troubleshooting: 3 });
    expect(Object.values(short).reduce((a, b) => a + b, 0)).toBe(15);
    const labs = loadLabs().filter((l) => !l.needs);
    const drawn = drawExam(labs, 15, () => 0.3);
    expect(new Set(drawn.map((l) => l.name)).size).toBe(15);
    const count = (d: string) => drawn.filter((l) => l.domain === d).length;
    for (const d of ['installation', 'traffic-management', 'troubleshooting']) expect(count(d), d).toBeGreaterThan(0);
    expect(count('traffic-management')).toBeGreaterThanOrEqual(count('installation'));
  });

  it('bad flags are one clear error', async () => {
    const noStack: LabDeps = { io: { out: () => {}, err: () => {} }, env };
    await expect(labExam({ count: '0' }, noStack)).rejects.toThrow(/--count: "0" must be a whole number from 1 to \d+/);
    await expect(labExam({ minutes: 'soon', files: true }, noStack)).rejects.toThrow(/--minutes/);
    await expect(labExam({ passMark: '101', files: true }, noStack)).rejects.toThrow(
      /--pass-mark: "101" must be a whole number from 1 to 100/,
    );
  });
});

describe('lab exam on the warm stack', () => {
  onWarmStack(stack, () => {
    out = [];
    err = [];
    deps = { io: { out: (s) => out.push(s), err: (s) => err.push(s) }, env };
  });

  it('files mode: tasks in any order, work kept when leaving one, per-task and total score against the pass mark, a review of failed checks', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const random = () => 0.42;
    const labs = loadLabs().filter((l) => !l.needs);
    const [first, second, third] = drawExam(labs, 3, random);
    if (!first || !second || !third) throw new Error('drawExam drew fewer than 3');
    // Task 3 first (a wrong answer), then task 1 (its solution), the list, 3 and 1 again; 2 never answered.
    const io = scripted(['3', third.wrong[0].file, '1', first.solution, 'l', '3', 'g 1', 'end']);
    deps.examIO = io;
    deps.random = random;
    const code = await labExam({ files: true, count: '3', minutes: '20', passMark: '50' }, deps);
    const text = io.lines.join('\n');
    expect(text).toMatch(/Exam: 3 tasks, 20 minutes, pass mark 50%\. Take them in any order/);
    expect(text).toContain(`── Task 1/3: ${first.title}  (20:00 left) ──`);
    expect(text).toContain(`── Task 3/3: ${third.title}  (19:00 left) ──`);
    expect(text).toContain(`applied ${first.solution}`);
    expect(text).toMatch(/\(answered\)/);
    expect(text).toMatch(/ 1\. 100% {2}\d+\/\d+ checks/);
    expect(text).toMatch(/ 2\. {3}0% {2}not answered/);
    expect(text).toMatch(
      new RegExp(
        `Review: the checks that failed[\\s\\S]*Task 2, ${second.name} \\(0%\\):\\n {4}not answered[\\s\\S]*Task 3, ${third.name}`,
      ),
    );
    expect(text).toMatch(/ {4}- from \S+ to \S+: expected (allowed|blocked)/);
    const total = /Score: (\d+)% \(pass mark 50%\): (PASS|FAIL)/.exec(text);
    expect(total).not.toBeNull();
    expect(code).toBe(Number(total![1]) >= 50 ? 0 : 1);
    expect(err).toEqual([expect.stringMatching(/^setting up \(progress in .*exam-setup\.log\)/)]);
    out.length = 0;
    labProgress(deps);
    expect(stdout()).toMatch(new RegExp(`Exams:[\\s\\S]*${total![1]}%\\s+(pass|fail) \\(mark 50%\\)\\s+1\\/3\\s+\\S+\\s+istiod \\d`));
    expect(stdout()).toMatch(new RegExp(`${first.name}\\s+1\\s+yes`));
  }, 300_000);

  it('live mode: each task entered starts its lab (setup quiet), answered with kubectl, graded live, the lab stopped at the end', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const io = scripted([]);
    const seen: string[] = [];
    const atEntry: string[][] = [];
    io.ask = async () => {
      const current = readCurrent(env);
      if (!current) throw new Error('the exam asked with no lab running');
      if (!seen.includes(current.lab)) {
        seen.push(current.lab);
        // Each task starts from its own starting state: nothing of the previous task's lab or answer is left.
        atEntry.push(await labObjects(stack));
        await answer(stack, findLab(current.lab).solution);
        return seen.length === 2 ? 'end' : '';
      }
      throw new Error(`the exam came back to ${current.lab} unasked`);
    };
    deps.examIO = io;
    expect(await labExam({ count: '2', minutes: '20' }, deps)).toBe(0);
    expect(seen).toHaveLength(2);
    expect(new Set(seen).size).toBe(2);
    const startOf = (name: string) => {
      const s = loadResourceFiles(findLab(name).start);
      return [...s.serviceEntries, ...s.sidecars].map((r) => `${r.kind} ${r.namespace}/${r.name}`).sort();
    };
    expect(atEntry).toEqual(seen.map(startOf));
    const text = io.lines.join('\n');
    expect(text).toMatch(/Score: 100% \(pass mark 68%\): PASS/);
    const warm = readWarm(env)!;
    expect(text).toContain(`export KUBECONFIG=${warm.kubeconfig}`);
    expect(err.length).toBe(1);
    // The end of the exam stops the last lab: no lab recorded, its objects gone, `up`'s stack still up.
    expect(readCurrent(env)).toBeUndefined();
    expect(isUp(warm)).toBe(true);
    const { ClientNodeK8s } = await import('../k8s/client.ts');
    const k8s = new ClientNodeK8s(warm.kubeconfig);
    const left = [...(await k8s.list('networking.istio.io/v1', 'ServiceEntry')), ...(await k8s.list('networking.istio.io/v1', 'Sidecar'))];
    expect(left.filter((o) => !o.metadata.labels?.['egress-conformance.io/run']).map((o) => o.metadata.name)).toEqual([]);
  }, 300_000);

  it("the clock shows time left and waits while a task is set up (a cluster starting is not the candidate's time)", async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const grader = await openLaneGrader(() => {}, env);
    ctx.onTestFinished(() => grader.close());
    const io = scripted(['', 'end']);
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
      { minutes: 120, count: 2, passMark: 68, random: () => 0 },
      (lab) => ({
        keepsWork: true,
        howToWork: () => [],
        enter: async () => {
          t += 5 * 60_000; // a slow start
        },
        grade: () => grader.grade(lab, startState(lab)),
      }),
      io,
    );
    expect(io.lines.filter((l) => l.startsWith('── Task')).map((l) => /\((\S+) left\)/.exec(l)![1])).toEqual(['2:00:00', '1:59:00']);
    expect(record.usedMinutes).toBe(2);
    expect(record.tasks.map((x) => x.gradedBy)).toEqual([expect.stringMatching(/^istiod \d/), expect.stringMatching(/^istiod \d/)]);
  }, 300_000);

  it('the default exam end to end: 15 tasks across the domains in 2 hours, each answered in turn, a total score and PASS', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const labs = loadLabs().filter((l) => !l.needs);
    const byTitle = new Map(labs.map((l) => [l.title, l]));
    const io = scripted([]);
    let t = Date.parse('2026-11-29T12:00:00Z');
    io.now = () => t;
    const answered = new Set<string>();
    io.ask = async () => {
      const title = /── Task \d+\/\d+: (.*) {2}\(/.exec(io.lines.filter((l) => l.startsWith('── Task')).at(-1) ?? '')?.[1] ?? '';
      const lab = byTitle.get(title);
      if (!lab) throw new Error(`no lab titled "${title}"`);
      if (answered.has(lab.name)) return answered.size === 15 ? 'end' : '';
      answered.add(lab.name);
      t += 5 * 60_000; // five minutes of work per task
      return lab.solution; // applied; the next prompt moves on
    };
    deps.examIO = io;
    deps.random = () => 0.7;
    expect(await labExam({ files: true }, deps)).toBe(0);
    const text = io.lines.join('\n');
    expect(text).toMatch(/^Exam: 15 tasks, 120 minutes, pass mark 68%/);
    expect(answered.size).toBe(15);
    expect(text).toMatch(/Score: 100% \(pass mark 68%\): PASS, in 75 of 120 minutes/);
    const domains = new Set(io.lines.filter((l) => /^ {2}\d+\. \[/.test(l)).map((l) => /\[(.*?)\]/.exec(l)?.[1]));
    expect(domains.size).toBeGreaterThanOrEqual(3);
  }, 300_000);
});
