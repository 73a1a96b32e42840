// `egress-conformance run` as CI sees it (no TTY): a setup failure is a few plain lines with its log kept
// in the report dir; Ctrl-C writes a partial report, removes the run's temp dirs and exits 130.
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { laneFromEnv, scenarioBlocks } from '../helpers/suite/define.ts';
import { expandCases, loadCatalogue } from '../helpers/catalogue/load.ts';
import type { RunReport } from '../helpers/report/results.ts';
import { pollUntil } from '../helpers/process/poll.ts';

const BIN = fileURLToPath(new URL('../bin/egress-conformance.mjs', import.meta.url));
const ESC = '\x1b';
const CASES = expandCases(loadCatalogue());
const SCENARIOS = scenarioBlocks(CASES).length;
const LANE_HERE = laneFromEnv({ ...process.env, EGRESS_LANE: undefined }).lane === 'control-plane';

const root = mkdtempSync(join(tmpdir(), 'egress-cli-run-'));
/** What a run left in its TMPDIR, less tsx's compile cache (tsx-UID), which tsx keeps on purpose. */
const leftIn = (tmp: string) => readdirSync(tmp).filter((n) => !/^tsx-\d+$/.test(n));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// The control-plane lane's kwok cluster runs the etcd the ETCD override names (helpers/tools/kube-builds.ts):
// ETCD=/bin/false makes kwokctl's create fail, a setup failure whose cause is said in one readable line.
describe.runIf(LANE_HERE)('run: a setup failure', () => {
  it("prints a few lines, no ANSI, no stack; exits with the setup's code; the quoted log is in the report dir", async () => {
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const reports = join(root, 'setup-failure');
    const r = await execa('node', [BIN, 'run', '--lane', 'control-plane', '--report-dir', reports], {
      reject: false,
      timeout: 300_000,
      // A warm stack the user keeps up would take the run (and pass): this run must start its own.
      env: { ETCD: '/bin/false', TMPDIR: tmp, EGRESS_WARM_STACK: 'off' },
    });
    expect(r.exitCode).toBe(3);
    const all = `${r.stdout}\n${r.stderr}`;
    expect(all).not.toContain(ESC);
    expect(all).not.toMatch(/^\s+at |❯ /m);
    expect(all.trim().split('\n').length).toBeLessThan(20);
    expect(r.stdout).toMatch(/^setup failed:$/m);
    expect(r.stdout).toContain(`${CASES.length} case(s) not run`);
    // kwokctl's JSON log lines are not dumped: its ERROR cause is, naming the etcd it could not run.
    expect(all).not.toContain('{"time"');
    expect(r.stderr.trim().split('\n').pop()).toMatch(
      /^egress-conformance: control-plane lane setup failed: kwokctl create cluster \S+ failed \(exit 1\): .*etcd version: exit status 1/,
    );
    // Every path the output names exists.
    for (const p of all.match(/\/[\w./-]+\.(?:log|json|xml|md)\b/g) ?? []) expect(existsSync(p), p).toBe(true);
    expect(readFileSync(join(reports, 'setup-error.log'), 'utf8')).toMatch(/^kwokctl create cluster .*etcd version: exit status 1/);
    const report = JSON.parse(readFileSync(join(reports, 'egress-control-plane.json'), 'utf8')) as RunReport;
    expect(report.setupExitCode).toBe(3);
    expect(leftIn(tmp)).toEqual([]); // the run's temp dir is gone
  });
});

/**
 * `run --lane control-plane` with its own TMPDIR, once it has printed the first scenario's progress line.
 * Wrapped in an object: the subprocess is a promise of its result, which an async function would wait for.
 */
async function runUntilFirstScenario(tmp: string, reportDir: string) {
  const child = execa('node', [BIN, 'run', '--lane', 'control-plane', '--report-dir', reportDir], {
    reject: false,
    timeout: 600_000,
    env: { TMPDIR: tmp, EGRESS_WARM_STACK: 'off' },
  });
  let out = '';
  await new Promise<void>((resolve) =>
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^\[1\/\d+\] .*\n/m.test(out)) resolve();
    }),
  );
  return { child };
}

describe.runIf(LANE_HERE)('run on the control-plane lane', () => {
  it('prints one plain progress line per scenario; Ctrl-C writes a partial report, removes temp dirs, exits 130', async () => {
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const reports = join(root, 'interrupted');
    const { child } = await runUntilFirstScenario(tmp, reports);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stdout).toMatch(new RegExp(`^\\[1/${SCENARIOS}\\] ALLOW_ANY/[a-z0-9-]+: \\d+ passed \\(\\d+(m\\d\\d)?s\\)$`, 'm'));
    expect(`${r.stdout}${r.stderr}`).not.toContain(ESC);
    expect(r.stderr).toContain('egress-conformance: interrupted by SIGINT; partial report written');
    expect(r.stderr).not.toContain('did not finish'); // the lane's own cleanup ended the suite
    expect(r.stderr).not.toMatch(/❯ |^\s+at |Unhandled/m); // vitest's complaints about its lost workers are not shown
    const report = JSON.parse(readFileSync(join(reports, 'egress-control-plane.json'), 'utf8')) as RunReport;
    expect(report.interrupted).toBe('SIGINT');
    expect(report.results).toHaveLength(CASES.length);
    const passed = report.results.filter((x) => x.outcome === 'pass');
    const notRun = report.results.filter((x) => x.outcome === 'skipped');
    expect(passed.length).toBeGreaterThan(0);
    expect(notRun.length).toBeGreaterThan(0);
    expect(passed.length + notRun.length).toBe(CASES.length);
    expect(new Set(notRun.map((x) => x.message))).toEqual(new Set(['not run: interrupted by SIGINT']));
    expect(readFileSync(join(reports, 'summary-control-plane.md'), 'utf8')).toContain('Interrupted by SIGINT');
    expect(leftIn(tmp)).toEqual([]);
  });

  it("a second Ctrl-C stops at once: exit 130, the suite's processes killed, the temp dir removed", async () => {
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const { child } = await runUntilFirstScenario(tmp, join(root, 'twice'));
    // The second once the first is being handled (two signals sent at once arrive as one).
    const stopping = new Promise<void>((resolve) =>
      child.stderr!.on('data', (d: Buffer) => d.toString().includes('stopping the run') && resolve()),
    );
    child.kill('SIGINT');
    await stopping;
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).not.toContain('partial report written'); // it did not wait for the lane
    expect(leftIn(tmp)).toEqual([]);
    // etcd, kube-apiserver and istiod ran with paths under tmp: none of them outlives the run.
    const alive = () => execa('ps', ['-eo', 'args'], { reject: false }).then((p) => p.stdout.split('\n').filter((l) => l.includes(tmp)));
    expect(await pollUntil(async () => (await alive()).length === 0, { timeoutMs: 10_000, intervalMs: 100 })).toBe(true);
  });
});
