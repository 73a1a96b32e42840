// `compare --fail-on` through the command and the binary, on the model lane of the two pinned builds: a
// case file whose only change opens egress, and one whose only change closes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCompare } from './compare.ts';
import { tempDirs } from '../../helpers/testing/temp-dirs.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const OPENS = fileURLToPath(new URL('../../helpers/compare/testdata/opens-egress.yaml', import.meta.url));
const CLOSES = fileURLToPath(new URL('../../helpers/compare/testdata/closes-egress.yaml', import.meta.url));
const BUILDS = { from: 'master-2026-04-23', to: 'master-2026-08-27', lane: 'model', builtin: false } as const;

const tmp = tempDirs('iec-failon-');

async function compare(file: string, failOn?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const reportDir = tmp();
  const code = await runCompare(
    { ...BUILDS, file: [file], reportDir, ...(failOn ? { failOn } : {}) },
    { out: (s) => void out.push(s), err: (s) => void err.push(s) },
  );
  return { code, out: out.join('\n'), err: err.join('\n'), reportDir };
}

describe('compare --fail-on (command)', () => {
  const FILES = { 'opens-egress': OPENS, 'closes-egress': CLOSES };
  it.each([
    ['opens-egress', 'opened', 1],
    ['closes-egress', 'opened', 0],
    ['closes-egress', 'closed', 1],
    ['opens-egress', 'closed', 0],
    ['opens-egress', 'any', 1],
    ['closes-egress', 'any', 1],
  ] as const)('%s with --fail-on %s exits %i', async (name, failOn, code) => {
    const r = await compare(FILES[name], failOn);
    expect(r.code).toBe(code);
    if (code) expect(r.err).toMatch(new RegExp(`--fail-on ${failOn}: 1 probe ${failOn === 'any' ? 'changed' : failOn}: REGISTRY_ONLY/`));
    else expect(r.err).not.toMatch(/--fail-on/);
  });

  it('without it, the exit rule is as before: 0 when every change is explained, opening included', async () => {
    const r = await compare(OPENS);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/REGISTRY_ONLY\/opens-egress\/default→tcp:\/\/db\.example\.com:5432\s+OPENED\s+blocked BlackHoleCluster/);
  });

  it('compare.md: the opening marked OPENED under ⚠️, the closing file with its unchanged probe in the appendix', async () => {
    const opened = readFileSync(join((await compare(OPENS, 'opened')).reportDir, 'compare.md'), 'utf8');
    expect(opened).toMatch(/\n⚠️ /);
    expect(opened).toContain('| **OPENED** | blocked BlackHoleCluster | allowed outbound\\|5432\\|\\|db.example.com | default-export-to');
    const closed = readFileSync(join((await compare(CLOSES)).reportDir, 'compare.md'), 'utf8');
    expect(closed).toContain(
      '| closed | allowed outbound\\|6379\\|\\|cache.example.com | blocked BlackHoleCluster | sidecar-egress-exclusions',
    );
    expect(closed).toContain('### Appendix: 1 unchanged probes');
    expect(closed).toContain('  - `default→tcp://cache.example.com:6379`');
  });
});

describe('egress-conformance compare --fail-on (binary)', () => {
  const run = (...args: string[]) =>
    execa('node', [BIN, 'compare', '--lane', 'model', '--from', BUILDS.from, '--to', BUILDS.to, '--no-builtin', ...args], {
      reject: false,
    });

  it('a bad value: exit 2, one line naming --fail-on and the values it takes, before anything runs', async () => {
    const r = await run('-f', OPENS, '--fail-on', 'sideways', '--report-dir', tmp());
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'egress-conformance: --fail-on: "sideways" is not a direction; use opened (blocked → allowed), closed (allowed → blocked) or any (either, or a changed cluster or path)',
    ]);
    expect(r.stdout).toBe('');
  });

  it('--fail-on opened: exit 1 on the file that opens, 0 on the one that only closes', async () => {
    const opens = await run('-f', OPENS, '--fail-on', 'opened', '--report-dir', tmp());
    expect(opens.exitCode).toBe(1);
    expect(opens.stderr).toContain('--fail-on opened: 1 probe opened: REGISTRY_ONLY/opens-egress/default→tcp://db.example.com:5432');
    const closes = await run('-f', CLOSES, '--fail-on', 'opened', '--report-dir', tmp());
    expect(closes.exitCode).toBe(0);
    expect(closes.stdout).toMatch(/1 changed \(0 opened, 1 closed, 0 rerouted;/);
  });
});
