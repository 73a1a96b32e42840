// A tiny entry for the Ctrl-C tests: builds the shipped KindLane (shims on PATH, fake API) in its own
// process with its real signal handlers, runs setup() and applyScenario(), says so in $LANE_READY, then
// waits to be interrupted. With SHIM_HANG set, applyScenario hangs instead and is interrupted mid-step.
import { writeFileSync } from 'node:fs';
import { KindLane } from '../lane.ts';
import { SimCluster } from './sim-cluster.ts';
import { SCENARIOS, installCount, installedMode, standinToolkit } from './standins.ts';

const log = process.env.SHIM_LOG!;
const fake = new SimCluster({
  meshMode: () => installedMode(log),
  installs: () => installCount(log),
  route: () => ({ exitCode: 0, cluster: 'PassthroughCluster' }),
});
const lane = new KindLane({
  runId: 'test-run-sig',
  workDir: process.env.RUN_WORK_DIR!,
  artifactsDir: process.env.RUN_ARTIFACTS_DIR!,
  k8s: () => fake,
  toolkit: standinToolkit,
  pollMs: 1,
  probeIntervalMs: 0,
  accessLogPollMs: 1,
  timeouts: { accessLog: 500 },
  out: (l) => process.stdout.write(`${l}\n`),
});
try {
  await lane.setup();
  const s = SCENARIOS[0];
  await lane.applyScenario(s.name, 'ALLOW_ANY', s.resources);
  // Keep the process alive until a signal: KindLane's handler tears down and exits.
  setInterval(() => {}, 1 << 30);
  writeFileSync(process.env.LANE_READY!, 'ready\n');
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
}
