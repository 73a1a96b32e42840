// A setup failure often names a log file inside a temp dir the lane removes while failing. The report
// dir keeps a copy of every log still there, and the full error text, so the message never points at a
// file that is already gone.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { prepareReportDir } from './dir.ts';

const LOG_PATH = /(\/[\w.@+-]+(?:\/[\w.@+-]+)*\.(?:log|txt))\b/g;

/**
 * Copies the log files `message` names into `<reportDir>/logs/`, writes the whole message to
 * `<reportDir>/setup-error.log`, and returns the message with each path replaced by its copy (or, for a
 * file already removed, by a pointer to setup-error.log, which holds the lines the message quoted).
 */
export function keepSetupLogs(message: string, reportDir: string): string {
  const paths = [...new Set([...message.matchAll(LOG_PATH)].map((m) => m[1]))].filter((p) => !p.startsWith(reportDir));
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
