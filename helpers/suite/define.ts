// Declares a vitest suite that runs case runs on one lane and compares each observation with the
// oracle: one test per probe, named POLICY/scenario/from→to, reports written at the end (also when
// setup failed). Used by suites/*.test.ts.
import { scenarioBlocks } from '../catalogue/blocks.ts';
export { scenarioBlocks };
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { CaseRun } from '../catalogue/types.ts';
import type { Lane, LaneInfo } from '../lanes/lane.ts';
import { CaseDriver, uniqueSources } from '../driver/run-cases.ts';
import { createLane, parseLaneName, type LaneName } from '../lanes/select.ts';
import { readTarget, resolveTarget } from '../lanes/target.ts';
import { judge, type CaseResult, type RunReport } from '../report/results.ts';
import { pinFor } from '../catalogue/pins.ts';
import type { PinnedExpectation } from '../catalogue/types.ts';
import type { Observation, ProbeSource } from '../model/types.ts';
import { writePartialReport, writeReports } from '../report/write.ts';
import { keepRunLogs, keepSetupLogs } from '../report/logs.ts';
import { prepareReportDir } from '../report/dir.ts';
import '../report/case-meta.ts';
import { caseBase } from '../report/case-base.ts';
import { controlPlaneMissing } from '../lanes/control-plane/requirements.ts';
import { warmStackForRun } from '../stack/exclusive.ts';
import { awaitEarlyStack } from './early-stack.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { ExitCodeError } from '../model/errors.ts';
import { interruptedBy } from '../process/interrupt.ts';

/** A passing probe still fails when it contradicts the case's own pin for this version. */
export function checkPin(
  verdict: ReturnType<typeof judge>,
  pin: PinnedExpectation | undefined,
  observed: Observation,
): ReturnType<typeof judge> & Pick<CaseResult, 'pin'> {
  if (verdict.outcome !== 'pass' || !pin) return verdict;
  if (pin.verdict !== observed.verdict || (observed.cluster && pin.cluster !== observed.cluster)) {
    return {
      outcome: 'fail',
      pin: { verdict: pin.verdict, cluster: pin.cluster },
      message: `agrees with the oracle, but the case pins ${pin.verdict} ${pin.cluster} and the lane observed ${observed.verdict}${observed.cluster ? ` ${observed.cluster}` : ''}`,
    };
  }
  return verdict;
}

export interface LaneChoice {
  lane?: LaneName;
  skip?: string;
}

/** EGRESS_LANE when set; otherwise the control-plane lane when the pinned pilot-discovery is there. */
export function laneFromEnv(env: NodeJS.ProcessEnv = process.env): LaneChoice {
  const requested = parseLaneName(env.EGRESS_LANE, 'EGRESS_LANE');
  if (requested !== 'auto') return { lane: requested };
  const missing = controlPlaneMissing(env);
  if (!missing) return { lane: 'control-plane' };
  return { skip: `no lane can run: EGRESS_LANE is unset and ${missing}` };
}

export interface LaneSuiteOptions {
  title: string;
  choice: LaneChoice;
  cases: CaseRun[];
  /** Report file names are `<kind>-<reportName>.<ext>`. */
  reportName: string;
  env?: NodeJS.ProcessEnv;
}

