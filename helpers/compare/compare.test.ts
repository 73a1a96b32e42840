// compare: which probes change between two versions and whether the version gates explain them.
// On the oracle lane always; on the control-plane lane (two real istiod builds) when both are built.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { expandCases, loadCaseFiles } from '../catalogue/load.ts';
import { findIstioctlBuildSync, findPilotDiscoverySync, PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { findKubeBinarySync } from '../tools/kube-builds.ts';
import { runCompare } from '../../scripts/commands/compare.ts';
import { compareObservations, exitCodeOf } from './diff.ts';
import { gatherCases } from './gather.ts';
import { observe, type Observations } from './observe.ts';
import { renderMarkdown } from './markdown.ts';
import { toDocument } from './report.ts';
import { resolveTarget } from './targets.ts';
import { tempDirs } from '../testing/temp-dirs.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/egress-conformance.mjs');
const USER_CASES = fileURLToPath(new URL('./testdata/upgrade-cases.yaml', import.meta.url));
const APRIL = 'master-2026-04-23';
const AUGUST = 'master-2026-08-27';
const tmp = tempDirs('iec-cmp-');

/** The model lane's answers for a target, through the one driver. */
async function onModel(cases: ReturnType<typeof gatherCases>, target: ReturnType<typeof resolveTarget>): Promise<Observations> {
  return (await observe('model', cases, target, { say: () => {} })).observations;
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
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
    });
    // Only default's 5432 calls change in the catalogue's upgrade scenarios, under both policies.
    expect(
      c.changes
        .filter((x) => x.scenario.startsWith('version-'))
        .map((x) => x.id)
        .sort(),
    ).toEqual(
      ['version-default-export-to', 'version-sidecar-excludes-namespace']
        .flatMap((s) =>
          ['ALLOW_ANY', 'REGISTRY_ONLY'].flatMap((p) => [
            `${p}/${s}/default→tcp://db.example.com:5432`,
            `${p}/${s}/default→tcp://unlisted.example.com:5432`,
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

  it('release versions on the oracle lane: 1.30.2 → 1.31.0 crosses its three gates; 1.30.3 → 1.30.4 crosses none and changes nothing', async () => {
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

describe('compare on the control-plane lane without the builds', () => {
  it('names the commands that build what is missing (exit 3), and refuses PILOT_DISCOVERY (exit 2)', async () => {
    const empty = await execa('node', [BIN, 'compare', '--from', APRIL, '--to', AUGUST, '--report-dir', tmp()], {
      reject: false,
      env: { XDG_CACHE_HOME: tmp() },
    });
    expect(empty.exitCode).toBe(3);
    expect(empty.stderr).toMatch(
      /needs both istiod builds; run `egress-conformance tools install pilot-discovery --version master-2026-04-23`, `egress-conformance tools install istioctl-build --version master-2026-04-23`/,
    );
    const env = await execa('node', [BIN, 'compare', '--from', APRIL, '--to', AUGUST, '--report-dir', tmp()], {
      reject: false,
      env: { PILOT_DISCOVERY: '/bin/sh' },
    });
    expect(env.exitCode).toBe(2);
    expect(env.stderr).toMatch(/PILOT_DISCOVERY is set, but compare runs two pinned istiod builds/);
  });
});

// Both builds, their istioctl and the API server binaries: what the control-plane lane needs for each side.
const missing = [
  ...PINNED_BUILDS.flatMap((p) =>
    [
      findPilotDiscoverySync(p, { ...process.env, PILOT_DISCOVERY: '' })
        ? []
        : [`pilot-discovery ${p.label} (tools install pilot-discovery --version ${p.label})`],
      findIstioctlBuildSync(p) ? [] : [`istioctl ${p.label} (tools install istioctl-build --version ${p.label})`],
    ].flat(),
  ),
  ...(['etcd', 'kube-apiserver'] as const).filter((k) => !findKubeBinarySync(k)).map((k) => `${k} (tools install ${k})`),
  ...(process.env.PILOT_DISCOVERY ? ['(PILOT_DISCOVERY is set; compare runs the cached builds only)'] : []),
];

describe.skipIf(missing.length > 0)(
  `compare on the control-plane lane, two real istiod builds${missing.length ? ` — skipped: not built: ${missing.join(', ')}` : ''}`,
  () => {
    it("April → August: the user case file's changes are the ones the gates predict, each explained; exit 0", async () => {
      const cap = capture();
      const code = await runCompare(
        { from: APRIL, to: AUGUST, file: [USER_CASES], builtin: false, lane: 'control-plane', json: true, reportDir: tmp() },
        cap.io,
      );
      const doc = JSON.parse(cap.out.join('\n'));
      expect(doc.errors).toEqual([]);
      expect(doc.changes.map((c: { id: string; status: string; rule: { id: string } }) => [c.id, c.status, c.rule.id])).toEqual([
        ['REGISTRY_ONLY/upgrade-user-case/default→tcp://db.example.com:5432', 'explained', 'default-export-to'],
        ['REGISTRY_ONLY/upgrade-user-case/default[app=web]→tcp://cache.example.com:6379', 'explained', 'sidecar-egress-exclusions'],
      ]);
      expect(doc.from.details.istioVersion).toBe(PINNED_BUILDS.find((b) => b.label === APRIL)!.istioVersion);
      expect(code).toBe(0);
    }, 600_000);
  },
);

/** Every live descendant of a process, from /proc (Linux). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.skipIf(missing.length > 0)(`compare interrupted${missing.length ? ' — skipped: builds missing' : ''}`, () => {
  it('Ctrl-C while an istiod build runs: the lane is torn down, no process it started is left, exit 130', async () => {
    const child = execa(
      'node',
      [BIN, 'compare', '--from', APRIL, '--to', AUGUST, '--no-builtin', '-f', USER_CASES, '--report-dir', tmp()],
      { reject: false, forceKillAfterDelay: false },
    );
    let seen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (b: Buffer) => {
        if (/istiod ready/.test(b.toString())) {
          seen = descendants(child.pid!);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error('compare ended before istiod was ready')));
    });
    expect(seen.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const r = await child;
    expect([r.exitCode, r.signal ?? null]).toEqual([130, null]);
    expect(r.stderr).toMatch(/SIGINT: stopping the comparison; tearing the lane down/);
    // Processes the lane started (etcd, kube-apiserver, istiod) are gone once compare has exited.
    const deadline = Date.now() + 10_000;
    while (seen.some(alive) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    expect(seen.filter(alive)).toEqual([]);
  }, 300_000);
});
