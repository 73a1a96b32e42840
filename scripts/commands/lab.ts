// `egress-conformance lab`: Istio Certified Associate practice. list, show, check (a file, or the running
// lab), start/stop a live lab the candidate drives with kubectl, a timed exam, and past progress.
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Option, type Command } from 'commander';
import { EnvironmentError, UserError } from '../../helpers/model/errors.ts';
import { findLab, loadLabs, type Lab } from '../../helpers/labs/load.ts';
import { applyFiles, startState, type LabState } from '../../helpers/labs/apply.ts';
import { gradeOnLane, gradeState, oracleGrader, type LabGrade } from '../../helpers/labs/grade.ts';
import { renderGrade } from '../../helpers/labs/render.ts';
import { readAttempts, readExams, recordAttempt, recordExam, stateDir, summarise } from '../../helpers/labs/progress.ts';
import { attachCurrent, gradeLive, readCurrent, startLab, stopCurrent, type LiveBackend } from '../../helpers/labs/live.ts';
import { runExam, type ExamIO, type ExamTask } from '../../helpers/labs/exam.ts';
import { chooseKubectl } from '../../helpers/labs/kubectl.ts';
import { LAB_ISTIO_VERSION } from '../../helpers/labs/version.ts';
import { createLane } from '../../helpers/lanes/select.ts';
import { findIstioctlBuildSync, findPilotDiscovery } from '../../helpers/tools/pilot-discovery.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { collect } from './options.ts';
import { exitCodeFor, onInterrupt } from '../../helpers/process/interrupt.ts';

type IO = { out: (s: string) => void; err: (s: string) => void };

export interface LabDeps {
  io: IO;
  env?: NodeJS.ProcessEnv;
  /** The live-lab backend (the control-plane stack); tests pass their own. */
  backend?: () => Promise<LiveBackend>;
  /** Exam terminal; defaults to stdin/stdout with a deadline. */
  examIO?: ExamIO;
  /** The exam's draw; Math.random by default. */
  random?: () => number;
}

async function defaultBackend(): Promise<LiveBackend> {
  const { stackBackend } = await import('../../helpers/labs/stack.ts');
  return stackBackend();
}

const backendOf = (d: LabDeps) => (d.backend ?? defaultBackend)();
const fixturePath = (p: string) => relative(process.cwd(), p) || p;

export function labList(d: LabDeps): number {
  d.io.out(
    renderTable(
      ['LAB', 'MESH POLICY', 'TOPIC'],
      loadLabs().map((l) => [l.name, l.policy, l.topic]),
    ),
  );
  d.io.out('\negress-conformance lab show NAME; then lab start NAME (a live cluster, kubectl) or lab check NAME -f your.yaml');
  return 0;
}

function startingState(lab: Lab): string[] {
  const s = startState(lab).resources;
  return [...s.serviceEntries, ...s.sidecars].map((r) => `${r.kind} ${r.namespace}/${r.name}`);
}

