// The run reporter in a real vitest run of a lane-shaped suite (testdata/reporter-suite.fixture.ts):
// progress lines n/m, each failure once as a block, a setup failure in a few lines; no ANSI, no stack.
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'egress-reporter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'vitest.config.mjs');
writeFileSync(config, `export default { test: { include: ['helpers/report/testdata/reporter-suite.fixture.ts'] } };\n`);

const runFixture = (mode: string) =>
  execa(
    process.execPath,
    [
      join(ROOT, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--root',
      ROOT,
      '--config',
      config,
      `--reporter=${join(ROOT, 'helpers/report/run-reporter.ts')}`,
    ],
    {
      reject: false,
      timeout: 120_000,
      env: { REPORTER_FIXTURE: mode, NO_COLOR: '1', TMPDIR: dir },
    },
  );

describe('run reporter', () => {
  it('one progress line per scenario, the failure once as a block, nothing else', async () => {
    const r = await runFixture('cases');
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      'FAIL REGISTRY_ONLY/one/frontend→http://x.example.com/',
      '  expected  blocked via BlackHoleCluster',
      '  observed  allowed via PassthroughCluster',
      '  why       expected blocked (BlackHoleCluster), observed allowed (PassthroughCluster)',
      '  oracle    REGISTRY_ONLY and no ServiceEntry',
      '  evidence  listener=virtualOutbound',
      expect.stringMatching(/^\[1\/2\] REGISTRY_ONLY\/one: 1 passed, 1 failed \(\d+s\)$/),
      expect.stringMatching(/^\[2\/2\] REGISTRY_ONLY\/two: 1 passed \(\d+s\)$/),
    ]);
    expect(r.stdout + r.stderr).not.toMatch(/\x1b|^\s+at |"deep"/m);
  });

  it('a setup failure is a few lines and one count of cases not run', async () => {
    const r = await runFixture('setup');
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      'setup failed:',
      '  etcd ended (exit 1); log /tmp/gone/etcd.log:',
      '  last line of the log',
      '3 case(s) not run',
    ]);
    expect(r.stderr).not.toMatch(/\x1b|^\s+at /m);
  });
});
