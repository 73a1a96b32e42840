// The reaper of a run dir: once its owner is killed outright, every process naming the dir is ended and the
// dir removed; released, it leaves them alone. (kwokctl's components run in sessions of their own, which is
// why a run killed with -9 used to leave them running: reaper.ts.)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollUntil } from './poll.ts';
import { reapOnOwnerDeath } from './reaper.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A process in a session of its own whose command line names `dir` (as a kwok component's does). */
function component(dir: string): number {
  const c = spawn('/bin/sh', ['-c', 'sleep 120', join(dir, 'etcd')], { detached: true, stdio: 'ignore' });
  c.unref();
  return c.pid!;
}

describe('reapOnOwnerDeath', () => {
  it('ends what names the run dir and removes the dir once the owner is killed; released, it does nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reaper-'));
    const owner = spawn('sleep', ['120'], { stdio: 'ignore' });
    const victim = component(dir);
    reapOnOwnerDeath(dir, owner.pid!);

    const kept = mkdtempSync(join(tmpdir(), 'reaper-kept-'));
    const owner2 = spawn('sleep', ['120'], { stdio: 'ignore' });
    const survivor = component(kept);
    reapOnOwnerDeath(kept, owner2.pid!)();

    owner.kill('SIGKILL');
    owner2.kill('SIGKILL');
    expect(await pollUntil(() => !alive(victim) && !existsSync(dir), { timeoutMs: 30_000, intervalMs: 200 })).toBe(true);
    await new Promise((r) => setTimeout(r, 2500));
    expect(alive(survivor)).toBe(true);
    expect(existsSync(kept)).toBe(true);
    process.kill(survivor, 'SIGKILL');
    rmSync(kept, { recursive: true, force: true });
  }, 60_000);
});
