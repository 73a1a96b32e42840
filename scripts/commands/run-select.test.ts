// `run --run/--skip/--rerun-failed/--fail-fast`: which cases run, matched on POLICY/scenario/from→to, on the
// model lane (instant, no tool), through the real command and suite; bad input is one line and exit 2.
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue } from '../../helpers/catalogue/load.ts';
import type { RunReport } from '../../helpers/report/results.ts';
import { failedIds, parseSelection, selectCases } from '../../helpers/suite/select.ts';
import { tempDirs } from '../../helpers/testing/temp-dirs.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const tmp = tempDirs('iec-select-');
const all = expandCases(loadCatalogue());
const ids = (sel: Parameters<typeof parseSelection>[0]) => selectCases(all, parseSelection(sel)).map((c) => c.id);

describe('case selection', () => {
  it('--run: any pattern; --skip: none of them; both on the whole id', () => {
    const frontend = ids({ run: ['/frontend→'] });
    expect(frontend.length).toBeGreaterThan(0);
    expect(frontend.every((id) => id.includes('/frontend→'))).toBe(true);
    const two = ids({ run: ['^ALLOW_ANY/no-serviceentry/', '^REGISTRY_ONLY/no-serviceentry/'] });
    expect(new Set(two.map((id) => id.split('/')[0]))).toEqual(new Set(['ALLOW_ANY', 'REGISTRY_ONLY']));
    const skipped = ids({ run: ['/frontend→'], skip: ['^ALLOW_ANY/', 'tcp://'] });
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.some((id) => id.startsWith('ALLOW_ANY/') || id.includes('tcp://'))).toBe(false);
    expect(skipped.length).toBeLessThan(frontend.length);
    expect(ids({})).toHaveLength(all.length);
  });

  it('--rerun-failed: only what failed or errored in the report; a missing or foreign file is one line', () => {
    const d = tmp();
    const [a, b, c] = all;
    const report = join(d, 'egress-model.json');
    writeFileSync(
      report,
      JSON.stringify({
        results: [
          { id: a!.id, outcome: 'fail' },
          { id: b!.id, outcome: 'pass' },
          { id: c!.id, outcome: 'error' },
        ],
      }),
    );
    expect(failedIds(report)).toEqual([a!.id, c!.id]);
    expect(ids({ rerunFailed: report })).toEqual([a!.id, c!.id]);
    expect(() => failedIds(join(d, 'nope.json'))).toThrow(/--rerun-failed: cannot read .*nope\.json \(no such file\)/);
    writeFileSync(join(d, 'other.json'), '{"x": 1}');
    expect(() => failedIds(join(d, 'other.json'))).toThrow(/is not a JSON report of `egress-conformance run`/);
    expect(() => parseSelection({ skip: ['('] })).toThrow(/--skip: "\(" is not a valid regular expression/);
  });
});

describe('egress-conformance run with a selection (model lane)', () => {
  const run = (args: string[]) => execa('node', [BIN, 'run', '--lane', 'model', ...args], { reject: false, env: { NO_COLOR: '1' } });

  it('runs only the selected cases, then --rerun-failed on its report runs nothing when nothing failed, and --fail-fast stops at the first failure', async () => {
    const d = tmp();
    const r = await run(['--run', '^REGISTRY_ONLY/no-serviceentry/', '--skip', 'https://', '--report-dir', d]);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(d, 'egress-model.json'), 'utf8')) as RunReport;
    const expected = ids({ run: ['^REGISTRY_ONLY/no-serviceentry/'], skip: ['https://'] });
    expect(report.results.map((x) => x.id).sort()).toEqual([...expected].sort());
    expect(report.results.every((x) => x.outcome === 'pass')).toBe(true);

    // Nothing failed: nothing to rerun, said in one line, exit 2.
    const again = await run(['--rerun-failed', join(d, 'egress-model.json'), '--report-dir', tmp()]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr.trim()).toMatch(/--rerun-failed .*\(0 failed or errored\): selects no case/);

    // A user case whose pin contradicts the model fails; --fail-fast skips what comes after it.
    const cases = tmp();
    writeFileSync(
      join(cases, 'mine.yaml'),
      `name: wrong-pin
policies: [REGISTRY_ONLY]
manifests: []
probes:
  - {from: frontend, to: "tcp://db.example.com:5432", expect: {REGISTRY_ONLY: allowed PassthroughCluster}}
  - {from: default, to: "tcp://db.example.com:5432"}
  - {from: default, to: "http://api.example.com/"}
`,
    );
    const d2 = tmp();
    const ff = await run(['--cases', cases, '--fail-fast', '--report-dir', d2]);
    expect(ff.exitCode).toBe(1);
    const res = (JSON.parse(readFileSync(join(d2, 'egress-model.json'), 'utf8')) as RunReport).results;
    expect(res.map((x) => x.outcome)).toEqual(['fail', 'skipped', 'skipped']);
    expect(res[1]!.message).toMatch(/not run: --fail-fast stopped the run after REGISTRY_ONLY\/wrong-pin\/frontend/);
  }, 400_000);

  it('--istio-version is resolved once and reaches the suite: the model answers by that version, in the report and the case results', async () => {
    const d = tmp();
    const r = await run(['--istio-version', '1.24.0', '--run', '^ALLOW_ANY/no-serviceentry/', '--report-dir', d]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model lane, Istio 1\.24\.0: \d+ passed/);
    const report = JSON.parse(readFileSync(join(d, 'egress-model.json'), 'utf8')) as RunReport;
    expect(report.istioVersion).toBe('1.24.0');
    expect(report.versions).toMatchObject({ lane: 'model', oracleIstioVersion: '1.24.0' });
  }, 120_000);
});
