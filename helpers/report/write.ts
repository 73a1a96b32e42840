// Writes a run's reports (JSON with evidence, JUnit, Markdown) into one folder.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from './results.ts';
import { renderJUnit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { prepareReportDir } from './dir.ts';

export function writeReports(dir: string, report: RunReport): string[] {
  prepareReportDir(dir, 'EGRESS_REPORT_DIR');
  const files = {
    [`egress-${report.lane}.json`]: JSON.stringify(report, null, 2) + '\n',
    [`junit-${report.lane}.xml`]: renderJUnit(report),
    [`summary-${report.lane}.md`]: renderMarkdown(report),
  };
  return Object.entries(files).map(([name, text]) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  });
}
