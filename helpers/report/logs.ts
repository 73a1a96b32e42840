// A setup failure often names a log file inside a temp dir the lane removes while failing. The report
// dir keeps a copy of every log still there, and the full error text, so the message never points at a
// file that is already gone.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative } from 'node:path';
import { prepareReportDir } from './dir.ts';

const LOG_PATH = /(\/[\w.@+-]+(?:\/[\w.@+-]+)*\.(?:log|txt))\b/g;

/**
 * Copies the log files `message` names into `<reportDir>/logs/`, writes the whole message to
 * `<reportDir>/setup-error.log`, and returns the message with each path replaced by its copy (or, for a
 * file already removed, by a pointer to setup-error.log, which holds the lines the message quoted).
 */
export function keepSetupLogs(message: string, reportDir: string): string {
  const paths = [...new Set([...message.matchAll(LOG_PATH)].flatMap((m) => (m[1] === undefined ? [] : [m[1]])))].filter(
    (p) => !p.startsWith(reportDir),
  );
  const errorFile = join(reportDir, 'setup-error.log');
  let out = message;
  try {
    prepareReportDir(reportDir, 'EGRESS_REPORT_DIR');
    for (const p of paths) {
      if (existsSync(p)) {
        mkdirSync(join(reportDir, 'logs'), { recursive: true });
        let copy = join(reportDir, 'logs', basename(p));
        for (let i = 2; existsSync(copy); i++) copy = join(reportDir, 'logs', `${i}-${basename(p)}`);
        copyFileSync(p, copy);
        out = out.replaceAll(p, copy);
      } else {
        out = out.replaceAll(p, `${errorFile} (the lane removed ${basename(p)} with its temp dir; what this message quotes is kept there)`);
      }
    }
    writeFileSync(errorFile, message.endsWith('\n') ? message : `${message}\n`);
  } catch {
    // Best effort: the report dir was checked before the run; the original message is still true.
    return message;
  }
  return out;
}

/** The `.log` files in `dir` and its subdirectories, `depth` levels down. */
function logsUnder(dir: string, depth: number): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isFile() && e.name.endsWith('.log')) return [p];
    return e.isDirectory() && depth > 0 ? logsUnder(p, depth - 1) : [];
  });
}

/**
 * Before teardown: the logs behind a lane's details (a log file, or a run dir holding logs) are copied
 * to `<reportDir>/logs/<key>/`, and the detail then names the copy, since teardown removes the original.
 * Best effort: a detail that cannot be copied is left as it is.
 */
export function keepRunLogs(details: Record<string, string>, reportDir: string): Record<string, string> {
  const out = { ...details };
  for (const [key, value] of Object.entries(details)) {
    if (!isAbsolute(value) || value.startsWith(reportDir)) continue;
    try {
      const st = statSync(value);
      const files = st.isDirectory() ? logsUnder(value, 2) : value.endsWith('.log') ? [value] : [];
      if (!files.length) continue;
      const dest = join(reportDir, 'logs', key);
      for (const f of files) {
        const to = join(dest, st.isDirectory() ? relative(value, f) : basename(f));
        mkdirSync(join(to, '..'), { recursive: true });
        copyFileSync(f, to);
      }
      out[key] = dest;
    } catch {
      // gone already, or unreadable: keep the detail as the lane gave it
    }
  }
  return out;
}
