import { readdirSync, readFileSync } from 'node:fs';
// Signalling a process or a whole process group that may already be gone (a run's vitest child).
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

export function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}

/** True while any process of the group is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills (SIGKILL) every process whose command line names `dir`. kwokctl starts the cluster's components in
 * sessions of their own, so killing the run's process group misses them; each is started with its config
 * and data under the run's private temp dir, which is how a hard stop finds exactly this run's and no
 * other's. Synchronous, so it can run in an 'exit' handler.
 */
export function killProcessesNaming(dir: string): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    if (!cmdline.split('\0').some((arg) => arg.includes(dir))) continue;
    signal(pid, 'SIGKILL');
    killed++;
  }
  return killed;
}
