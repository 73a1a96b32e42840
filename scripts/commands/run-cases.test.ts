// `run --cases DIR`: a user's own case files on the control-plane lane. Without pins the oracle is the
// expectation; a pin that contradicts what istiod does fails the probe even when the oracle agrees.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PINNED_PILOT } from '../../helpers/tools/pilot-discovery.ts';
import { findIstioctlBuildSync, findPilotDiscoverySync } from '../../helpers/tools/pilot-locate.ts';
import { findKubeBinarySync } from '../../helpers/tools/kube-builds.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'iec-run-cases-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cases = join(root, 'cases');
mkdirSync(cases);
const SE =
  '  - {apiVersion: networking.istio.io/v1, kind: ServiceEntry, metadata: {name: db, namespace: frontend}, spec: {hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}}\n';
writeFileSync(
  join(cases, 'mine.yaml'),
  `name: mine\npolicies: [REGISTRY_ONLY]\nmanifests:\n${SE}probes:\n  - {from: default, to: "tcp://db.example.com:5432"}\n  - {from: "frontend[app=web]", to: "http://unlisted.example.com/"}\n`,
);
// The oracle (and istiod) say allowed outbound|5432||db.example.com; this pin says otherwise.
writeFileSync(
  join(cases, 'wrong-pin.yaml'),
  `name: wrong-pin\npolicies: [REGISTRY_ONLY]\nmanifests:\n${SE}probes:\n  - from: default\n    to: tcp://db.example.com:5432\n    expect: {REGISTRY_ONLY: blocked BlackHoleCluster}\n`,
);

const missing = [
  findPilotDiscoverySync(PINNED_PILOT, { ...process.env, PILOT_DISCOVERY: '' }) ? '' : 'pilot-discovery',
  findIstioctlBuildSync(PINNED_PILOT) ? '' : 'istioctl-build',
  ...(['etcd', 'kube-apiserver'] as const).map((k) => (findKubeBinarySync(k) ? '' : k)),
].filter(Boolean);

describe('run --cases', () => {
  it('a directory that is not there is bad input, one line', async () => {
    const r = await execa('node', [BIN, 'run', '--lane', 'control-plane', '--cases', join(root, 'nope')], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/nope: cannot read the case catalogue directory/);
  });

  it.skipIf(missing.length > 0)(
    `runs the user's cases on the real istiod: unpinned ones against the oracle, pinned ones against their pins too${missing.length ? ` — skipped: not built: ${missing.join(', ')}` : ''}`,
    async () => {
      const reports = join(root, 'reports');
      const r = await execa('node', [BIN, 'run', '--lane', 'control-plane', '--cases', cases, '--report-dir', reports], {
        reject: false,
        env: { TMPDIR: root },
      });
      expect(r.exitCode).toBe(1);
      const report = JSON.parse(readFileSync(join(reports, 'egress-control-plane.json'), 'utf8'));
      const outcomes = Object.fromEntries(
        report.results.map((x: { id: string; outcome: string; message?: string }) => [x.id, [x.outcome, x.message ?? '']]),
      );
      expect(outcomes).toEqual({
        'REGISTRY_ONLY/mine/default→tcp://db.example.com:5432': ['pass', ''],
        'REGISTRY_ONLY/mine/frontend[app=web]→http://unlisted.example.com/': ['pass', ''],
        'REGISTRY_ONLY/wrong-pin/default→tcp://db.example.com:5432': [
          'fail',
          'agrees with the oracle, but the case pins blocked BlackHoleCluster and the lane observed allowed outbound|5432||db.example.com',
        ],
      });
    },
    600_000,
  );
});
