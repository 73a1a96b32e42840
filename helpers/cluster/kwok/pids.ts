// A kwok cluster's components by the pid files kwokctl keeps under <cluster>/pids/: the only way back to
// them once kwokctl has exited (they run in sessions of their own), and the only one an 'exit' handler,
// which must be synchronous, can use.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether `pid` still runs `binary` (a pid that ended may have been given to another program). */
export function sameProgram(pid: number, binary: string): boolean {
  try {
    return (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '') === binary;
  } catch {
    return false;
  }
}

/**
 * The components kwokctl started, from its pid files, with the program each runs now; a pid whose command
 * line does not name this cluster's folder is someone else's (recycled) and is left out.
 */
export function recordedPids(clusterDir: string): { name: string; pid: number; binary: string }[] {
  const dir = join(clusterDir, 'pids');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .flatMap((f) => {
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0) return [];
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (!argv.some((a) => a.includes(clusterDir))) return [];
        return [{ name: f.replace(/\.pid$/, ''), pid, binary: argv[0] ?? '' }];
      } catch {
        return []; // not running
      }
    });
}

export function killPids(clusterDir: string): void {
  for (const p of recordedPids(clusterDir)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
