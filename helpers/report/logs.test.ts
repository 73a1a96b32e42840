// A setup error that names log files: the report dir keeps copies, and the message never points at a
// file that is already gone.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepRunLogs, keepSetupLogs } from './logs.ts';

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

describe('keepRunLogs', () => {
  it("copies the logs of a run dir and a log file named by the lane's details, and names the copies", () => {
    const run = join(root, 'run-dir');
    mkdirSync(join(run, 'etcd'), { recursive: true });
    writeFileSync(join(run, 'istiod.log'), 'istiod\n');
    writeFileSync(join(run, 'etcd', 'etcd.log'), 'etcd\n');
    writeFileSync(join(run, 'kubeconfig'), 'secret-ish');
    const single = join(root, 'single.log');
    writeFileSync(single, 'one\n');
    const reportDir = join(root, 'r4');
    const out = keepRunLogs({ runDir: run, log: single, xds: '127.0.0.1:1', gone: join(root, 'nope.log') }, reportDir);
    expect(out).toEqual({
      runDir: join(reportDir, 'logs', 'runDir'),
      log: join(reportDir, 'logs', 'log'),
      xds: '127.0.0.1:1',
      gone: join(root, 'nope.log'),
    });
    expect(readFileSync(join(reportDir, 'logs', 'runDir', 'istiod.log'), 'utf8')).toBe('istiod\n');
    expect(readFileSync(join(reportDir, 'logs', 'runDir', 'etcd', 'etcd.log'), 'utf8')).toBe('etcd\n');
    expect(existsSync(join(reportDir, 'logs', 'runDir', 'kubeconfig'))).toBe(false);
    expect(readFileSync(join(reportDir, 'logs', 'log', 'single.log'), 'utf8')).toBe('one\n');
  });
});
