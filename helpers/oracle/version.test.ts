// Version parsing, the oracle's known range, and the version gates: which versions have which rule,
// and reasons that name the gate a verdict depends on.
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { expectProbe, gateDependencies } from './expect.ts';
import { compareVersions, GATES, gateOpen, gatesBetween, parseIstioVersion } from './version.ts';

const v = (s: string) => parseIstioVersion(s);

const EXCLUDING = loadYamlText(
  'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db, namespace: frontend}\nspec: {hosts: [db.example.com], ports: [{number: 5432, name: pg, protocol: TCP}], resolution: DNS}\n---\n' +
    'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: default}\nspec: {egress: [{hosts: ["*/*", "~/db.example.com"]}]}\n',
  'test.yaml',
  emptyResources(),
);
const probe = { from: { namespace: 'default' }, to: parseProbeUrl('tcp://db.example.com:5432') };

describe('Istio versions', () => {
  it('orders pre-releases as semver does: numeric identifiers as numbers, a release after its pre-releases', () => {
    expect(compareVersions(v('1.30.0-alpha.1.48.b01690e6db7d'), v('1.30.0-alpha.1.9'))).toBeGreaterThan(0);
    expect(compareVersions(v('1.30.0-alpha.2'), v('1.30.0-alpha.10'))).toBeLessThan(0);
    expect(compareVersions(v('1.32.0-alpha.eed52ebb66ad'), v('1.32.0-alpha'))).toBeGreaterThan(0);
    expect(compareVersions(v('1.32.0-alpha.eed52ebb66ad'), v('1.32.0'))).toBeLessThan(0);
    expect(compareVersions(v('1.31.0'), v('1.31.0-rc.1'))).toBeGreaterThan(0);
  });

  it.each(['1.23.9', '1.33.0', '1.40.1', '2.0.0'])('refuses %s: the oracle has no rules for it, and says which it has', (raw) => {
    expect(() => parseIstioVersion(raw)).toThrow(/--istio-version: (the oracle has no rules for Istio|"2\.0\.0" is not an Istio 1\.x)/);
  });

  it('knows 1.24.0 up to master before 1.33, and every pinned build', () => {
    for (const raw of ['1.24.0', '1.30.3', '1.32.9', ...PINNED_BUILDS.map((b) => b.istioVersion)])
      expect(() => parseIstioVersion(raw)).not.toThrow();
  });
});

