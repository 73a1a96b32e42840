// Which code a process runs, as a short id: the warm stack's answer server and a command talking to it
// must run the same code, or the command would get answers from rules it does not have (an edit, a
// `git pull`, an `npm ci` since `up`). The id covers every source the CLI runs (bin/, helpers/, scripts/,
// tests excluded) and the lockfile, by path, size and mtime: cheap enough for each command (a few ms),
// and any edit changes it.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIRS = ['bin', 'helpers', 'scripts'];
const FILES = ['package-lock.json'];

function sources(dir: string, out: string[]): void {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // a directory this checkout does not have
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.(ts|mjs|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) out.push(p);
  }
}

export function codeId(root: string = ROOT): string {
  const files: string[] = FILES.map((f) => join(root, f));
  for (const d of DIRS) sources(join(root, d), files);
  const h = createHash('sha256');
  for (const f of files.sort()) {
    try {
      const s = statSync(f);
      h.update(`${relative(root, f)}\0${s.size}\0${s.mtimeMs}\n`);
    } catch {
      h.update(`${relative(root, f)}\0missing\n`);
    }
  }
  return h.digest('hex').slice(0, 16);
}
