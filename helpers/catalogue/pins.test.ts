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

  it('policies: ALLOW_ANY_DYNAMIC_DNS is opt-in; a wrong name, or a pin for a policy the file does not run, is refused naming the three', () => {
    const probe = (expect: string) => `probes:\n  - from: default\n    to: http://x.example.com/\n    expect: ${expect}\n`;
    const [plain] = loadCaseFiles([file('plain.yaml', `name: plain\n${probe('{ALLOW_ANY: allowed PassthroughCluster}')}`)]);
    expect(plain!.policies).toEqual(['ALLOW_ANY', 'REGISTRY_ONLY']);
    const [dfp] = loadCaseFiles([
      file(
        'dfp.yaml',
        `name: dfp\npolicies: [ALLOW_ANY_DYNAMIC_DNS]\n${probe('{ALLOW_ANY_DYNAMIC_DNS: allowed AllowAnyDynamicDNSCluster}')}`,
      ),
    ]);
    expect(dfp!.policies).toEqual(['ALLOW_ANY_DYNAMIC_DNS']);
    expect(dfp!.probes[0]!.expect.ALLOW_ANY_DYNAMIC_DNS).toEqual({ verdict: 'allowed', cluster: 'AllowAnyDynamicDNSCluster' });
    const three = /ALLOW_ANY, REGISTRY_ONLY or ALLOW_ANY_DYNAMIC_DNS/;
    expect(() => loadCaseFiles([file('p.yaml', `name: p\npolicies: [DENY]\n${probe('{}')}`)])).toThrow(three);
    expect(() => loadCaseFiles([file('e.yaml', `name: e\n${probe('{DYNAMIC_DNS: allowed X}')}`)])).toThrow(three);
    expect(() => loadCaseFiles([file('u.yaml', `name: u\n${probe('{ALLOW_ANY_DYNAMIC_DNS: allowed X}')}`)])).toThrow(
      /expect\.ALLOW_ANY_DYNAMIC_DNS: the file's policies do not include ALLOW_ANY_DYNAMIC_DNS/,
    );
    expect(() => loadCaseFiles([file('d.yaml', `name: d\npolicies: [ALLOW_ANY, ALLOW_ANY]\n${probe('{}')}`)])).toThrow(/twice/);
  });

  it('the built-in catalogue has version-sensitive probes whose pins differ across the pinned builds', () => {
    const versioned = loadCatalogue().flatMap((s) => s.probes.filter((p) => p.expectBefore?.length).map((p) => ({ s: s.name, p })));
    expect(new Set(versioned.map((x) => x.s))).toEqual(
      new Set([
        'version-default-export-to',
        'version-sidecar-excludes-namespace',
        'version-service-entry-visibility',
        'dynamic-dns-mesh',
        'dynamic-dns-http-route',
      ]),
    );
    // Each bound pins the policy whose answer the gate changes: REGISTRY_ONLY in the version- scenarios, the
    // mesh mode itself in the dynamic-dns ones.
    for (const { s, p } of versioned) {
      const policy = s.startsWith('dynamic-dns') ? 'ALLOW_ANY_DYNAMIC_DNS' : 'REGISTRY_ONLY';
      expect(pinFor(p, policy, '1.30.0-alpha.1.48.b01690e6db7d')).not.toEqual(pinFor(p, policy, '1.32.0-alpha.eed52ebb66ad'));
    }
  });
});

describe('a pin', () => {
  it('names a pseudo-cluster in parentheses, spaces and all; a bad one is refused with the file and the form', async () => {
    const { parsePinned } = await import('./load.ts');
    expect(parsePinned('f.yaml', 'probes[0]', 'blocked (no route)')).toEqual({ verdict: 'blocked', cluster: '(no route)' });
    expect(parsePinned('f.yaml', 'probes[0]', 'blocked (no filter chain) tcp-close')).toEqual({
      verdict: 'blocked',
      cluster: '(no filter chain)',
      signal: 'tcp-close',
    });
    expect(parsePinned('f.yaml', 'probes[0]', 'blocked BlackHoleCluster http-502')).toEqual({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      signal: 'http-502',
    });
    expect(parsePinned('f.yaml', 'probes[0]', 'blocked outbound|80||a.example.com http-503')).toEqual({
      verdict: 'blocked',
      cluster: 'outbound|80||a.example.com',
      signal: 'http-503',
    });
    expect(() => parsePinned('f.yaml', 'probes[0]', 'blocked BlackHoleCluster forwarded')).toThrow(/is not http-502, http-503/);
    expect(() => parsePinned('f.yaml', 'probes[0]', 'blocked (no route) tcp-close extra')).toThrow(/f\.yaml: probes\[0\]/);
  });
});
