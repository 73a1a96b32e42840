// `rules` lists the oracle's version gates and which pinned build has each; the model's `matrix` differs
// between the two builds exactly on the catalogue's upgrade scenarios.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../helpers/catalogue/load.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const run = (...args: string[]) => execa('node', [BIN, ...args], { reject: false });

describe('egress-conformance rules', () => {
  it('--json: each gate with its version, effect, upstream change and the pinned builds that have it', async () => {
    const r = await run('rules', '--json', '--istio-version', '1.30.3');
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    const byId = Object.fromEntries(doc.rules.map((g: { id: string }) => [g.id, g]));
    expect(byId['sidecar-egress-exclusions']).toMatchObject({
      since: '1.31.0-alpha',
      upstream: expect.stringContaining('istio/istio#60581'),
      applies: false,
      builds: { 'master-2026-04-23': false, 'master-2026-08-27': true },
    });
    expect(byId['default-export-to']).toMatchObject({
      since: '1.30.3',
      upstream: expect.stringContaining('istio/istio#60701'),
      applies: true,
      builds: { 'master-2026-04-23': false, 'master-2026-08-27': true },
    });
    expect(doc.checkedNotGates.map((c: { upstream: string }) => c.upstream).join()).toMatch(/#60642/);
  });

  it('prints a table and the effects, and refuses a version the oracle has no rules for', async () => {
    const r = await run('rules');
    expect(r.stdout).toMatch(/^RULE\s+SINCE\s+UPSTREAM\s+master-2026-08-27\s+master-2026-04-23/);
    expect(r.stdout).toMatch(/sidecar-egress-exclusions\s+1\.31\.0-alpha\s+istio\/istio#60581.*\s+yes\s+no/);
    const bad = await run('rules', '--istio-version', '1.20.0');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--istio-version: the oracle has no rules for Istio 1\.20\.0; it knows 1\.24\.0/);
  });
});

// The model's version gates, so `--lane model`: istiod's own answers on both builds are compared in the
// control-plane compare test (helpers/compare/compare.test.ts), which starts one stack per build.
describe('matrix across versions (the model)', () => {
  it('the two pinned builds differ on the upgrade scenarios only, every pin agreeing on each side', async () => {
    const at = async (v: string) =>
      JSON.parse((await run('matrix', '--lane', 'model', '--json', '--istio-version', v)).stdout).cases as {
        scenario: string;
        policy: string;
        from: string;
        to: string;
        verdict: string;
        cluster: string;
        pinned: string;
      }[];
    const [april, august] = await Promise.all([at('master-2026-04-23'), at('master-2026-08-27')]);
    expect(april.length).toBe(august.length);
    for (const rows of [april, august]) expect(rows.filter((r) => r.pinned !== 'agrees')).toEqual([]);
    const changed = april.filter((r, i) => r.verdict !== august[i]!.verdict || r.cluster !== august[i]!.cluster);
    // Exactly the scenarios whose pins carry an older build's answer (expectBefore; pins.test.ts names them):
    // the gates change nothing else.
    const versioned = new Set(loadCatalogue().flatMap((sc) => (sc.probes.some((p) => p.expectBefore?.length) ? [sc.name] : [])));
    expect(versioned.size).toBeGreaterThan(0);
    expect(new Set(changed.map((r) => r.scenario))).toEqual(versioned);
    // Under the dynamic-DNS mode only, for those two files.
    expect(changed.filter((r) => r.scenario.startsWith('dynamic-dns-')).every((r) => r.policy === 'ALLOW_ANY_DYNAMIC_DNS')).toBe(true);
    expect(changed).toHaveLength(32);
  });
});
