// A tiny entry for the Ctrl-C test: runs the lane (shims on PATH, fake API) in its own process, with the
// real signal handlers, and exits with the code the CLI would use.
import { runKindLane } from '../runner.ts';
import { FakeK8s } from './fake-k8s.ts';
import { cases, installedMode, standinToolkit } from './standins.ts';

const log = process.env.SHIM_LOG!;
const fake = new FakeK8s({ meshMode: () => installedMode(log) });
try {
  await runKindLane({
    cases: cases(),
    runId: 'test-run-sig',
    workDir: process.env.RUN_WORK_DIR!,
    k8s: () => fake,
    toolkit: standinToolkit,
    artifactsDir: process.env.RUN_ARTIFACTS_DIR!,
    pollMs: 1,
    probeIntervalMs: 0,
    timeouts: { settle: 0 },
    out: (l) => process.stdout.write(`${l}\n`),
  });
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
}
