// Writes a run's reports (JSON with evidence, JUnit, Markdown, the conformance report) into one folder.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunReport, totalsOf } from './results.ts';
import { renderJUnit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { renderConformanceYaml } from './conformance.ts';
import { prepareReportDir } from './dir.ts';

/** The JSON report: counts and durations first, then the run as recorded. */
export function reportJson(report: RunReport): string {
  const { results, ...head } = report;
  return `${JSON.stringify({ ...head, ...totalsOf(report), results }, null, 2)}\n`;
}

export function writeReports(dir: string, report: RunReport): string[] {
  prepareReportDir(dir, 'EGRESS_REPORT_DIR');
  const files = {
    [`egress-${report.lane}.json`]: reportJson(report),
    [`junit-${report.lane}.xml`]: renderJUnit(report),
    [`summary-${report.lane}.md`]: renderMarkdown(report),
    [`conformance-${report.lane}.yaml`]: renderConformanceYaml(report),
  };
  return Object.entries(files).map(([name, text]) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  });
}

/**
 * The JSON report alone, written after every case while a run goes on, so an interrupted run keeps what it
 * observed (JUnit and Markdown are written at the end). Written to a temp name and renamed, so a reader
 * never sees half a file.
 */
export function writePartialReport(dir: string, report: RunReport): void {
  const p = join(dir, `egress-${report.lane}.json`);
  writeFileSync(`${p}.tmp`, reportJson(report));
  renameSync(`${p}.tmp`, p);
}