export function defineLaneSuite(opts: LaneSuiteOptions): void {
  const env = opts.env ?? process.env;
  const { lane: laneName, skip } = opts.choice;
  // `run` resolved the target once and wrote it (EGRESS_TARGET_FILE); plain `npm test` runs the lane's pinned one.
  const target = laneName
    ? env.EGRESS_TARGET_FILE
      ? readTarget(env.EGRESS_TARGET_FILE)
      : resolveTarget(laneName, undefined, env)
    : undefined;
  const oracleVersion = target?.rules ?? '';

  describe.skipIf(!!skip)(`${opts.title} on the ${laneName ?? 'unavailable'} lane${skip ? ` — skipped: ${skip}` : ''}`, () => {
    let lane: Lane | undefined;
    let driver: CaseDriver<CaseRun> | undefined;
    let info: LaneInfo | undefined;
    let setupError: string | undefined;
    let releaseWarm: (() => Promise<void>) | undefined;
    let setupExitCode: number | undefined;
    const results: CaseResult[] = [];
    const diagnosed = new Set<string>();
    // `run --fail-fast`: the first case that fails or errors; every case after it is skipped, and says why.
    const failFast = env.EGRESS_FAIL_FAST === '1';
    let stoppedAfter: string | undefined;
    const reportDir = env.EGRESS_REPORT_DIR ?? join(process.cwd(), 'artifacts');
    const startedAt = new Date().toISOString();

    // The model is told the Pods the lane runs for a case's block: the driver applies each block with its
    // probes' sources, and a lane may run more Pods than those (Lane.podsFor).
    const blocks = scenarioBlocks(opts.cases);
    const blockSources = new Map<CaseRun, ProbeSource[]>();
    for (const block of blocks) {
      const sources = uniqueSources(block.map((c) => c.probe.from));
      for (const c of block) blockSources.set(c, sources);
    }
    const workloadsFor = (c: CaseRun): ProbeSource[] => {
      const sources = blockSources.get(c) ?? [c.probe.from];
      return lane?.podsFor?.(c.scenario.resources, sources) ?? sources;
    };

    beforeAll(async () => {
      try {
        // A report dir that cannot be written fails here, in one line, before the lane creates anything.
        prepareReportDir(reportDir, 'EGRESS_REPORT_DIR');
        // `run` may have started the stack itself, while this process started: attach to it.
        const early = laneName === 'control-plane' && env.EGRESS_STACK_FILE ? await awaitEarlyStack(env.EGRESS_STACK_FILE) : undefined;
        // `egress-conformance up` keeps a stack warm: the control-plane lane runs on it when it fits (said aloud).
        const warm =
          laneName === 'control-plane' && !early
            ? await warmStackForRun({
                pin: target?.pin ?? PINNED_PILOT,
                what: `egress-conformance run (${opts.title})`,
                say: (l) => process.stdout.write(`${l}\n`),
                env,
              })
            : undefined;
        releaseWarm = warm?.release;
        lane = early
          ? (await import('../lanes/control-plane/lane.ts')).ControlPlaneLane.attach(early.state)
          : (warm?.lane ??
            (await createLane(laneName!, {
              target,
              keep: env.EGRESS_KEEP === '1',
              reuse: env.EGRESS_REUSE === '1',
              ...(env.EGRESS_RUN_ID ? { runId: env.EGRESS_RUN_ID } : {}),
              artifactsDir: reportDir,
            })));
        info = await lane.setup();
        // The attached lane knows the stack, not how it was started: `run`'s lane said that.
        if (early) info = early.info;
        driver = new CaseDriver(lane, {}, opts.cases);
      } catch (e) {
        setupError = keepSetupLogs((e as Error).message, reportDir);
        // The reporters print this error: let it name the kept copies, not files already removed.
        if (e instanceof Error) e.message = setupError;
        // A user-fixable problem (no Docker, a tool missing, a cluster not ours) keeps its exit code so
        // `egress-conformance run` can end with that one line and code.
        if (e instanceof ExitCodeError) setupExitCode = e.exitCode;
        throw e;
      }
    });

    const report = (partial: boolean): RunReport => ({
      lane: opts.reportName,
      istioVersion: info?.istioVersion ?? oracleVersion,
      versions: { lane: laneName!, oracleIstioVersion: oracleVersion, ...(info?.details ?? {}) },
      startedAt,
      finishedAt: new Date().toISOString(),
      results,
      ...(setupError ? { setupError, ...(setupExitCode ? { setupExitCode } : {}) } : {}),
      ...(partial ? { partial } : {}),
    });

    afterAll(async () => {
      try {
        // Teardown removes the lane's run dir: its logs go with the reports first.
        if (info) info = { ...info, details: keepRunLogs(info.details, reportDir) };
        await driver?.clear();
        await lane?.teardown();
        await releaseWarm?.();
      } finally {
        // Cases that never ran (the run stopped before them) are listed as skipped, with the reason.
        const ran = new Set(results.map((r) => r.id));
        for (const c of opts.cases) {
          if (ran.has(c.id)) continue;
          const sig = interruptedBy();
          const message = sig ? `not run: interrupted by ${sig}` : 'not run: the run stopped first';
          results.push({ ...caseBase(c, oracleVersion, workloadsFor(c)), outcome: 'skipped', message });
        }
        const files = writeReports(reportDir, report(false));
        process.stdout.write(`reports: ${files.join(', ')}\n`);
      }
    });

    for (const block of blocks) {
      const { scenario, policy } = block[0];
      describe(`${policy}/${scenario.name}`, () => {
        for (const c of block) {
          it(c.id, async ({ task, skip }) => {
            const base = caseBase(c, oracleVersion, workloadsFor(c));
            const { expected } = base;
            // The run reporter prints the case from task meta, not the assertion below.
            const record = (r: CaseResult) => {
              results.push(r);
              task.meta.egressCase = r;
              if (failFast && (r.outcome === 'fail' || r.outcome === 'error')) stoppedAfter ??= r.id;
              // The results so far, so a run that dies before its afterAll still has a report (`run` marks it
              // interrupted). Once per scenario block, not per case: the report grows with every case (1.8 MB
              // for the catalogue), and rewriting it after each of 542 cases cost ~5 s of CPU per run.
              if (!setupError && (c === block.at(-1) || stoppedAfter)) writePartialReport(reportDir, report(true));
            };
            if (stoppedAfter) {
              record({ ...base, outcome: 'skipped', message: `not run: --fail-fast stopped the run after ${stoppedAfter}` });
              return skip();
            }
            // Interrupted: the lane is being torn down under the cases still queued; they did not run.
            const notRun = () => {
              const sig = interruptedBy();
              if (sig) record({ ...base, outcome: 'skipped', message: `not run: interrupted by ${sig}` });
              return !!sig;
            };
            if (notRun()) return skip();
            if (setupError || !driver) {
              const cause = `lane setup failed: ${(setupError ?? 'no lane').split('\n')[0]}`;
              record({ ...base, outcome: 'error', message: cause });
              throw new Error(cause);
            }
            const seen = await driver.observe(c);
            if (notRun()) return skip(); // what it saw came from a lane the interrupt was tearing down
            const observed = seen.observation;
            if (seen.failed) {
              // Not thrown by the driver: each probe of a scenario that failed to apply fails as an `error`
              // with this cause, and the reports say so, rather than listing the probes as skipped.
              const message = observed.error ?? 'the lane failed';
              record({ ...base, outcome: 'error', message, ...(seen.failed === 'observe' ? { durationMs: seen.durationMs } : {}) });
              throw new Error(message);
            }
            // Hand pins, where the case has them, are checked as well as the oracle (user case files may pin).
            const verdict = checkPin(judge(expected, observed), pinFor(c.probe, policy, oracleVersion), observed);
            if (verdict.outcome !== 'pass' && lane!.diagnose) {
              // Once per failing source and scenario: the same sidecar config explains all its probes.
              const key = `${policy}/${scenario.name}/${c.probe.from.namespace}`;
              if (!diagnosed.has(key)) {
                diagnosed.add(key);
                const dir = join(reportDir, 'diagnostics', key.replaceAll('/', '_'));
                const files = await lane!.diagnose(c.probe, dir);
                if (files.length) observed.evidence.diagnostics = dir;
              }
            }
            record({ ...base, observed, ...verdict, durationMs: Math.round(seen.durationMs) });
            expect(verdict.outcome, `${verdict.message}\n  oracle: ${expected.reason}`).toBe('pass');
          });
        }
      });
    }
  });
}
