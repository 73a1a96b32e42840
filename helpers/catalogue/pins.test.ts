// Per-version pins: `expectBefore` bounds in a case file, and which pin applies to a version.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCaseFiles, loadCatalogue } from './load.ts';
import { pinFor } from './pins.ts';

const dir = mkdtempSync(join(tmpdir(), 'iec-pins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const SE =
  '  - {apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: db, namespace: default}, spec: {hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}}\n';

describe('per-version pins', () => {
  it('the lowest bound above the version wins; a policy a bound leaves out keeps the newer pin', () => {
    const [s] = loadCaseFiles([
      file(
        'a.yaml',
        `name: a\nmanifests:\n${SE}probes:\n  - from: default\n    to: tcp://db.example.com:5432\n    expect: {ALLOW_ANY: allowed A, REGISTRY_ONLY: allowed R}\n    expectBefore:\n      1.31.0-alpha: {REGISTRY_ONLY: blocked R131}\n      1.30.3: {ALLOW_ANY: allowed A1303, REGISTRY_ONLY: blocked R1303}\n`,
      ),
    ]);
    const p = s!.probes[0]!;
    expect(pinFor(p, 'REGISTRY_ONLY', '1.32.0-alpha.x')?.cluster).toBe('R');
    expect(pinFor(p, 'REGISTRY_ONLY', '1.31.0-alpha')?.cluster).toBe('R');
    expect(pinFor(p, 'REGISTRY_ONLY', '1.30.3')?.cluster).toBe('R131');
    expect(pinFor(p, 'REGISTRY_ONLY', '1.30.2')?.cluster).toBe('R1303');
    expect(pinFor(p, 'ALLOW_ANY', '1.30.3')?.cluster).toBe('A');
    expect(pinFor(p, 'ALLOW_ANY', '1.30.0-alpha.1.48.b01690e6db7d')?.cluster).toBe('A1303');
  });

  it.each([
    ['expectBefore: [1]', /expectBefore must map an Istio version/],
    ['expectBefore: {latest: {ALLOW_ANY: allowed X}}', /expectBefore: "latest" is not an Istio version/],
    ['expectBefore: {1.31.0: {DENY: allowed X}}', /"DENY" is not a policy/],
    ['expectBefore: {1.31.0: {ALLOW_ANY: maybe X}}', /is not "allowed\|blocked CLUSTER/],
  ])('a malformed bound is one line naming the file: %s', (yaml, message) => {
    const f = file('bad.yaml', `name: bad\nmanifests:\n${SE}probes:\n  - from: default\n    to: tcp://db.example.com:5432\n    ${yaml}\n`);
    expect(() => loadCaseFiles([f])).toThrow(message);
    expect(() => loadCaseFiles([f])).toThrow(new RegExp(f.replaceAll('.', '\\.')));
  });

  it('the built-in catalogue has version-sensitive probes whose pins differ across the pinned builds', () => {
    const versioned = loadCatalogue().flatMap((s) => s.probes.filter((p) => p.expectBefore?.length).map((p) => ({ s: s.name, p })));
    expect(new Set(versioned.map((x) => x.s))).toEqual(
      new Set(['version-default-export-to', 'version-sidecar-excludes-namespace', 'version-service-entry-visibility']),
    );
    for (const { p } of versioned)
      expect(pinFor(p, 'REGISTRY_ONLY', '1.30.0-alpha.1.48.b01690e6db7d')).not.toEqual(
        pinFor(p, 'REGISTRY_ONLY', '1.32.0-alpha.eed52ebb66ad'),
      );
  });
});
