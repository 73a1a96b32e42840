// A setup error that names log files: the report dir keeps copies, and the message never points at a
// file that is already gone.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepSetupLogs } from './logs.ts';

const root = mkdtempSync(join(tmpdir(), 'egress-logs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('keepSetupLogs', () => {
  it('copies a log that still exists and names the copy', () => {
    const log = join(root, 'lane', 'istiod.log');
    rmSync(join(root, 'lane'), { recursive: true, force: true });
    mkdirSync(join(root, 'lane'));
    writeFileSync(log, 'line 1\nline 2\n');
    const reportDir = join(root, 'r1');
    const out = keepSetupLogs(`istiod failed; log ${log}:\nline 2`, reportDir);
    expect(out).toBe(`istiod failed; log ${join(reportDir, 'logs', 'istiod.log')}:\nline 2`);
    expect(readFileSync(join(reportDir, 'logs', 'istiod.log'), 'utf8')).toBe('line 1\nline 2\n');
    expect(readFileSync(join(reportDir, 'setup-error.log'), 'utf8')).toBe(`istiod failed; log ${log}:\nline 2\n`);
  });

  it('a log already removed is replaced by setup-error.log, which holds the quoted lines', () => {
    const gone = join(root, 'gone', 'istiod.log');
    const reportDir = join(root, 'r2');
    const out = keepSetupLogs(`pilot-discovery exited (1); log ${gone}:\nfatal: bad flag`, reportDir);
    expect(out).not.toContain(gone);
    expect(out).toContain(`log ${join(reportDir, 'setup-error.log')} (the lane removed istiod.log with its temp dir`);
    expect(readFileSync(join(reportDir, 'setup-error.log'), 'utf8')).toContain('fatal: bad flag');
    expect(existsSync(join(reportDir, 'logs'))).toBe(false);
  });

  it('a message without paths is kept as it is', () => {
    expect(keepSetupLogs('no Docker daemon answers', join(root, 'r3'))).toBe('no Docker daemon answers');
  });
});
