// The direct children of a process, read from /proc (Linux). Used to interrupt vitest's workers, where
// the lanes clean up, while vitest's main process stays to notice and end the run.
import { readdirSync, readFileSync } from 'node:fs';

/** Pids whose parent is `pid`; empty where /proc cannot be read. */
export function childrenOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split after the last ")".
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}
