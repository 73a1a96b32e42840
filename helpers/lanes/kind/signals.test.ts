// Ctrl-C on the shipped lane: KindLane, in its own process with its real signal handlers, is sent SIGINT
// (or SIGTERM) while idle after setup() and applyScenario(), or while a step hangs; it must remove the
// run's containers, the cluster it created and its temp dir, and exit 130 (143).
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { serverContainerName } from './servers.ts';
import { harness } from './testdata/harness.ts';
import { line, readShimLog, shimContainerId, shimState } from './testdata/standins.ts';

const ENTRY = fileURLToPath(new URL('./testdata/lane-entry.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const RUN_IDS = ['db', 'web'].map((s) => shimContainerId(serverContainerName('test-run-sig', s as 'db' | 'web'))).sort();

async function runInterrupted(signal: 'SIGINT' | 'SIGTERM', shimEnv: Record<string, string> = {}) {
  const h = harness(shimEnv);
  const ready = join(h.root, 'lane-ready');
  const waitFor = shimEnv.SHIM_HANG ? `${h.log}.hanging` : ready;
  const child = execa(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: REPO,
    env: { ...h.env, RUN_WORK_DIR: h.workDir, RUN_ARTIFACTS_DIR: join(h.root, 'artifacts'), LANE_READY: ready },
    extendEnv: false,
    reject: false,
  });
  // Wait until the lane is where the test wants it (bounded by the test timeout).
  while (!existsSync(waitFor)) {
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  // The lane created its servers and cluster before the signal.
  const before = {
    containers: shimState<{ id: string }>(h.log, 'containers')
      .map((c) => c.id)
      .sort(),
    clusters: shimState(h.log, 'clusters'),
  };
  child.kill(signal);
  const r = await child;
  return { h, r, before, lines: readShimLog(h.log).map(line) };
}

function expectCleanedUp({ h, before, lines }: Awaited<ReturnType<typeof runInterrupted>>) {
  expect(before.containers).toEqual(RUN_IDS);
  expect(before.clusters).toEqual(['egress-conformance']);
  const listAt = lines.lastIndexOf('docker ps -aq --filter label=egress-conformance.run=test-run-sig');
  expect(listAt).toBeGreaterThan(0);
  const rm = lines.slice(listAt).find((l) => l.startsWith('docker rm -f -v '));
  expect(rm?.split(' ').slice(4).sort()).toEqual(RUN_IDS);
  expect(
    lines
      .slice(listAt)
      .some((l) => l.startsWith(`kind delete cluster --name egress-conformance --kubeconfig ${join(h.workDir, 'kubeconfig')}`)),
  ).toBe(true);
  expect(shimState(h.log, 'containers')).toEqual([]);
  expect(shimState(h.log, 'clusters')).toEqual([]);
  expect(existsSync(h.workDir)).toBe(false);
  expect(h.userKubeconfigUntouched()).toBe(true);
}

describe('KindLane interrupted (own process, real signal handlers)', () => {
  it('Ctrl-C after setup and applyScenario: containers, cluster and temp dir removed, exit 130', async () => {
    const res = await runInterrupted('SIGINT');
    expect(res.r.exitCode, `${res.r.stdout}\n${res.r.stderr}`).toBe(130);
    expect(res.r.stdout).toMatch(/SIGINT: stopping, then removing what this run created/);
    expect(res.lines.some((l) => l.startsWith('istioctl manifest'))).toBe(true);
    expectCleanedUp(res);
  }, 60_000);

  it('Ctrl-C while a step hangs: the step stops, cleanup runs, no diagnostics, exit 130', async () => {
    const res = await runInterrupted('SIGINT', { SHIM_HANG: 'istioctl:manifest' });
    expect(res.r.exitCode, `${res.r.stdout}\n${res.r.stderr}`).toBe(130);
    const installAt = res.lines.findIndex((l) => l.startsWith('istioctl manifest'));
    expect(installAt).toBeGreaterThan(0);
    // Interrupted, not failed: no diagnostics collection, nothing else started.
    expect(res.lines.slice(installAt + 1).every((l) => /^(docker (ps|rm)|kind delete)/.test(l))).toBe(true);
    expect(existsSync(join(res.h.root, 'artifacts'))).toBe(false);
    expectCleanedUp(res);
  }, 60_000);

  it('SIGTERM: the same cleanup, exit 143', async () => {
    const res = await runInterrupted('SIGTERM');
    expect(res.r.exitCode, `${res.r.stdout}\n${res.r.stderr}`).toBe(143);
    expectCleanedUp(res);
  }, 60_000);
});
