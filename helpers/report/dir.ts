// The report directory: created and proven writable before a run starts, so a bad --report-dir is one
// line of bad input rather than a failure after the whole run.
import { mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../model/errors.ts';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'the file system refuses to create it',
  ENOSPC: 'no space left',
  ENAMETOOLONG: 'name too long',
};

const reason = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return REASONS[code] ?? (code || (e as Error).message);
};

/**
 * Creates `dir` (and its missing parents) and checks a file can be written there; returns its absolute
 * path. Parents are created one by one rather than with `mkdirSync(…, { recursive: true })`: under /proc,
 * where mkdir answers ENOENT for a parent that exists, Node's recursive mkdir retries forever (seen on
 * Node 20.20: `mkdirSync('/proc/x', { recursive: true })` never returns).
 */
export function prepareReportDir(dir: string, flag = '--report-dir'): string {
  const abs = resolve(dir);
  const how = /^[A-Z_]+$/.test(flag) ? `${flag}=DIR` : '--report-dir DIR';
  const bad = (what: string): never => {
    throw new UserError(`${flag}: ${abs}: ${what}; choose a directory you can write (${how})`);
  };
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) bad(p === abs ? 'is a file, not a directory' : `${p} is a file, not a directory`);
      break;
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') continue; // a file further up: reported when the walk reaches it
      if (code !== 'ENOENT') bad(`cannot be read (${reason(e)})`);
      if (dirname(p) === p) bad('no part of the path exists');
      missing.unshift(p);
    }
  }
  for (const p of missing) {
    try {
      mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') bad(`cannot be created (${reason(e)})`);
    }
  }
  const probe = join(abs, `.write-check-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    bad(`is not writable (${reason(e)})`);
  }
  return abs;
}
