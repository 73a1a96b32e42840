// Ctrl-C in the middle of a run: the runner, in its own process with its real signal handlers, is sent
// SIGINT while a step hangs; it must remove what it created and exit 130.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { harness } from './testdata/harness.ts';
import { line, readShimLog } from './testdata/standins.ts';

const ENTRY = fileURLToPath(new URL('./testdata/run-entry.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

async function runInterrupted(signal: 'SIGINT' | 'SIGTERM') {
  const h = harness({ SHIM_HANG: 'istioctl:install' });
  const child = execa(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: REPO,
    env: { ...h.env, RUN_WORK_DIR: h.workDir, RUN_ARTIFACTS_DIR: join(h.root, 'artifacts') },
    extendEnv: false,
    reject: false,
  });
  // Wait until the run is inside the hanging step (bounded by the test timeout, not asserted).
  while (!existsSync(`${h.log}.hanging`)) {
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill(signal);
  const r = await child;
  return { h, r, lines: readShimLog(h.log).map(line) };
}

describe('kind lane interrupted', () => {
  it('Ctrl-C mid-run: cleanup runs and the exit code is 130', async () => {
    const { h, r, lines } = await runInterrupted('SIGINT');
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGINT/);
    const installAt = lines.findIndex((l) => l.startsWith('istioctl install'));
    expect(installAt).toBeGreaterThan(0);
    const after = lines.slice(installAt + 1);
    expect(after).toContain('docker ps -aq --filter label=egress-conformance.run=test-run-sig');
    expect(after.some((l) => /^docker rm -f -v \S+ \S+$/.test(l))).toBe(true);
    expect(after.some((l) => l.startsWith('kind delete cluster --name egress-conformance'))).toBe(true);
    // Interrupted, not failed: no diagnostics collection, nothing else started.
    expect(after.some((l) => l.startsWith('istioctl proxy-status'))).toBe(false);
    expect(existsSync(h.workDir)).toBe(false);
    expect(h.userKubeconfigUntouched()).toBe(true);
  }, 60_000);

  it('SIGTERM mid-run: cleanup runs and the exit code is 143', async () => {
    const { r, lines } = await runInterrupted('SIGTERM');
    expect(r.exitCode, r.stderr).toBe(143);
    expect(lines.some((l) => l.startsWith('kind delete cluster'))).toBe(true);
  }, 60_000);
});
