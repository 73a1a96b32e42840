// `--dry-run` / `egress-conformance plan`: drives KindLane with the recording runner exactly as the suite
// drives it in a run (setup; per scenario block apply, observe each probe, clear; teardown) and prints
// every command and manifest in order, with each probe's expected verdict and cluster from the oracle.
// Nothing is executed.
import { runCases, withLane } from '../../driver/run-cases.ts';
import type { CaseRun } from '../../catalogue/types.ts';
import { expectProbe } from '../../oracle/index.ts';
import { PINNED } from '../../tools/versions.ts';
import { KindLane } from './lane.ts';
import type { ProbeToolkit } from './probe-toolkit.ts';
import { RecordingRunner } from './recording-runner.ts';
import { renderEntry } from './render.ts';
import type { RunOptions } from './context.ts';
import type { TraceEntry } from './runner.ts';
import { teardownTitle } from './phases/teardown.ts';

export interface DryRunOptions extends RunOptions {
  cases: CaseRun[];
  toolkit?: ProbeToolkit;
  /** Istio version whose rules the oracle applies (default the run's Istio version). */
  oracleVersion?: string;
}

/** Drives a lane through the cases as the suite does (the one driver); `afterObserve` sees each case. */
export async function driveLikeSuite(lane: KindLane, cases: CaseRun[], afterObserve: (c: CaseRun) => void = () => {}): Promise<void> {
  await withLane(lane, async () => {
    for await (const seen of runCases(lane, cases)) {
      // The dry run's recorder never fails a command: a failure here is a bug in the lane's plan.
      if (seen.failed) throw new Error(seen.observation.error);
      afterObserve(seen.case);
    }
  });
}

export interface DryRun {
  text: string;
  trace: TraceEntry[];
}

export async function dryRun(opts: DryRunOptions): Promise<DryRun> {
  const lines: string[] = [];
  const runner = new RecordingRunner((e) => lines.push(renderEntry(e)));
  const lane = new KindLane({ ...opts, runner, toolkit: opts.toolkit, out: () => {} });
  const c = lane.ctx;
  const oracleVersion = opts.oracleVersion ?? opts.istioVersion ?? PINNED.istio;
  await driveLikeSuite(lane, opts.cases, (run) => {
    const e = expectProbe(run.scenario.resources, run.probe, { istioVersion: oracleVersion, policy: run.policy });
    lines.push(
      `${' '.repeat(6)}expect: ${e.verdict} via ${e.cluster}${e.signal ? ` (${e.signal})` : ''}   # oracle, Istio ${oracleVersion}`,
    );
  });
  const header = [
    '# egress-conformance kind lane: dry run (nothing below is executed)',
    `# run ${c.runId}; cluster ${c.clusterName}${c.reuse ? ' (--reuse)' : ''}${c.keep ? ' (--keep)' : ''}`,
    `# istio ${c.istioVersion}; kind ${c.versions.kind}; node image ${c.versions.kindNodeImage}`,
    `# images: ${Object.entries(c.versions.images)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    `# every command runs with KUBECONFIG=${c.kubeconfig} (the run's own file; the user's kubeconfig is never read or written)`,
    `# containers are labelled ${c.runLabel}; temp dir ${c.workDir}`,
    `# ${opts.cases.length} case(s), in the order the suite runs them; the dry run assumes a fresh machine where every wait succeeds`,
    `# "${teardownTitle(c)}" also runs on failure, Ctrl-C and SIGTERM`,
  ];
  return { text: `${header.join('\n')}\n${lines.join('\n')}\n`, trace: runner.trace };
}
