// The `via:` and `tls:` fields of a case file, and the hop text form they use.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHop, hopsMatch, parsePinnedHop, tlsOrigin } from '../model/hops.ts';
import type { Hop } from '../model/types.ts';
import { loadCaseFiles } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'iec-via-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SE =
  '  - {apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: e, namespace: default}, spec: {hosts: [edition.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}}\n';
const GW = 'outbound|80|egressgateway|istio-egressgateway.istio-system.svc.cluster.local';
const caseFile = (extra: string) => {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, `name: c\nmanifests:\n${SE}probes:\n  - from: default\n    to: http://edition.example.com/\n${extra}`);
  return p;
};

const hops: Hop[] = [
  { kind: 'sidecar', proxy: 'default/egress-client', cluster: GW, tls: { mode: 'ISTIO_MUTUAL' } },
  {
    kind: 'gateway',
    proxy: 'istio-system/istio-egressgateway',
    cluster: 'outbound|443||edition.example.com',
    tls: { mode: 'SIMPLE', sni: 'edition.example.com' },
  },
];

describe('hops as text', () => {
  it('round-trips the pin form and matches observed hops only when proxy, cluster and TLS agree', () => {
    const pins = hops.map((h) => parsePinnedHop(formatHop(h, true)));
    expect(pins[0]).toEqual({ proxy: 'sidecar', cluster: GW, tls: { mode: 'ISTIO_MUTUAL' } });
    const ok = pins.filter((p) => typeof p !== 'string');
    expect(hopsMatch(ok, hops)).toBe(true);
    expect(hopsMatch(ok, [hops[0]!, { ...hops[1]!, tls: undefined }])).toBe(false);
    expect(hopsMatch(ok, [hops[0]!])).toBe(false);
    expect(hopsMatch(ok, [hops[0]!, { ...hops[1]!, proxy: 'istio-system/other' }])).toBe(false);
  });

  it('TLS starts where the last hop originates it, else at an https client', () => {
    expect(tlsOrigin(hops, 'http')).toBe('gateway');
    expect(tlsOrigin([{ ...hops[0]!, tls: { mode: 'SIMPLE' } }], 'http')).toBe('sidecar');
    expect(tlsOrigin([{ ...hops[0]!, tls: { mode: 'ISTIO_MUTUAL' } }], 'https')).toBe('client');
    expect(tlsOrigin([{ ...hops[0]!, tls: undefined }], 'http')).toBe('none');
  });
});

describe('via: and tls: in a case file', () => {
  it('a list applies to every policy; a map by policy pins each one', () => {
    const [a] = loadCaseFiles([
      caseFile(
        `    via: [sidecar ${GW} tls:ISTIO_MUTUAL, istio-system/istio-egressgateway outbound|80||edition.example.com]\n    tls: none\n`,
      ),
    ]);
    expect(a!.probes[0]!.via?.REGISTRY_ONLY?.[1]).toEqual({
      proxy: 'istio-system/istio-egressgateway',
      cluster: 'outbound|80||edition.example.com',
    });
    expect(a!.probes[0]!.via?.ALLOW_ANY).toHaveLength(2);
    expect(a!.probes[0]!.tls).toBe('none');
    const [b] = loadCaseFiles([caseFile('    via: {ALLOW_ANY: [sidecar PassthroughCluster]}\n')]);
    expect(Object.keys(b!.probes[0]!.via ?? {})).toEqual(['ALLOW_ANY']);
  });

  it.each([
    ['    via: [istio-system/gw X]\n', /probes\[0\]\.via\[0\]: the first hop is the source/],
    ['    via: [sidecar X, sidecar Y]\n', /via\[1\]: only the first hop is the sidecar/],
    ['    via: [sidecar X tls:PLAIN]\n', /is not tls:SIMPLE\|MUTUAL\|ISTIO_MUTUAL/],
    ['    via: {DENY: [sidecar X]}\n', /"DENY" is not a policy/],
    ['    tls: gateway-ish\n', /tls must be one of client, sidecar, gateway, none/],
  ])('a malformed pin is one line naming the file: %s', (extra, message) => {
    const f = caseFile(extra);
    expect(() => loadCaseFiles([f])).toThrow(message);
    expect(() => loadCaseFiles([f])).toThrow(new RegExp(f.replaceAll('.', '\\.')));
  });
});
