// --from-cluster against a real API server (the control-plane lane's cluster): what a user's cluster holds
// is read back read-only and checked as a file would be; unmodelled kinds are said aloud; a wrong context is
// one line of bad input. The kubeconfig tests run anywhere; the live one is skipped until the tools are built.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../model/errors.ts';
import { missingStackTools } from '../stack/requirements.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { kubeConfigFor, readFromCluster } from './from-cluster.ts';
import { emptyResources } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'iec-from-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KUBECONFIG = join(dir, 'kubeconfig');
writeFileSync(
  KUBECONFIG,
  `apiVersion: v1
kind: Config
clusters: [{name: a, cluster: {server: "https://127.0.0.1:1"}}, {name: b, cluster: {server: "https://127.0.0.1:2"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: one, context: {cluster: a, user: u}}, {name: two, context: {cluster: b, user: u}}]
current-context: one
`,
);

describe('--context', () => {
  it('selects the named context; an unknown one names those the kubeconfig has', () => {
    expect(kubeConfigFor({ kubeconfig: KUBECONFIG }).getCurrentCluster()?.server).toBe('https://127.0.0.1:1');
    expect(kubeConfigFor({ kubeconfig: KUBECONFIG, context: 'two' }).getCurrentCluster()?.server).toBe('https://127.0.0.1:2');
    expect(() => kubeConfigFor({ kubeconfig: KUBECONFIG, context: 'three' })).toThrow(UserError);
    expect(() => kubeConfigFor({ kubeconfig: KUBECONFIG, context: 'three' })).toThrow(/it has one, two/);
  });

  it('a cluster that does not answer is an environment error (exit 3), not a crash', async () => {
    const e = await readFromCluster({ kubeconfig: KUBECONFIG, into: emptyResources(), notes: [] }).catch((x) => x);
    expect(e.exitCode).toBe(3);
    expect(e.message).toMatch(/--from-cluster: context one did not answer/);
  });
});

const missing = missingStackTools(PINNED_PILOT);
describe.skipIf(missing.length > 0)(`on a real API server${missing.length ? ` — skipped: needs ${missing.join(', ')}` : ''}`, () => {
  it('reads ServiceEntries, Sidecars and the mesh ConfigMap; an EnvoyFilter is a NOT MODELLED note', async () => {
    const [{ ControlPlaneLane }, { ClientNodeK8s }] = await Promise.all([
      import('../lanes/control-plane/lane.ts'),
      import('../k8s/client.ts'),
    ]);
    const lane = new ControlPlaneLane({ pin: PINNED_PILOT });
    try {
      await lane.setup();
      const { kubeconfig } = lane.state();
      const k8s = new ClientNodeK8s(kubeconfig);
      await k8s.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
      await k8s.apply({
        apiVersion: 'networking.istio.io/v1',
        kind: 'ServiceEntry',
        metadata: { name: 'db', namespace: 'shop' },
        spec: { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' },
      });
      await k8s.apply({
        apiVersion: 'networking.istio.io/v1',
        kind: 'Sidecar',
        metadata: { name: 'default', namespace: 'shop' },
        spec: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } },
      });
      await k8s.apply({
        apiVersion: 'networking.istio.io/v1alpha3',
        kind: 'EnvoyFilter',
        metadata: { name: 'patch', namespace: 'shop' },
        spec: { configPatches: [] },
      });
      const into = emptyResources();
      const notes: string[] = [];
      await readFromCluster({ kubeconfig, into, notes });
      expect(into.serviceEntries.find((s) => s.namespace === 'shop')).toMatchObject({ name: 'db', hosts: ['db.example.com'] });
      expect(into.sidecars.find((s) => s.namespace === 'shop')?.outboundTrafficPolicy).toBe('REGISTRY_ONLY');
      expect(into.mesh.source?.file).toMatch(/ConfigMap istio-system\/istio/);
      expect(notes.some((n) => /NOT MODELLED: EnvoyFilter shop\/patch/.test(n))).toBe(true);
    } finally {
      await lane.teardown();
    }
  }, 300_000);
});
