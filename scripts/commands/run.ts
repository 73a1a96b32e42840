// `egress-conformance run`: the main job. Runs the catalogue suite (suites/egress.test.ts) on a lane in
// a vitest child process, forwarding Ctrl-C to it and waiting until the lane has cleaned up what this
// run created. `--dry-run` prints the kind lane's whole plan without Docker.
import { execa } from 'execa';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, ExitCodeError, UserError } from '../../helpers/model/errors.ts';
import { expandCases, loadCatalogue } from '../../helpers/catalogue/load.ts';
import { newRunId } from '../../helpers/lanes/kind/context.ts';
import { chooseLane, dockerAnswers, parseLaneName } from '../../helpers/lanes/select.ts';
import { resolveTarget, writeTarget } from '../../helpers/lanes/target.ts';
import { findPinnedBuild, type PilotDiscoveryPin } from '../../helpers/tools/pilot-discovery.ts';
import { warmStackFits } from '../../helpers/stack/exclusive.ts';
import { writeEarlyStack } from '../../helpers/suite/early-stack.ts';
import { buildControlPlaneTools } from '../../helpers/lanes/control-plane/build-tools.ts';
import { asserted, countOutcomes, type RunReport } from '../../helpers/report/results.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { runEnd } from '../../helpers/report/outcome.ts';
import { markInterrupted } from '../../helpers/report/interrupted.ts';
import { writeReports } from '../../helpers/report/write.ts';
import { caseBase } from '../../helpers/report/case-base.ts';
import { onInterrupt, type InterruptSignal } from '../../helpers/process/interrupt.ts';
import { pollUntil } from '../../helpers/process/poll.ts';
import { childrenOf } from '../../helpers/process/children.ts';
import { groupAlive, killGroup, killProcessesNaming, signal } from '../../helpers/process/group.ts';
import { prepareReportDir } from '../../helpers/report/dir.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { istioVersionFlag, testFilter } from './options.ts';
import { describeSelection, parseSelection, selectCases, type Selection, writeSelection } from '../../helpers/suite/select.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUN_REPORTER = join(ROOT, 'helpers/report/run-reporter.ts');

/**
 * How long Ctrl-C waits for the lane to remove what it created before the run's process group is killed.
 * kind deletes a cluster and containers, which live outside the group; every process of the control-plane
 * lane is inside it, so killing the group leaves nothing behind.
 */
const INTERRUPT_GRACE_MS: Record<string, number> = { kind: 90_000, 'control-plane': 5_000, model: 5_000 };

export interface RunFlags {
  lane?: string;
  dryRun?: boolean;
  keep?: boolean;
  reuse?: boolean;
  test?: string;
  istioVersion?: string;
  reportDir?: string;
  /** A directory of the user's case files instead of the built-in catalogue (pins optional). */
  cases?: string;
  /** Case id patterns to run / to skip (repeatable), and a report whose failed cases to rerun. */
  run?: string[];
  skip?: string[];
  rerunFailed?: string;
  /** Stop at the first case that fails or errors; the rest are reported as skipped. */
  failFast?: boolean;
}

/** --test, --run, --skip and --rerun-failed as one selection (--test is a --run). */
function selectionOf(flags: RunFlags): Selection {
  testFilter(flags.test);
  return parseSelection({
    run: [...(flags.test ? [flags.test] : []), ...(flags.run ?? [])],
    skip: flags.skip,
    rerunFailed: flags.rerunFailed,
  });
}

function selectedOrRefuse<C extends { id: string }>(all: C[], sel: Selection): C[] {
  const cases = selectCases(all, sel);
  if (cases.length === 0) throw new UserError(`${describeSelection(sel)}: selects no case; \`egress-conformance matrix\` lists them`);
  return cases;
}

export async function dryRun(flags: RunFlags, out: (s: string) => void): Promise<number> {
  const { dryRun: planRun } = await import('../../helpers/lanes/kind/index.ts');
  const cases = selectedOrRefuse(expandCases(loadCatalogue()), selectionOf(flags));
  const plan = await planRun({
    cases,
    istioVersion: istioVersionFlag(flags.istioVersion),
    keep: !!flags.keep,
    reuse: !!flags.reuse,
    runId: newRunId(),
    preloadImages: process.env.EGRESS_KIND_PRELOAD_IMAGES === '1',
  });
  out(plan.text);
  return 0;
}