describe('version gates', () => {
  it('each gate opens at its version and not before', () => {
    for (const g of GATES) {
      expect(gateOpen(v(g.since), g.id)).toBe(true);
      expect(gateOpen(v('1.24.0'), g.id)).toBe(false);
    }
  });

  it('the April build lacks the exclusions, the defaultServiceExportTo fix, serviceEntryVisibility and ALLOW_ANY_DYNAMIC_DNS; the August build has them', () => {
    const april = PINNED_BUILDS.find((b) => b.label === 'master-2026-04-23')!;
    const august = PINNED_BUILDS.find((b) => b.label === 'master-2026-08-27')!;
    expect(gatesBetween(v(april.istioVersion), v(august.istioVersion)).map((g) => g.id)).toEqual([
      'default-export-to',
      'sidecar-egress-exclusions',
      'service-entry-visibility',
      'allow-any-dynamic-dns',
    ]);
  });

  it('an override on the version wins over its number (what-if questions)', () => {
    expect(gateOpen({ ...v('1.24.0'), gates: { 'sidecar-egress-exclusions': true } }, 'sidecar-egress-exclusions')).toBe(true);
    expect(gateOpen({ ...v('1.32.0'), gates: { 'sidecar-egress-exclusions': false } }, 'sidecar-egress-exclusions')).toBe(false);
  });

  it('a verdict that depends on a gate says so, with the answer on the other side of it', () => {
    const after = expectProbe(EXCLUDING, probe, { istioVersion: '1.31.0', policy: 'REGISTRY_ONLY' });
    expect(after).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(after.reason).toMatch(
      /depends on version gate sidecar-egress-exclusions \(since 1\.31\.0-alpha, istio\/istio#60581.*\): Istio 1\.31\.0 has it; without it: allowed outbound\|5432\|\|db\.example\.com/,
    );
    const before = expectProbe(EXCLUDING, probe, { istioVersion: '1.30.3', policy: 'REGISTRY_ONLY' });
    expect(before).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.com' });
    expect(before.reason).toMatch(/Istio 1\.30\.3 lacks it; with it: blocked BlackHoleCluster/);
    expect(gateDependencies(EXCLUDING, probe, { istioVersion: '1.30.3', policy: 'REGISTRY_ONLY' }).map((d) => d.gate.id)).toEqual([
      'sidecar-egress-exclusions',
    ]);
  });

  it('a verdict no gate changes names none', () => {
    const other = { from: { namespace: 'frontend' }, to: parseProbeUrl('tcp://db.example.com:5432') };
    expect(gateDependencies(EXCLUDING, other, { istioVersion: '1.31.0', policy: 'REGISTRY_ONLY' })).toEqual([]);
    expect(expectProbe(EXCLUDING, other, { istioVersion: '1.31.0', policy: 'REGISTRY_ONLY' }).reason).not.toMatch(/version gate/);
  });
});

// Semver 2.0.0 §11 precedence (semver.org), which version.ts follows for pre-releases; and the version syntax the
// command line takes (X.Y or X.Y.Z, an optional v and pre-release).
describe('Istio versions, semver precedence rule by rule', () => {
  const cmp = (a: string, b: string) => Math.sign(compareVersions(v(a), v(b)));

  it('equal versions compare equal, with or without a pre-release', () => {
    expect(cmp('1.30.3', '1.30.3')).toBe(0);
    expect(cmp('1.31.0-alpha.1', '1.31.0-alpha.1')).toBe(0);
  });

  it('a shorter set of pre-release fields sorts first when the others are equal (§11.4.4)', () => {
    expect(cmp('1.31.0-alpha', '1.31.0-alpha.1')).toBe(-1);
    expect(cmp('1.31.0-alpha.1', '1.31.0-alpha')).toBe(1);
  });

  it('numeric identifiers compare as numbers, whatever their length (§11.4.1)', () => {
    expect(cmp('1.31.0-alpha.100', '1.31.0-alpha.20')).toBe(1);
    expect(cmp('1.31.0-alpha.20', '1.31.0-alpha.100')).toBe(-1);
  });

  it('a numeric identifier sorts before an alphanumeric one, digits at either end included (§11.4.3)', () => {
    expect(cmp('1.31.0-2', '1.31.0-a1')).toBe(-1);
    expect(cmp('1.31.0-a1', '1.31.0-2')).toBe(1);
    expect(cmp('1.31.0-2', '1.31.0-1a')).toBe(-1);
    expect(cmp('1.31.0-1a', '1.31.0-2')).toBe(1);
  });

  it('alphanumeric identifiers compare in ASCII order (§11.4.2)', () => {
    expect(cmp('1.31.0-alpha', '1.31.0-beta')).toBe(-1);
    expect(cmp('1.31.0-beta', '1.31.0-alpha')).toBe(1);
  });

  it('reads X.Y as X.Y.0, a multi-digit patch, a leading v and surrounding blanks', () => {
    expect(v('1.30')).toMatchObject({ major: 1, minor: 30, patch: 0, pre: '' });
    expect(v('1.30.10')).toMatchObject({ major: 1, minor: 30, patch: 10 });
    expect(v('v1.30.3')).toMatchObject({ minor: 30, patch: 3 });
    expect(v(' 1.30.3 ')).toMatchObject({ minor: 30, patch: 3, raw: ' 1.30.3 ' });
  });

  it('refuses text around a version, and says a 2-digit major is a version but not Istio 1.x', () => {
    expect(() => v('1.30.3x')).toThrow(/"1\.30\.3x" is not an Istio version/);
    expect(() => v('x1.30.3')).toThrow(/"x1\.30\.3" is not an Istio version/);
    expect(() => v('11.0.0')).toThrow(/"11\.0\.0" is not an Istio 1\.x version/);
  });
});
