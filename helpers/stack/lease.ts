// Who is using the warm stack right now. The stack holds one scenario at a time, so a command that applies
// scenarios on it (`run`, `fuzz`, the answer server for each question, `expect` attached directly) takes
// this lease first and gives it back after; a command that finds it held by another live process starts a
// stack of its own instead, and says so. The lease is a file made with O_EXCL (one winner), naming its
// holder's pid; a holder that died without giving it back (kill -9) leaves a file whose pid is gone,
// which the next taker removes.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { warmDir } from './warm.ts';

export interface LeaseHolder {
  pid: number;
  /** What holds it, for the message of a command that finds it taken (`egress-conformance run`, …). */
  what: string;
}

export const leaseFile = (env: NodeJS.ProcessEnv = process.env) => join(warmDir(env), 'lease.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live holder of the lease, if any (a dead holder's file counts as no lease). */
export function leaseHolder(env: NodeJS.ProcessEnv = process.env): LeaseHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(leaseFile(env), 'utf8')) as LeaseHolder;
    return typeof h.pid === 'number' && alive(h.pid) ? h : undefined;
  } catch {
    return undefined; // none, or half-written by a taker this instant: the O_EXCL create below decides
  }
}

/**
 * Takes the lease for `what`, or returns the live holder. A lease this process already holds is taken again
 * (one process, one user of the stack). The returned release is safe to call twice and only removes the
 * file while it still names this process.
 */
export function takeLease(what: string, env: NodeJS.ProcessEnv = process.env): { release: () => void } | { heldBy: LeaseHolder } {
  const file = leaseFile(env);
  mkdirSync(warmDir(env), { recursive: true });
  const mine = { pid: process.pid, what };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine), { flag: 'wx' });
      return { release: () => releaseIfMine(file) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = leaseHolder(env);
    if (holder?.pid === process.pid) return { release: () => releaseIfMine(file) };
    if (holder) return { heldBy: holder };
    rmSync(file, { force: true }); // its holder is gone: take it over (once; a racing taker may win)
  }
  const holder = leaseHolder(env);
  return holder ? { heldBy: holder } : { heldBy: { pid: 0, what: 'another command taking it at the same moment' } };
}

function releaseIfMine(file: string): void {
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as LeaseHolder).pid === process.pid) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}
