// `expect --lane control-plane`: the real istiod's answer for the user's own file, beside the oracle's,
// including probes from a labelled workload that a selector Sidecar applies to. And a binary that is not
// the build --istio-version names is bad input.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PINNED_BUILDS, PINNED_PILOT } from '../../helpers/tools/pilot-discovery.ts';
import { cachedBinaryPath, findIstioctlBuildSync, findPilotDiscoverySync } from '../../helpers/tools/pilot-locate.ts';
import { findKubeBinarySync } from '../../helpers/tools/kube-builds.ts';
import { runExpect } from './expect.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iec-expect-lane-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILE = join(dir, 'mine.yaml');
writeFileSync(
  FILE,
  `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: frontend}
spec: {hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}
---
# Only pods labelled app=web in default are locked down to their own namespace.
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: web, namespace: default}
spec:
  workloadSelector: {labels: {app: web}}
  egress: [{hosts: ["./*"]}]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`,
);

const missing = [
  findPilotDiscoverySync(PINNED_PILOT, { ...process.env, PILOT_DISCOVERY: '' }) ? '' : 'pilot-discovery',
  findIstioctlBuildSync(PINNED_PILOT) ? '' : 'istioctl-build',
  ...(['etcd', 'kube-apiserver'] as const).map((k) => (findKubeBinarySync(k) ? '' : k)),
].filter(Boolean);

describe.skipIf(missing.length > 0)(
  `expect --lane control-plane${missing.length ? ` — skipped: not built: ${missing.join(', ')} (egress-conformance tools install …)` : ''}`,
  () => {
    it('answers from the real istiod, the oracle beside it; the labelled workload gets its Sidecar, the unlabelled one does not; a call through the egress gateway with both hops', async () => {
      const out: string[] = [];
      const code = await runExpect(
        {
          file: [FILE, `${FIXTURES}egress/edition-se.yaml`, `${FIXTURES}egress/gateway-http.yaml`],
          probe: [
            'default[app=web]=tcp://db.example.com:5432',
            'default=tcp://db.example.com:5432',
            'default[app=web]=http://unlisted.example.com/',
            'frontend=http://edition.example.com/',
            'frontend=https://edition.example.com/',
          ],
          lane: 'control-plane',
          json: true,
        },
        { out: (s) => void out.push(s), err: () => {} },
        // Its own state: a warm stack the user has up is not this test's.
        { ...process.env, XDG_STATE_HOME: join(dir, 'state') },
      );
      const rows = JSON.parse(out.join('\n'));
      expect(
        rows.map((r: { from: string; verdict: string; cluster: string; agrees: boolean }) => [r.from, r.verdict, r.cluster, r.agrees]),
      ).toEqual([
        ['default[app=web]', 'blocked', 'BlackHoleCluster', true],
        ['default', 'allowed', 'outbound|5432||db.example.com', true],
        ['default[app=web]', 'blocked', 'BlackHoleCluster', true],
        ['frontend', 'allowed', 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local', true],
        ['frontend', 'allowed', 'outbound|443||edition.example.com', true],
      ]);
      // Through the gateway: istiod's two hops, the model's the same; HTTPS has no gateway route and leaves directly.
      const gw = [
        'frontend/egress-client outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local',
        'istio-system/istio-egressgateway outbound|80||edition.example.com',
      ];
      expect(rows[3].hops.map((h: { proxy: string; cluster: string }) => `${h.proxy} ${h.cluster}`)).toEqual(gw);
      expect(rows[3].model.hops.map((h: { cluster: string }) => h.cluster)).toEqual(
        rows[3].hops.map((h: { cluster: string }) => h.cluster),
      );
      expect(rows[4].hops).toBeUndefined();
      expect(rows[4].bypassesGateway).toBe('istio-system/istio-egressgateway');
      for (const r of rows) {
        expect(Object.keys(r)).toEqual(
          expect.arrayContaining(['from', 'to', 'verdict', 'cluster', 'reason', 'oracle', 'agrees', 'evidence']),
        );
        expect(r.oracle).toMatchObject({ verdict: r.verdict, cluster: r.cluster });
      }
      expect(rows[0].reason).toMatch(/Sidecar default\/web/);
      expect(code).toBe(0);
    }, 300_000);
  },
);

const april = PINNED_BUILDS.find((b) => b.label === 'master-2026-04-23')!;
const aprilBinary = findPilotDiscoverySync(april, { ...process.env, PILOT_DISCOVERY: '' });
describe.skipIf(!aprilBinary)(
  `a binary that is not the named build${aprilBinary ? '' : ` — skipped: ${cachedBinaryPath(april)} not built`}`,
  () => {
    it.each([
      [
        PINNED_PILOT.label!,
        new RegExp(`is .*istio\\.io/istio ${april.goModuleVersion} \\(pinned build master-2026-04-23\\), not master-2026-08-27`),
      ],
      ['1.30.3', /--istio-version: the real istiod runs pinned builds only; name one by label, or use --lane model/],
    ])('PILOT_DISCOVERY=<April build> with --istio-version %s exits 2 with one line', async (version, message) => {
      const r = await execa(
        'node',
        [BIN, 'expect', '--lane', 'control-plane', '--istio-version', version, '-f', FILE, '--probe', 'default=tcp://db.example.com:5432'],
        {
          reject: false,
          // Its own state: a warm stack the user has up must not answer for the binary named here.
          env: { PILOT_DISCOVERY: aprilBinary, XDG_STATE_HOME: join(dir, 'state') },
        },
      );
      expect(r.exitCode).toBe(2);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('egress-conformance:')),
      ).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  },
);
