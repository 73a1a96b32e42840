// `egress-conformance run`: the main job. Runs the catalogue suite (suites/egress.test.ts) on a lane in
// a vitest child process, forwarding Ctrl-C to it and waiting until the lane has cleaned up what this
// run created. `--dry-run` prints the kind lane's whole plan without Docker.
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, UserError } from '../../helpers/model/errors.ts';
import { expandCases, loadCatalogue } from '../../helpers/catalogue/load.ts';
import { newRunId } from '../../helpers/lanes/kind/context.ts';
import { chooseLane, controlPlanePin, dockerAnswers, parseLaneName } from '../../helpers/lanes/select.ts';
import { ensurePilotDiscovery } from '../../helpers/tools/pilot-discovery.ts';
import { countOutcomes, type RunReport } from '../../helpers/report/results.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { prepareReportDir } from '../../helpers/report/dir.ts';
import { readFileSync } from 'node:fs';
import { istioVersionFlag, testFilter } from './options.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunFlags {
  lane?: string;
  dryRun?: boolean;
  keep?: boolean;
  reuse?: boolean;
  test?: string;
  istioVersion?: string;
  reportDir?: string;
}

export async function dryRun(flags: RunFlags, out: (s: string) => void): Promise<number> {
  const { dryRun: planRun } = await import('../../helpers/lanes/kind/index.ts');
  const filter = testFilter(flags.test);
  const cases = expandCases(loadCatalogue(), filter);
  if (cases.length === 0) throw new UserError(`--test: "${flags.test}" matches no case; \`egress-conformance matrix\` lists them`);
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
  const bad = report.results.filter((r) => r.outcome !== 'pass');
  if (bad.length) {
    out(renderTable(['OUTCOME', 'CASE', 'EXPECTED', 'OBSERVED'], bad.map((r) => [
      r.outcome, r.id, `${r.expected.verdict} ${r.expected.cluster}`,
      r.observed ? `${r.observed.verdict}${r.observed.cluster ? ` ${r.observed.cluster}` : ''}${r.observed.error ? ` (${r.observed.error})` : ''}` : (r.message ?? ''),
    ])));
  }
  return report;
}

/** True while any process of the group is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function runLaneSuite(flags: RunFlags, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const requested = parseLaneName(flags.lane);
  if (flags.dryRun) {
    if (requested === 'control-plane') throw new UserError('--dry-run: only the kind lane has a plan of commands and manifests to print; drop --lane control-plane');
    return dryRun(flags, io.out);
  }
  const filter = testFilter(flags.test);
  if (flags.istioVersion) istioVersionFlag(flags.istioVersion);
  // Checked before anything starts: a report dir that cannot be written is bad input, not a lost run.
  const chosenReportDir = flags.reportDir === undefined ? undefined : prepareReportDir(flags.reportDir);
  // Read the catalogue here first: a broken case file is one line from us, not a failed suite.
  if (expandCases(loadCatalogue(), filter).length === 0) throw new UserError(`--test: "${flags.test}" matches no case; \`egress-conformance matrix\` lists them`);
  const lane = await chooseLane(requested, io.err);
  if (lane === 'kind' && requested === 'kind' && !(await dockerAnswers())) {
    // Said here, once and plainly, rather than as a failed hook inside the suite's output.
    throw new EnvironmentError('--lane kind: no Docker daemon answers (`docker info` failed); start Docker, or run the control-plane lane: npm run e2e -- --lane control-plane');
  }
  if (lane === 'control-plane') {
    if (flags.keep || flags.reuse) throw new UserError('--keep and --reuse apply to the kind lane only');
    // Build (or find) istiod here, so its progress shows before the suite starts.
    const pin = controlPlanePin(flags.istioVersion, process.env);
    await ensurePilotDiscovery({ build: true, pin, onProgress: io.err });
  }
  const started = Date.now();
  const reportDir = chosenReportDir ?? prepareReportDir(join('artifacts', lane), 'the default report dir (--report-dir)');
  const env: Record<string, string> = {
    EGRESS_LANE: lane,
    EGRESS_RUN_ID: newRunId(),
    EGRESS_REPORT_DIR: reportDir,
    ...(flags.test ? { EGRESS_TEST: flags.test } : {}),
    ...(flags.istioVersion ? { EGRESS_ISTIO_VERSION: flags.istioVersion } : {}),
    ...(flags.keep ? { EGRESS_KEEP: '1' } : {}),
    ...(flags.reuse ? { EGRESS_REUSE: '1' } : {}),
  };
  io.err(`running the catalogue on the ${lane} lane (run ${env.EGRESS_RUN_ID}); reports go to ${reportDir}`);
  const child = execa(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'e2e', 'suites/egress.test.ts'], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
    reject: false,
    // Its own process group: Ctrl-C is forwarded by us, and we can wait for the lane's cleanup.
    detached: true,
  });
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted || child.pid === undefined) return;
    interrupted = sig;
    io.err(`\n${sig}: stopping the run; the lane removes what this run created…`);
    try {
      process.kill(-child.pid, 'SIGINT');
    } catch {
      /* already gone */
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await child;
    if (interrupted && child.pid !== undefined) {
      // vitest's main process may exit before the worker has finished tearing the lane down.
      const deadline = Date.now() + 10 * 60_000;
      while (groupAlive(child.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      io.err(groupAlive(child.pid) ? 'cleanup still running after 10 minutes; check `docker ps --filter label=egress-conformance.run`' : 'cleanup done');
      return interrupted === 'SIGTERM' ? 143 : 130;
    }
    const report = printSummary(join(reportDir, `egress-${lane}.json`), io.out);
    io.err(`${lane} lane finished in ${Math.round((Date.now() - started) / 1000)}s; reports in ${reportDir}`);
    if (report?.setupError && report.setupExitCode) {
      // The lane could not start for a reason the user can fix: end on that one line and its code.
      throw new UserError(report.setupError.split('\n')[0], report.setupExitCode);
    }
    return result.exitCode === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
