// compare: which probes change between two versions and whether the version gates explain them, on the
// oracle lane, and the CLI around it. On the control-plane lane: compare-control-plane.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { expandCases, loadCaseFiles } from '../catalogue/load.ts';
import { PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { compareObservations, exitCodeOf } from './diff.ts';
import { gatherCases } from './gather.ts';
import { observe, type Observations } from './observe.ts';
import { renderMarkdown } from './markdown.ts';
import { toDocument } from './report.ts';
import { resolveTarget } from './targets.ts';
import { tempDirs } from '../testing/temp-dirs.ts';
import { APRIL, AUGUST, BIN, USER_CASES } from './testdata/cli.ts';

const tmp = tempDirs('iec-cmp-');

/** The model lane's answers for a target, through the one driver. */
async function onModel(cases: ReturnType<typeof gatherCases>, target: ReturnType<typeof resolveTarget>): Promise<Observations> {
  return (await observe('model', cases, target, { say: () => {} })).observations;
}

describe('compare on the oracle lane', () => {
  const from = resolveTarget(APRIL, '--from', 'model');
  const to = resolveTarget(AUGUST, '--to', 'model');

  it("between the two pinned builds: the catalogue's upgrade scenarios and the rule scenarios change, each explained by its gate", async () => {
    const cases = gatherCases({});
    const c = compareObservations(cases, from, to, await onModel(cases, from), await onModel(cases, to));
    expect(exitCodeOf(c)).toBe(0);
    const byScenario = new Map<string, Set<string>>();
    for (const x of c.changes) {
      expect(x.status).toBe('explained');
      expect(x.rules).toHaveLength(1);
      (byScenario.get(x.scenario) ?? byScenario.set(x.scenario, new Set()).get(x.scenario)!).add(x.rules[0]!.id);
    }
    expect(Object.fromEntries([...byScenario].map(([k, v]) => [k, [...v]]))).toEqual({
      'version-default-export-to': ['default-export-to'],
      'version-sidecar-excludes-namespace': ['sidecar-egress-exclusions'],
      'export-default-mixed': ['default-export-to'],
      'export-default-named': ['default-export-to'],
      'import-exclusion': ['sidecar-egress-exclusions'],
      'service-entry-visibility': ['service-entry-visibility'],
      'version-service-entry-visibility': ['service-entry-visibility'],
      'dynamic-dns-mesh': ['allow-any-dynamic-dns'],
      'dynamic-dns-http-route': ['allow-any-dynamic-dns'],
      // Its `~default/*` keeps default's VirtualService off the route only where `~` excludes.
      'fuzz-s777-88': ['sidecar-egress-exclusions'],
      'sniffed-route-no-virtual-host': ['sidecar-egress-exclusions'],
    });
    // In the catalogue's upgrade scenarios, default's 5432 calls change under both policies; with the
    // visibility cap, frontend's calls to the api entries of default change too.
    const visibility = ['http://api.example.com/', 'https://api.example.com/'].map(
      (to) => `version-service-entry-visibility/frontend→${to}`,
    );
    expect(
      c.changes
        .filter((x) => x.scenario.startsWith('version-'))
        .map((x) => x.id)
        .sort(),
    ).toEqual(
      ['version-default-export-to', 'version-sidecar-excludes-namespace', 'version-service-entry-visibility']
        .flatMap((s) =>
          ['ALLOW_ANY', 'REGISTRY_ONLY'].flatMap((p) => [
            `${p}/${s}/default→tcp://db.example.com:5432`,
            `${p}/${s}/default→tcp://unlisted.example.com:5432`,
            ...(s === 'version-service-entry-visibility' ? visibility.map((v) => `${p}/${v}`) : []),
          ]),
        )
        .sort(),
    );
  });

  it('an observed change the oracle does not predict is UNEXPLAINED, a predicted one that does not happen is MISSING, errors count; exit 1', async () => {
    const cases = expandCases(loadCaseFiles([USER_CASES]));
    const a = await onModel(cases, from);
    const b: Observations = new Map(await onModel(cases, to));
    const [dbFromDefault, dbFromFrontend, cacheFromWeb, cacheFromDefault] = cases.map((c) => c.id);
    b.set(dbFromDefault!, a.get(dbFromDefault!)!); // the predicted change does not happen
    b.set(dbFromFrontend!, { verdict: 'blocked', cluster: 'BlackHoleCluster' }); // a change nobody predicted
    b.set(cacheFromDefault!, { verdict: 'error', cluster: '', error: 'istiod went away' });
    const c = compareObservations(cases, from, to, a, b);
    expect(exitCodeOf(c)).toBe(1);
    const status = Object.fromEntries(c.changes.map((x) => [x.id, x.status]));
    expect(status).toEqual({ [dbFromDefault!]: 'missing', [dbFromFrontend!]: 'unexplained', [cacheFromWeb!]: 'explained' });
    expect(c.errors).toEqual([{ id: cacheFromDefault, side: 'to', error: 'istiod went away' }]);
    const doc = toDocument('model', from, to, c);
    expect(doc.ok).toBe(false);
    const counts = { changes: 2, explained: 1, unexplained: 1, missing: 1, errors: 1 };
    expect(doc.counts).toEqual({ ...counts, opened: 0, closed: 2, rerouted: 0, unchanged: 1 });
    const unexplained = doc.changes.find((x) => x.id === dbFromFrontend)!;
    expect(unexplained).toMatchObject({
      rule: 'UNEXPLAINED',
      from: { verdict: 'allowed', cluster: 'outbound|5432||db.example.com' },
      to: { verdict: 'blocked', cluster: 'BlackHoleCluster' },
    });
    expect(unexplained.note).toMatch(/the oracle predicts no change/);
    const md = renderMarkdown(doc);
    expect(md).toMatch(/^## Upgrade check: master-2026-04-23 → master-2026-08-27/);
    expect(md).toContain(
      `| \`${dbFromFrontend}\` | closed | allowed outbound\\|5432\\|\\|db.example.com | blocked BlackHoleCluster | UNEXPLAINED`,
    );
    expect(md).toMatch(/MISSING \(predicted by default-export-to\)/);
  });

  it('release versions on the oracle lane: 1.30.2 → 1.31.0 crosses its four gates; 1.30.3 → 1.30.4 crosses none and changes nothing', async () => {
    const cases = gatherCases({});
    const at = async (a: string, b: string) => {
      const f = resolveTarget(a, '--from', 'model');
      const t = resolveTarget(b, '--to', 'model');
      return compareObservations(cases, f, t, await onModel(cases, f), await onModel(cases, t));
    };
    expect((await at('1.30.2', '1.31.0')).gates.map((g) => g.id)).toEqual([
      'default-export-to',
      'sidecar-egress-exclusions',
      'service-entry-visibility',
      'allow-any-dynamic-dns',
    ]);
    const none = await at('1.30.3', '1.30.4');
    expect(none.gates).toEqual([]);
    expect(none.changes).toEqual([]);
  });

  it('the control-plane lane runs only pinned builds; the oracle lane any version it has rules for', () => {
    expect(() => resolveTarget('1.30.2', '--from', 'control-plane')).toThrow(
      /--from: "1\.30\.2" is not a pinned istiod build.*master-2026-08-27.*use --lane model/,
    );
    expect(() => resolveTarget('1.19.0', '--to', 'model')).toThrow(/--to: the oracle has no rules for Istio 1\.19\.0/);
    expect(resolveTarget(PINNED_BUILDS[1]!.goModuleVersion, '--from', 'control-plane')).toMatchObject({
      label: APRIL,
      pin: { goModuleVersion: PINNED_BUILDS[1]!.goModuleVersion },
    });
  });
});

describe('egress-conformance compare (CLI)', () => {
  it('--json: one object per change with id, from, to and rule; exit 0; reports written (`--lane oracle` says it is an alias)', async () => {
    const dir = tmp();
    const r = await execa(
      'node',
      [
        BIN,
        'compare',
        '--lane',
        'oracle',
        '--from',
        APRIL,
        '--to',
        AUGUST,
        '--no-builtin',
        '-f',
        USER_CASES,
        '--json',
        '--report-dir',
        dir,
      ],
      { reject: false },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('lane "oracle" is an alias of "model" (the word promises a truth the model does not have)');
    const doc = JSON.parse(r.stdout);
    expect(doc.changes).toHaveLength(2);
    for (const c of doc.changes) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['id', 'from', 'to', 'rule']));
      expect(Object.keys(c.from).sort()).toEqual(['cluster', 'verdict']);
      expect(c.rule).toMatchObject({
        id: expect.any(String),
        since: expect.any(String),
        effect: expect.any(String),
        upstream: expect.stringMatching(/istio\/istio#/),
      });
    }
    expect(doc.changes.map((c: { id: string }) => c.id)).toContain(
      'REGISTRY_ONLY/upgrade-user-case/default[app=web]→tcp://cache.example.com:6379',
    );
    expect(JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8'))).toEqual(doc);
    expect(readFileSync(join(dir, 'compare.md'), 'utf8')).toMatch(/\| 1 \| `REGISTRY_ONLY\/upgrade-user-case/);
  });

  it.each([
    [['compare', '--from', '1.30.2', '--to', AUGUST], /--from: "1\.30\.2" is not a pinned istiod build/],
    [['compare', '--from', APRIL, '--to', AUGUST, '--lane', 'kind'], /--lane: "kind" cannot compare versions/],
    [['compare', '--to', AUGUST, '--lane', 'model'], /--from: required/],
    [['compare', '--from', APRIL, '--to', APRIL, '--lane', 'model'], /same build as --from/],
    [
      ['compare', '--from', APRIL, '--to', AUGUST, '--lane', 'model', '--cases', '/nonexistent-dir'],
      /--cases: \/nonexistent-dir is not a directory/,
    ],
  ])('bad input %j exits 2 with one line', async (args, message) => {
    const r = await execa('node', [BIN, ...(args as string[]), '--report-dir', tmp()], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
