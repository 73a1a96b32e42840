// Bad input to the CLI (issue 12): each case one line on stderr naming the flag or file, a non-zero exit,
// no stack trace, and nothing hangs (execa's timeout turns a hang into a failure).
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/egress-conformance.mjs', import.meta.url));
const FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));
const run = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  execa('node', [BIN, ...args], { reject: false, timeout: 60_000, ...opts });

const root = mkdtempSync(join(tmpdir(), 'egress-cli-input-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function expectCleanError(r: { exitCode?: number; stderr: string; timedOut?: boolean }, code: number, message: RegExp) {
  expect(r.timedOut).toBe(false);
  expect(r.exitCode).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('run --report-dir', () => {
  it('under a plain file is bad input before anything starts', async () => {
    const file = join(root, 'plain');
    writeFileSync(file, 'x');
    expectCleanError(await run(['run', '--report-dir', join(file, 'reports')]), 2, /--report-dir: .*plain\/reports: .*plain is a file, not a directory/);
  });

  it('in /proc is bad input, not a worker spinning in mkdir', async () => {
    expectCleanError(await run(['run', '--report-dir', '/proc/egress-reports']), 2, /--report-dir: \/proc\/egress-reports: cannot be created/);
  });
});