/** The terminal table: counts, then every case that did not pass, from the run's JSON report. */
function printSummary(file: string, out: (s: string) => void): RunReport | undefined {
  let report: RunReport;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
  } catch {
    out(`no report at ${file}: the suite ended before writing it`);
    return undefined;
  }
  const c = countOutcomes(report.results);
  out(`\n${report.lane} lane, Istio ${report.istioVersion}: ${c.pass} passed, ${c.fail} failed, ${c.error} errors, ${c.skipped} skipped`);
  // Cases not run are counted above, not listed: a failed setup would otherwise print every case.
  const bad = report.results.filter((r) => r.outcome === 'fail' || r.outcome === 'error');
  if (bad.length) {
    out(
      renderTable(
        ['OUTCOME', 'CASE', 'EXPECTED', 'OBSERVED'],
        bad.map((r) => [
          r.outcome,
          r.id,
          `${asserted(r).verdict} ${asserted(r).cluster}${r.pin ? ' (pin)' : ''}`,
          r.observed
            ? `${r.observed.verdict}${r.observed.cluster ? ` ${r.observed.cluster}` : ''}${r.observed.error ? ` (${r.observed.error})` : ''}`
            : (r.message ?? ''),
        ]),
      ),
    );
  }
  return report;
}

function readReport(file: string): RunReport | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunReport;
  } catch {
    return undefined;
  }
}

