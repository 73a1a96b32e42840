// The report dir is checked before a run: every way it can be unusable is one UserError naming the path,
// and none of them hangs (Node's recursive mkdir spins forever under /proc).
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../model/errors.ts';
import { prepareReportDir } from './dir.ts';
import { writeReports } from './write.ts';

const root = mkdtempSync(join(tmpdir(), 'egress-reportdir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const failure = (dir: string) => {
  try {
    prepareReportDir(dir);
  } catch (e) {
    return e;
  }
  throw new Error(`prepareReportDir(${dir}) did not fail`);
};

describe('prepareReportDir', () => {
  it('creates missing parents and returns the absolute path', () => {
    const dir = join(root, 'a', 'b', 'c');
    expect(prepareReportDir(dir)).toBe(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(prepareReportDir(dir)).toBe(dir); // an existing dir is fine
  });

  it('a path under a plain file names the file', () => {
    const file = join(root, 'plain');
    writeFileSync(file, 'x');
    const e = failure(join(file, 'sub', 'dir'));
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(2);
    expect((e as Error).message).toBe(
      `--report-dir: ${join(file, 'sub', 'dir')}: ${file} is a file, not a directory; choose a directory you can write (--report-dir DIR)`,
    );
    expect((e as Error).message).not.toContain('\n');
  });

  it('a plain file itself is refused', () => {
    const file = join(root, 'plain2');
    writeFileSync(file, 'x');
    expect((failure(file) as Error).message).toMatch(/plain2: is a file, not a directory/);
  });

  it.runIf(existsSync('/proc/self'))('a dir under /proc is refused instead of spinning in mkdir', () => {
    const e = failure('/proc/egress-conformance-report/x');
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(/^--report-dir: \/proc\/egress-conformance-report\/x: cannot be created/);
    expect((failure('/proc') as Error).message).toMatch(/^--report-dir: \/proc: is not writable/);
  });

  it.runIf(existsSync('/proc/self'))('writeReports refuses such a dir too (the suite under npm test with EGRESS_REPORT_DIR)', () => {
    const report = { lane: 'x', istioVersion: '1', versions: {}, startedAt: '', finishedAt: '', results: [] };
    expect(() => writeReports('/proc/egress-conformance-report', report)).toThrow(
      /^EGRESS_REPORT_DIR: \/proc\/egress-conformance-report: cannot be created/,
    );
  });
});