export function labShow(name: string, flags: { hints?: boolean; solution?: boolean }, d: LabDeps): number {
  const lab = findLab(name);
  const out = d.io.out;
  out(
    `# ${lab.title}  (${lab.name})\n\nTopic: ${lab.topic}\nIstio: installed from ${fixturePath(lab.install)} (mesh outboundTrafficPolicy ${lab.policy})`,
  );
  const start = startingState(lab);
  out(`Already in the cluster: ${start.length ? start.join(', ') : 'no ServiceEntry or Sidecar'}`);
  out(`\n${lab.task}\n\nGraded on behaviour (the real istiod decides where it can run):`);
  for (const c of lab.checks) {
    const labels = Object.entries(c.from.labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out(`  - from ${c.from.namespace}${labels ? ` (pods ${labels})` : ''} to ${c.to.raw}: ${c.want}${c.signal ? ` (${c.signal})` : ''}`);
  }
  if (flags.hints) {
    out('\nHints:');
    lab.hints.forEach((h, i) => out(`  ${i + 1}. ${h}`));
  } else out(`\n(${lab.hints.length} hint(s): add --hints)`);
  if (flags.solution) {
    out(
      `\nA solution (${fixturePath(lab.solution)}), applied with kubectl apply -f over the starting state:\n\n${readFileSync(lab.solution, 'utf8')}`,
    );
    out(
      `Why it works:\n${lab.explanation
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n')}`,
    );
  }
  return 0;
}

function record(lab: Lab, g: LabGrade, mode: 'file' | 'live', d: LabDeps): void {
  try {
    recordAttempt(
      { at: new Date().toISOString(), lab: lab.name, mode, passed: g.score.passed, total: g.score.total, gradedBy: g.gradedBy },
      d.env,
    );
  } catch (e) {
    d.io.err(`progress not saved (${stateDir(d.env)}: ${(e as Error).message})`);
  }
}

/** Grades a state built from files: on the real istiod when the control-plane lane can run (or is asked for). */
async function gradeFileState(lab: Lab, state: LabState, wanted: string, d: LabDeps): Promise<{ grade: LabGrade; referee: boolean }> {
  const byOracle = async () => ({
    grade: await gradeState(lab, state.resources, oracleGrader(state.resources, LAB_ISTIO_VERSION), LAB_ISTIO_VERSION, state.notes),
    referee: false,
  });
  const useLane = wanted === 'control-plane' || (wanted === 'auto' && (await findPilotDiscovery()) !== undefined);
  if (!useLane) {
    if (wanted === 'auto')
      d.io.err(
        'grading with the oracle (no pilot-discovery built: `egress-conformance tools install pilot-discovery` grades on the real istiod)',
      );
    return byOracle();
  }
  d.io.err('grading on the control-plane lane: the real istiod decides');
  const lane = await createLane('control-plane', {});
  try {
    let info;
    try {
      info = await lane.setup();
    } catch (e) {
      // auto means "istiod where it can run": a missing piece of the stack falls back to the oracle, said aloud.
      if (wanted !== 'auto' || !(e instanceof EnvironmentError)) throw e;
      d.io.err(`the control-plane lane cannot start (${e.message}); grading with the oracle instead`);
      return byOracle();
    }
    return {
      grade: await gradeOnLane(lab, state.resources, lane, `istiod ${info.istioVersion}`, LAB_ISTIO_VERSION, state.notes),
      referee: true,
    };
  } finally {
    await lane.teardown();
  }
}

function graderFlag(v: string | undefined): string {
  const wanted = v ?? 'auto';
  if (!['auto', 'control-plane', 'oracle'].includes(wanted))
    throw new UserError(`--grader: "${wanted}" is not control-plane, oracle or auto`);
  return wanted;
}

export async function labCheck(name: string, flags: { file?: string[]; grader?: string }, d: LabDeps): Promise<number> {
  const lab = findLab(name);
  const wanted = graderFlag(flags.grader);
  let grade: LabGrade;
  let referee: boolean;
  let mode: 'file' | 'live';
  if (flags.file?.length) {
    ({ grade, referee } = await gradeFileState(lab, applyFiles(startState(lab), flags.file), wanted, d));
    mode = 'file';
  } else {
    if (wanted === 'oracle')
      throw new UserError('--grader oracle grades files only: add -f FILE (a running lab is always graded by its istiod)');
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
    referee = true;
    mode = 'live';
  }
  for (const l of renderGrade(lab, grade, { referee })) d.io.out(l);
  record(lab, grade, mode, d);
  return grade.passed ? 0 : 1;
}

/** The lines the candidate pastes into a shell: KUBECONFIG, and PATH when the kubectl on it is too far from the server. */
async function kubectlExports(kubeconfig: string, d: LabDeps): Promise<string[]> {
  const exports = [`export KUBECONFIG=${kubeconfig}`];
  try {
    const k = await chooseKubectl(join(stateDir(d.env), 'bin'), { env: d.env ?? process.env });
    if (k.pathDir) exports.push(`export PATH=${k.pathDir}:$PATH`);
    d.io.err(k.why);
  } catch (e) {
    if (!(e instanceof EnvironmentError)) throw e;
    d.io.err(`kubectl: ${e.message}`);
  }
  return exports;
}

export async function labStart(name: string, d: LabDeps): Promise<number> {
  const lab = findLab(name);
  const live = await startLab(lab, await backendOf(d), d.io.err, d.env);
  d.io.out(`# ${lab.title}  (${lab.name})\n\n${lab.task}\n`);
  const exports = await kubectlExports(live.kubeconfig, d);
  d.io.out(`Work with kubectl (apply, edit, delete) against the lab's API server:\n\n${exports.map((l) => `  ${l}`).join('\n')}\n`);
  d.io.out(`An IstioOperator is installed with: egress-conformance lab install -f FILE   (what istioctl install -f does)`);
  d.io.out(`Then: egress-conformance lab check ${lab.name}    (graded by the real istiod; lab stop when done)`);
  return 0;
}

/** `istioctl install -f` for the running lab (it cannot run there itself: see helpers/labs/install.ts). */
export async function labInstall(flags: { file?: string[] }, d: LabDeps): Promise<number> {
  if (flags.file?.length !== 1) throw new UserError('-f: give one IstioOperator file, as to istioctl install -f');
  const { current } = await attachCurrent(await backendOf(d), d.env);
  const istioctl = findIstioctlBuildSync();
  if (!istioctl)
    throw new EnvironmentError(
      'istioctl of the pinned build is not built; run `egress-conformance tools install istioctl-build` (needs Go)',
    );
  const { installOperator } = await import('../../helpers/labs/install.ts');
  const { ClientNodeK8s } = await import('../../helpers/k8s/client.ts');
  const [file] = flags.file;
  if (file === undefined) throw new UserError('-f: give one IstioOperator file, as to istioctl install -f');
  const r = await installOperator(new ClientNodeK8s(current.kubeconfig), istioctl, file, join(stateDir(d.env), 'install'));
  for (const n of r.notes) d.io.err(`note: ${n}`);
  d.io.out(
    `Istio installed from ${file} in lab ${current.lab}: ConfigMap istio-system/istio now says outboundTrafficPolicy ${r.mode}; istiod pushes it to the sidecars without a restart`,
  );
  return 0;
}

export async function labStop(d: LabDeps): Promise<number> {
  const stopped = await stopCurrent(await backendOf(d), d.io.err, d.env);
  d.io.out(stopped ? `lab ${stopped} stopped; its processes and files are gone` : 'no lab was running');
  return 0;
}

export function labProgress(d: LabDeps): number {
  const labs = loadLabs();
  const rows = summarise(
    labs.map((l) => l.name),
    readAttempts(d.env),
  );
  d.io.out(
    renderTable(
      ['LAB', 'ATTEMPTS', 'SOLVED', 'BEST', 'LAST'],
      rows.map((r) => [
        r.lab,
        String(r.attempts),
        r.solved ? 'yes' : r.attempts ? 'not yet' : '-',
        r.best ? `${r.best.passed}/${r.best.total}` : '-',
        r.last ?? '-',
      ]),
    ),
  );
  const solved = rows.filter((r) => r.solved).length;
  d.io.out(`\n${solved} of ${labs.length} labs solved`);
  const exams = readExams(d.env);
  if (exams.length) {
    d.io.out('\nExams:');
    d.io.out(
      renderTable(
        ['WHEN', 'SCORE', 'TASKS SOLVED', 'MINUTES'],
        exams.map((e) => [
          e.at,
          `${e.percent}%`,
          `${e.tasks.filter((t) => t.solved).length}/${e.tasks.length}`,
          `${e.usedMinutes}/${e.minutes}`,
        ]),
      ),
    );
  }
  d.io.out(`\n(kept in ${stateDir(d.env)})`);
  return 0;
}

function positiveInt(v: string | undefined, flag: string, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UserError(`${flag}: "${v}" must be a whole number from 1 to ${max}`);
  return n;
}

/** stdin/stdout with a deadline: a line typed, or 'timeout' when the clock runs out. */
function terminalExamIO(io: IO): ExamIO {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines: string[] = [];
  let waiting: ((l: string | 'eof') => void) | undefined;
  let closed = false;
  rl.on('line', (l) => {
    if (!waiting) {
      lines.push(l);
      return;
    }
    const answer = waiting;
    waiting = undefined;
    answer(l);
  });
  rl.on('close', () => {
    closed = true;
    waiting?.('eof');
  });
  return {
    out: io.out,
    now: () => Date.now(),
    ask: (prompt, deadline) => {
      process.stdout.write(prompt);
      if (lines.length) return Promise.resolve(lines.shift()!);
      if (closed) return Promise.resolve('eof');
      return new Promise((resolve) => {
        const t = setTimeout(
          () => {
            waiting = undefined;
            resolve('timeout');
          },
          Math.max(0, deadline - Date.now()),
        );
        waiting = (l) => {
          clearTimeout(t);
          resolve(l);
        };
      });
    },
    close: () => rl.close(),
  } as ExamIO & { close(): void };
}

/** A task graded from files typed at the prompt (no live cluster): the candidate writes YAML and names it. */
function fileTask(lab: Lab, wanted: string, d: LabDeps): ExamTask {
  let state = startState(lab);
  return {
    howToWork: [
      `No live cluster: write your YAML and type its path here to apply it (as kubectl apply -f would). Already in the cluster: ${startingState(lab).join(', ') || 'nothing'}.`,
    ],
    input: async (line) => {
      try {
        state = applyFiles(state, line.split(/\s+/));
        return `applied ${line}`;
      } catch (e) {
        if (e instanceof UserError) return `refused: ${e.message}`;
        throw e;
      }
    },
    grade: async () => (await gradeFileState(lab, state, wanted, d)).grade,
    end: async () => {},
  };
}

async function liveTask(lab: Lab, backend: LiveBackend, d: LabDeps): Promise<ExamTask> {
  const live = await startLab(lab, backend, d.io.err, d.env);
  return {
    howToWork: [
      'In another terminal, work with kubectl (an IstioOperator: egress-conformance lab install -f FILE):',
      ...(await kubectlExports(live.kubeconfig, d)).map((l) => `  ${l}`),
    ],
    grade: () => gradeLive(lab, live),
    end: async () => {},
  };
}

export async function labExam(flags: { minutes?: string; count?: string; files?: boolean; grader?: string }, d: LabDeps): Promise<number> {
  const labs = loadLabs();
  const count = positiveInt(flags.count, '--count', 5, labs.length);
  const minutes = positiveInt(flags.minutes, '--minutes', count * 8, 600);
  const wanted = graderFlag(flags.grader);
  if (!flags.files && flags.grader) throw new UserError('--grader applies to --files exams; a live exam is graded by its istiod');
  let backend: LiveBackend | undefined;
  if (!flags.files) backend = await backendOf(d);
  const io = d.examIO ?? terminalExamIO(d.io);
  // Ctrl-C (or a closed terminal) mid-exam: the running lab is stopped before the process ends.
  const unregister = onInterrupt(async (sig) => {
    if (backend) await stopCurrent(backend, d.io.err, d.env);
    d.io.err('exam interrupted; nothing recorded');
    process.exit(exitCodeFor(sig));
  });
  try {
    const { record } = await runExam(
      labs,
      { minutes, count, ...(d.random ? { random: d.random } : {}) },
      (lab) => (backend ? liveTask(lab, backend, d) : Promise.resolve(fileTask(lab, wanted, d))),
      io,
    );
    try {
      recordExam(record, d.env);
      for (const t of record.tasks.filter((x) => !x.skipped)) {
        recordAttempt(
          {
            at: record.at,
            lab: t.lab,
            mode: 'exam',
            passed: t.passed,
            total: t.total,
            gradedBy: backend ? 'istiod (live)' : 'exam (files)',
          },
          d.env,
        );
      }
    } catch (e) {
      d.io.err(`progress not saved (${stateDir(d.env)}: ${(e as Error).message})`);
    }
    return 0;
  } finally {
    unregister();
    (io as Partial<{ close(): void }>).close?.();
    if (backend) await stopCurrent(backend, d.io.err, d.env);
  }
}

/** The `lab` command and its subcommands; `result.code` receives each action's exit code. */
export function registerLabCommands(program: Command, result: { code: number | Promise<number> }, io: IO): void {
  const d: LabDeps = { io };
  const lab = program
    .command('lab')
    .description('exam practice: tasks on a live cluster or from files, graded on behaviour by the real istiod');
  lab
    .command('list')
    .description('the labs')
    .action(() => {
      result.code = labList(d);
    });
  lab
    .command('show <name>')
    .description('the task, the starting state and the checks it is graded on')
    .option('--hints', 'show the hints')
    .option('--solution', 'show a reference solution and why it works')
    .action((name: string, opts) => {
      result.code = labShow(name, opts, d);
    });
  lab
    .command('check <name>')
    .description("grade the running lab (after lab start), or your YAML with -f over the lab's starting state")
    .addOption(
      new Option('-f, --file <file>', 'your YAML, applied over the starting state as kubectl apply -f would (repeatable)').argParser(
        collect,
      ),
    )
    .option('--grader <grader>', 'for -f: control-plane, oracle or auto (control-plane when pilot-discovery is built)', 'auto')
    .action((name: string, opts) => {
      result.code = labCheck(name, opts, d);
    });
  lab
    .command('start <name>')
    .description('start a live lab: API server, Istio, istiod, client pods and the starting state; prints export KUBECONFIG=…')
    .action((name: string) => {
      result.code = labStart(name, d);
    });
  lab
    .command('install')
    .description('what istioctl install -f does, for the running lab: render the IstioOperator with the pinned istioctl and apply it')
    .addOption(new Option('-f, --file <file>', 'the IstioOperator').argParser(collect))
    .action((opts) => {
      result.code = labInstall(opts, d);
    });
  lab
    .command('stop')
    .description('stop the running lab (only its own processes)')
    .action(() => {
      result.code = labStop(d);
    });
  lab
    .command('exam')
    .description('a timed exam: random labs, each started in turn, a score in percent')
    .option('--minutes <n>', 'time for the whole exam (default: 8 per task)')
    .option('--count <n>', 'number of tasks (default 5)')
    .option('--files', 'no live cluster: answer each task with YAML files typed at the prompt')
    .option('--grader <grader>', 'with --files: control-plane, oracle or auto')
    .action((opts) => {
      result.code = labExam(opts, d);
    });
  lab
    .command('progress')
    .description(`past attempts and exams (kept in ${'${XDG_STATE_HOME:-~/.local/state}'}/istio-egress-conformance)`)
    .action(() => {
      result.code = labProgress(d);
    });
}