export async function runLaneSuite(flags: RunFlags, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const requested = parseLaneName(flags.lane, '--lane', io.err);
  if (flags.dryRun) {
    if (requested === 'control-plane' || requested === 'model')
      throw new UserError(`--dry-run: only the kind lane has a plan of commands and manifests to print; drop --lane ${requested}`);
    return dryRun(flags, io.out);
  }
  const selection = selectionOf(flags);
  // A pinned istiod build's label is a version too (control-plane lane); anything else must be one the oracle knows.
  if (flags.istioVersion && !findPinnedBuild(flags.istioVersion)) istioVersionFlag(flags.istioVersion);
  // Checked before anything starts: a report dir that cannot be written is bad input, not a lost run.
  const chosenReportDir = flags.reportDir === undefined ? undefined : prepareReportDir(flags.reportDir);
  // Read the catalogue here first: a broken case file is one line from us, not a failed suite.
  const casesDir = flags.cases === undefined ? undefined : resolve(flags.cases);
  const cases = selectedOrRefuse(
    expandCases(casesDir ? loadCatalogue(casesDir, casesDir, { requirePins: false }) : loadCatalogue()),
    selection,
  );
  const lane = await chooseLane(requested, io.err);
  if (lane === 'kind' && flags.istioVersion && findPinnedBuild(flags.istioVersion)) {
    throw new UserError(
      `--istio-version: "${flags.istioVersion}" is an istiod source build, which only the control-plane lane runs; the kind lane installs Istio releases such as 1.30.3`,
    );
  }
  if (lane === 'kind' && requested === 'kind' && !(await dockerAnswers())) {
    // Said here, once and plainly, rather than as a failed hook inside the suite's output.
    throw new EnvironmentError(
      '--lane kind: no Docker daemon answers (`docker info` failed); start Docker, or run the control-plane lane: npm run e2e -- --lane control-plane',
    );
  }
  if (lane !== 'kind' && (flags.keep || flags.reuse)) throw new UserError('--keep and --reuse apply to the kind lane only');
  // The Istio this run targets, resolved once: the lane, the model's rules and the reports all take it.
  const target = resolveTarget(lane, flags.istioVersion, process.env);
  if (lane === 'control-plane') {
    // Build (or find) istiod, istioctl and every program of the kwok cluster here, so their progress shows before
    // the suite starts: the stack itself only builds when asked, and a first run on a fresh machine must not stop
    // at the first program nobody built (found 2026-12-03: kwokctl was left out, the main job ended in exit 3).
    await buildControlPlaneTools(target.pin!, io.err);
  }
  const started = Date.now();
  const reportDir = chosenReportDir ?? prepareReportDir(join('artifacts', lane), 'the default report dir (--report-dir)');
  const env: Record<string, string> = {
    EGRESS_LANE: lane,
    EGRESS_RUN_ID: newRunId(),
    EGRESS_REPORT_DIR: reportDir,
    ...(flags.failFast ? { EGRESS_FAIL_FAST: '1' } : {}),
    ...(casesDir ? { EGRESS_CASES_DIR: casesDir } : {}),
    ...(flags.keep ? { EGRESS_KEEP: '1' } : {}),
    ...(flags.reuse ? { EGRESS_REUSE: '1' } : {}),
  };
  io.err(`running ${cases.length} case(s) on the ${lane} lane (run ${env.EGRESS_RUN_ID}); reports go to ${reportDir}`);
  // Every temp dir of the run (istiod's, kubeconfigs, the tests' own) goes under one dir that this
  // process removes, also when the suite is stopped before its own cleanup ran.
  const tmp = mkdtempSync(join(tmpdir(), 'egress-run-'));
  env.EGRESS_SELECT_FILE = writeSelection(tmp, selection);
  env.EGRESS_TARGET_FILE = writeTarget(tmp, target);
  // The control-plane stack is started here, while vitest starts and reads the catalogue (seconds each, side by
  // side on two cores), and handed to the suite; not when the suite will run on the warm stack.
  const early = lane === 'control-plane' && !warmStackFits(target.pin!) ? await startEarlyStack(tmp, env, target.pin!, io.err) : undefined;
  const startedAt = new Date().toISOString();
  const child = execa(
    process.execPath,
    [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'e2e', `--reporter=${RUN_REPORTER}`, 'suites/egress.test.ts'],
    {
      cwd: ROOT,
      // CI logs are files: no colour codes in them.
      env: { ...env, TMPDIR: tmp, ...(process.stdout.isTTY ? {} : { NO_COLOR: '1' }) },
      // stderr passes through us: once the run is interrupted, vitest's complaints about the workers it
      // lost (stack traces of its IPC channel) are not the user's business.
      stdio: ['inherit', 'inherit', 'pipe'],
      buffer: false,
      reject: false,
      // Its own process group: Ctrl-C is forwarded by us, and we can wait for the lane's cleanup.
      detached: true,
    },
  );
  let interrupted: InterruptSignal | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    if (!interrupted) process.stderr.write(chunk);
  });
  const stopListening = onInterrupt(
    (sig) => {
      if (child.pid === undefined) return;
      interrupted = sig;
      io.err(`\n${sig}: stopping the run; the lane removes what this run created (press Ctrl-C again to stop at once)…`);
      // The lanes clean up in vitest's workers: they get the signal, and vitest's main process stays to see
      // them end. Signalled first, vitest's main process exits at once and its workers run on, orphaned.
      const workers = childrenOf(child.pid);
      if (workers.length) for (const w of workers) signal(w, 'SIGINT');
      else killGroup(child.pid, 'SIGINT');
    },
    { keepRunning: true },
  );
  // A second Ctrl-C exits at once (helpers/process/interrupt.ts): still stop the suite and remove the temp dir.
  const onExit = () => {
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    killProcessesNaming(tmp);
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    const result = await child;
    const reportFile = join(reportDir, `egress-${lane}.json`);
    if (interrupted && child.pid !== undefined) {
      // vitest's main process exits at once; its worker may still be tearing the lane down.
      const grace = Number(process.env.EGRESS_INTERRUPT_GRACE_MS ?? INTERRUPT_GRACE_MS[lane]);
      const pgid = child.pid;
      if (!(await pollUntil(() => !groupAlive(pgid), { timeoutMs: grace, intervalMs: 100, maxIntervalMs: 500 }))) {
        killGroup(pgid, 'SIGKILL');
        killProcessesNaming(tmp);
        io.err(
          `the lane's cleanup did not finish within ${Math.round(grace / 1000)} s and was stopped${lane === 'kind' ? `; check \`kind get clusters\` and \`docker ps --filter label=egress-conformance.run=${env.EGRESS_RUN_ID}\`` : ''}`,
        );
      }
      const oracleVersion = target.rules;
      const notRun = cases.map((c) => caseBase(c, oracleVersion));
      writeReports(
        reportDir,
        markInterrupted(readReport(reportFile), interrupted, notRun, {
          lane,
          istioVersion: oracleVersion,
          versions: { lane, oracleIstioVersion: oracleVersion },
          startedAt,
        }),
      );
    }
    const report = printSummary(reportFile, io.out);
    io.err(
      `${lane} lane ${interrupted ? 'stopped' : 'finished'} after ${Math.round((Date.now() - started) / 1000)}s; reports in ${reportDir}`,
    );
    const end = runEnd(report, result.exitCode ?? 1);
    if (end.line) io.err(`egress-conformance: ${end.line}`);
    return end.code;
  } finally {
    stopListening();
    process.off('exit', onExit);
    await early?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Starts the run's stack in this process; the suite finds it through EGRESS_STACK_FILE (early-stack.ts). */
async function startEarlyStack(
  tmp: string,
  env: Record<string, string>,
  pin: PilotDiscoveryPin,
  say: (line: string) => void,
): Promise<{ stop: () => Promise<void> }> {
  const { ControlPlaneLane } = await import('../../helpers/lanes/control-plane/lane.ts');
  const file = join(tmp, 'stack.json');
  env.EGRESS_STACK_FILE = file;
  const stack = new ControlPlaneLane({ pin, runId: env.EGRESS_RUN_ID, onProgress: say });
  const started = stack.setup().then(
    (info) => writeEarlyStack(file, { state: stack.state(), info }),
    (e: Error) => writeEarlyStack(file, { error: e.message, ...(e instanceof ExitCodeError ? { exitCode: e.exitCode } : {}) }),
  );
  return {
    stop: async () => {
      await started;
      await stack.teardown();
    },
  };
}
