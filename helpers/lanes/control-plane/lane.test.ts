// Against the real stack: a kwok cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok),
// Istio installed by the real `istioctl install`, the pinned pilot-discovery. Skipped, with the reason,
// when a binary is not built.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ClientNodeK8s } from '../../k8s/client.ts';
import { RUN_LABEL } from '../../k8s/manifests.ts';
import { controlPlaneMissing } from './requirements.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation, PolicyMode, Probe, ResourceSet } from '../../model/types.ts';
import { parseProbeUrl } from '../../probes/url.ts';
import { findKubeBinarySync } from '../../tools/kube-builds.ts';
import { findIstioctlBuildSync, findPilotDiscoverySync } from '../../tools/pilot-locate.ts';
import { PROBE_IDENTITY } from './istiod.ts';
import { ControlPlaneLane } from './lane.ts';
import { isRecordedAlive } from './process.ts';
import { API_HTTP, DB_TCP, resources, se, sidecar } from './testdata/resources.ts';

const binary = findPilotDiscoverySync();
const missing = controlPlaneMissing() ?? '';
const skipReason = missing ? `skipped: ${missing}` : '';

function probe(from: string, url: string, labels?: Record<string, string>): Probe {
  return { from: { namespace: from, ...(labels ? { labels } : {}) }, to: parseProbeUrl(url) };
}

describe.skipIf(!!missing)(`control-plane lane on a real API server and istiod ${skipReason}`, () => {
  const lane = new ControlPlaneLane({ binary });
  let pids: number[] = [];
  let procs: { name: string; pid: number; binary: string }[] = [];
  let dir = '';

  async function run(policy: PolicyMode, res: ResourceSet, p: Probe): Promise<Observation> {
    const h = await lane.applyScenario('t', policy, res);
    return lane.observe(h, p);
  }

  beforeAll(async () => {
    const info = await lane.setup();
    expect(info.lane).toBe('control-plane');
    procs = lane.state().processes;
    pids = procs.map((p) => p.pid);
    dir = lane.runDir ?? '';
  });

  afterAll(async () => {
    await lane.teardown();
  });

  it('starts on loopback and answers ADS with the sidecar catch-all listener', async () => {
    const i = lane.istiodProcess!;
    expect(lane.state().processes.map((p) => p.name)).toEqual(expect.arrayContaining(['pilot-discovery', 'etcd', 'kube-apiserver']));
    expect(i.addresses.grpc).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(lane.state().apiServer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(i.readyAfterMs).toBeGreaterThan(0);
    const snap = await i.snapshot(PROBE_IDENTITY('1.32.0'));
    expect(snap.listeners.map((l) => l.name)).toContain('virtualOutbound');
    expect(snap.clusters.map((c) => c.name)).toEqual(expect.arrayContaining(['PassthroughCluster', 'BlackHoleCluster']));
  });

  it("fetches each probe source's xDS once per scenario, started as the scenario is applied, and again for the next", async () => {
    const istiod = lane.istiodProcess!;
    const fetch = istiod.snapshot.bind(istiod);
    const asked: string[] = [];
    istiod.snapshot = (identity, opts) => {
      // The egress gateway's own fetches (istio-system, gateway-hop.ts) are another observer's.
      if (identity.namespace !== 'istio-system') asked.push(identity.namespace);
      return fetch(identity, opts);
    };
    try {
      const sources = [{ namespace: 'frontend' }, { namespace: 'default' }];
      const h = await lane.applyScenario('prefetch', 'REGISTRY_ONLY', resources([DB_TCP]), sources);
      const seen = [];
      for (const [from, url] of [
        ['frontend', 'tcp://db.example.com:5432'],
        ['frontend', 'tcp://unknown.example.com:6379'],
        ['default', 'tcp://db.example.com:5432'],
      ] as const)
        seen.push(await lane.observe(h, probe(from, url)));
      expect([...asked].sort(), asked.join(',')).toEqual(['default', 'frontend']);
      expect(seen.map((o) => o.evidence.freshFetch)).toEqual([true, false, true]);
      expect(seen.map((o) => o.cluster)).toEqual(['outbound|5432||db.example.com', 'BlackHoleCluster', 'outbound|5432||db.example.com']);
      const next = await lane.applyScenario('prefetch-2', 'REGISTRY_ONLY', resources(), sources);
      expect(await lane.observe(next, probe('frontend', 'tcp://db.example.com:5432'))).toMatchObject({ cluster: 'BlackHoleCluster' });
      expect(asked).toHaveLength(4);
    } finally {
      istiod.snapshot = fetch;
    }
  });

  it('an unknown host: BlackHole under REGISTRY_ONLY, Passthrough under ALLOW_ANY', async () => {
    const ro = await run('REGISTRY_ONLY', resources(), probe('frontend', 'tcp://unknown.example.com:6379'));
    expect(ro).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'tcp-close' });
    expect(ro.evidence).toMatchObject({ listener: 'virtualOutbound' });
    const aa = await run('ALLOW_ANY', resources(), probe('frontend', 'tcp://unknown.example.com:6379'));
    expect(aa).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster' });
  });

  it('a TCP ServiceEntry on 5432 captures the port for every host, under both policies', async () => {
    for (const policy of ['REGISTRY_ONLY', 'ALLOW_ANY'] as const) {
      const h = await lane.applyScenario('tcp', policy, resources([DB_TCP]));
      for (const url of ['tcp://db.example.com:5432', 'tcp://unlisted.example.com:5432', 'tcp://198.51.100.4:5432']) {
        const o = await lane.observe(h, probe('frontend', url));
        expect(o, `${policy} ${url}`).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.com' });
        expect(o.evidence).toMatchObject({ listener: '0.0.0.0_5432' });
      }
    }
  });

  it('an HTTP ServiceEntry on 80: unknown host gets a 502 under REGISTRY_ONLY, its own host routes', async () => {
    const h = await lane.applyScenario('http', 'REGISTRY_ONLY', resources([API_HTTP]));
    const unknown = await lane.observe(h, probe('frontend', 'http://unknown.example.com/'));
    expect(unknown).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502' });
    expect(unknown.evidence).toMatchObject({ listener: '0.0.0.0_80', routeConfig: '80', virtualHost: 'block_all' });
    expect(await lane.observe(h, probe('frontend', 'http://api.example.com/'))).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||api.example.com',
    });
    // No HTTP service on 8080: TCP-level close from the catch-all.
    expect(await lane.observe(h, probe('frontend', 'http://api.example.com:8080/'))).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
    });
  });

  it('exportTo "." hides a frontend entry from default', async () => {
    const priv = se('external-db', 'frontend', ['db.example.com'], [{ number: 5432, name: 'tcp-postgres', protocol: 'TCP' }], {
      exportTo: ['.'],
    });
    const h = await lane.applyScenario('export', 'REGISTRY_ONLY', resources([priv]));
    expect(await lane.observe(h, probe('frontend', 'tcp://db.example.com:5432'))).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||db.example.com',
    });
    expect(await lane.observe(h, probe('default', 'tcp://db.example.com:5432'))).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
  });

  it('meshConfig.defaultServiceExportTo ["."] applies to entries without exportTo', async () => {
    const h = await lane.applyScenario('default-export', 'REGISTRY_ONLY', resources([DB_TCP], [], { defaultServiceExportTo: ['.'] }));
    expect(await lane.observe(h, probe('frontend', 'tcp://db.example.com:5432'))).toMatchObject({ verdict: 'allowed' });
    expect(await lane.observe(h, probe('default', 'tcp://db.example.com:5432'))).toMatchObject({ verdict: 'blocked' });
  });

  it('a Sidecar overrides the mesh policy and narrows imports; workloadSelector uses the pod labels', async () => {
    const nsSidecar = sidecar('default', 'default', ['./*'], { outboundTrafficPolicy: 'REGISTRY_ONLY' });
    const locked = sidecar('locked', 'frontend', ['*/*'], { outboundTrafficPolicy: 'REGISTRY_ONLY', workloadSelector: { app: 'locked' } });
    const h = await lane.applyScenario('sidecar', 'ALLOW_ANY', resources([DB_TCP], [nsSidecar, locked]));
    // default: its Sidecar says REGISTRY_ONLY and imports only ./*, so frontend's db entry is unknown there.
    expect(await lane.observe(h, probe('default', 'tcp://db.example.com:5432'))).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
    // frontend without the label: mesh ALLOW_ANY.
    expect(await lane.observe(h, probe('frontend', 'tcp://other.example.com:6379'))).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
    });
    // frontend pod labelled app=locked: its selected Sidecar blocks unknown hosts but still imports db.
    expect(await lane.observe(h, probe('frontend', 'tcp://other.example.com:6379', { app: 'locked' }))).toMatchObject({
      verdict: 'blocked',
    });
    expect(await lane.observe(h, probe('frontend', 'tcp://db.example.com:5432', { app: 'locked' }))).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5432||db.example.com',
    });
  });

  it('a root-namespace Sidecar follows meshConfig.rootNamespace', async () => {
    const root = sidecar('default', 'mesh-root', ['./*'], { outboundTrafficPolicy: 'REGISTRY_ONLY' });
    const h = await lane.applyScenario('root', 'ALLOW_ANY', resources([], [root], { rootNamespace: 'mesh-root' }));
    expect(await lane.observe(h, probe('frontend', 'tcp://x.example.com:6379'))).toMatchObject({ verdict: 'blocked' });
    const h2 = await lane.applyScenario('root-elsewhere', 'ALLOW_ANY', resources([], [root]));
    expect(await lane.observe(h2, probe('frontend', 'tcp://x.example.com:6379'))).toMatchObject({ verdict: 'allowed' });
  });

  it('DNS capture: the auto-allocated address gets the TCP listener, other hosts on the port fall to the policy', async () => {
    const h = await lane.applyScenario('dns', 'REGISTRY_ONLY', resources([DB_TCP], [], { dnsCapture: true }));
    const db = await lane.observe(h, probe('frontend', 'tcp://db.example.com:5432'));
    expect(db).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.com' });
    expect(db.evidence.listener).toMatch(/^240\.240\.\d+\.\d+_5432$/);
    expect(db.evidence.resolvedBy).toMatch(/NDS/);
    expect(await lane.observe(h, probe('frontend', 'tcp://unlisted.example.com:5432'))).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
    });
  });

  it("a fresh istiod answers inside withFreshControlPlane, as the stack's own does, and is gone after it", async () => {
    const own = lane.istiodProcess!;
    const res = resources([DB_TCP]);
    const before = await run('REGISTRY_ONLY', res, probe('frontend', 'tcp://db.example.com:5432'));
    let freshPid = 0;
    const inside = await lane.withFreshControlPlane(async () => {
      const fresh = lane.istiodProcess!;
      freshPid = fresh.pid!;
      expect(fresh.pid).not.toBe(own.pid);
      expect(fresh.addresses.grpc).not.toBe(own.addresses.grpc);
      return run('REGISTRY_ONLY', res, probe('frontend', 'tcp://db.example.com:5432'));
    });
    const gist = (o: Observation) => ({ verdict: o.verdict, cluster: o.cluster, signal: o.signal, listener: o.evidence.listener });
    expect(gist(inside)).toEqual(gist(before));
    expect(before.cluster).toBe('outbound|5432||db.example.com');
    // Pushed by another process: its own push count (the stack's istiod has pushed many times by now).
    expect(inside.evidence.xdsVersions).not.toEqual(before.evidence.xdsVersions);
    expect(lane.istiodProcess).toBe(own);
    expect(isRecordedAlive(freshPid, own.opts.binary)).toBe(false);
    expect(existsSync(join(dir, 'istiod-fresh-1'))).toBe(false);
    // The stack's own istiod takes the next scenario again.
    expect(await run('REGISTRY_ONLY', res, probe('frontend', 'tcp://other.example.com:5432'))).toMatchObject({ cluster: before.cluster });
  });

  it('clearScenario removes the resources and a stale handle is refused', async () => {
    const h = await lane.applyScenario('clear', 'REGISTRY_ONLY', resources([DB_TCP]));
    await lane.clearScenario(h);
    const stale = await lane.observe(h, probe('frontend', 'tcp://db.example.com:5432'));
    expect(stale.verdict).toBe('error');
    const h2 = await lane.applyScenario('after-clear', 'REGISTRY_ONLY', resources());
    expect(await lane.observe(h2, probe('frontend', 'tcp://db.example.com:5432'))).toMatchObject({ verdict: 'blocked' });
  });

  it('Istio is installed from the IstioOperator and the client Pods are real API objects', async () => {
    const k8s = new ClientNodeK8s(lane.apiServer!.kubeconfigFile);
    const cm = await k8s.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'istio-system', name: 'istio' });
    expect(String((cm?.data as Record<string, string> | undefined)?.mesh)).toMatch(/accessLogFile: \/dev\/stdout/);
    expect(
      await k8s.get({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: 'serviceentries.networking.istio.io',
      }),
    ).toBeDefined();
    const pods = await k8s.listPods('frontend');
    expect(pods.map((p) => p.metadata.name)).toContain('egress-client');
    expect((pods[0]!.status as { podIP?: string }).podIP).toMatch(/^10\.244\./);
  });

  it('a labelled probe source gets its own Pod, and the Sidecar selector matches that Pod', async () => {
    const k8s = new ClientNodeK8s(lane.apiServer!.kubeconfigFile);
    const web = sidecar('web-only', 'default', ['./*'], { outboundTrafficPolicy: 'REGISTRY_ONLY', workloadSelector: { app: 'web' } });
    const h = await lane.applyScenario('selector', 'ALLOW_ANY', resources([], [web]));
    expect(await lane.observe(h, probe('default', 'tcp://x.example.com:7000', { app: 'web' }))).toMatchObject({ verdict: 'blocked' });
    expect(await lane.observe(h, probe('default', 'tcp://x.example.com:7000'))).toMatchObject({ verdict: 'allowed' });
    const labelled = (await k8s.listPods('default', 'app=web')).map((p) => p.metadata.name);
    expect(labelled).toHaveLength(1);
    expect(labelled[0]).toMatch(/^egress-client-[0-9a-f]{8}$/);
  });

  it("Istio's and the clients' Pods run through the scheduler and kwok (nothing writes their status)", async () => {
    const k8s = new ClientNodeK8s(lane.apiServer!.kubeconfigFile);
    const istio = await k8s.listPods('istio-system');
    for (const app of ['istiod', 'istio-egressgateway']) {
      const pod = istio.find((p) => p.metadata.name.startsWith(`${app}-`) && (p.status as { phase?: string })?.phase === 'Running');
      expect(pod, app).toBeDefined();
      expect((pod!.spec as { nodeName?: string }).nodeName).toBe('egress-conformance-node');
      expect(pod!.status).toMatchObject({ phase: 'Running', podIP: expect.stringMatching(/^10\.244\.0\./) });
    }
    const client = (await k8s.listPods('frontend')).find((p) => p.metadata.name === 'egress-client')!;
    expect((client.spec as { nodeName?: string }).nodeName).toBe('egress-conformance-node');
    const managers = ((client.metadata as { managedFields?: { manager?: string; subresource?: string }[] }).managedFields ?? [])
      .filter((f) => f.subresource === 'status')
      .map((f) => f.manager);
    expect(managers).not.toContain('egress-conformance');
  });

  it("a Sidecar the pinned istioctl refuses is refused at `kubectl apply` by istiod's webhook", async () => {
    const bad = join(dir, 'bad-sidecar.yaml');
    writeFileSync(
      bad,
      'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: bad\n  namespace: frontend\nspec:\n  egress:\n  - hosts: ["no-namespace-part"]\n',
    );
    const validate = await execa(findIstioctlBuildSync()!, ['validate', '-f', bad], { reject: false, env: { HOME: dir } });
    expect(validate.exitCode).not.toBe(0);
    const kubectl = findKubeBinarySync('kubectl')!;
    const applied = await execa(kubectl, ['--kubeconfig', lane.apiServer!.kubeconfigFile, 'apply', '-f', bad], { reject: false });
    expect(applied.exitCode).not.toBe(0);
    expect(applied.stderr).toMatch(/denied the request/);
    const good = bad.replace('bad-', 'good-');
    writeFileSync(good, readFileSync(bad, 'utf8').replace('no-namespace-part', './*').replace('name: bad', 'name: good'));
    const ok = await execa(kubectl, ['--kubeconfig', lane.apiServer!.kubeconfigFile, 'apply', '-f', good], { reject: false });
    expect(ok.stderr).toBe('');
    await execa(kubectl, ['--kubeconfig', lane.apiServer!.kubeconfigFile, 'delete', '-f', good]);
  });

  it('a Sidecar with the mesh-only mode ALLOW_ANY_DYNAMIC_DNS is refused by the API server (its CRD enum lacks it)', async () => {
    const file = join(dir, 'dfp-sidecar.yaml');
    writeFileSync(
      file,
      'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: dfp, namespace: frontend}\nspec: {outboundTrafficPolicy: {mode: ALLOW_ANY_DYNAMIC_DNS}}\n',
    );
    const kubectl = findKubeBinarySync('kubectl')!;
    const applied = await execa(kubectl, ['--kubeconfig', lane.apiServer!.kubeconfigFile, 'apply', '-f', file], { reject: false });
    expect(applied.exitCode).not.toBe(0);
    expect(applied.stderr).toMatch(/spec\.outboundTrafficPolicy\.mode: Unsupported value: "ALLOW_ANY_DYNAMIC_DNS"/);
  });

  it("a scenario's labelled Pods exist before it is applied and are gone after it", async () => {
    const k8s = new ClientNodeK8s(lane.apiServer!.kubeconfigFile);
    const web = sidecar('web-only', 'default', ['./*'], { workloadSelector: { tier: 'web' } });
    const h = await lane.applyScenario('own-pods', 'ALLOW_ANY', resources([], [web]));
    expect(await k8s.listPods('default', 'tier=web')).toHaveLength(1);
    await lane.clearScenario(h);
    expect(await k8s.listPods('default', 'tier=web')).toHaveLength(0);
  });

  it('replacing a scenario leaves the next one exactly: its objects created afresh, the Pods it shares kept, the others gone', async () => {
    const k8s = new ClientNodeK8s(lane.apiServer!.kubeconfigFile);
    const web = sidecar('web-only', 'default', ['./*'], { workloadSelector: { tier: 'web' } });
    const api = sidecar('api-only', 'default', ['./*'], { workloadSelector: { tier: 'api' } });
    const first = await lane.applyScenario('first', 'ALLOW_ANY', resources([DB_TCP], [web, api]));
    const [webPod] = await k8s.listPods('default', 'tier=web');
    const before = await k8s.get({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', namespace: 'default', name: 'web-only' });
    const next = await lane.replaceScenario(first, 'next', 'REGISTRY_ONLY', resources([API_HTTP], [web]));
    const after = await k8s.get({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', namespace: 'default', name: 'web-only' });
    expect(after?.metadata.uid).not.toBe(before?.metadata.uid);
    expect((await k8s.listPods('default', 'tier=web')).map((p) => p.metadata.uid)).toEqual([webPod?.metadata.uid]);
    expect(await k8s.listPods('default', 'tier=api')).toHaveLength(0);
    const entries = await k8s.list('networking.istio.io/v1', 'ServiceEntry', undefined, `${RUN_LABEL}=${lane.runId}`);
    expect(entries.map((e) => e.metadata.name).filter((n) => !n.startsWith('egress-conformance-'))).toEqual([API_HTTP.name]);
    expect(await lane.observe(next, probe('frontend', 'tcp://db.example.com:5432'))).toMatchObject({ verdict: 'blocked' });
    await lane.clearScenario(next);
    expect(await k8s.listPods('default', 'tier=web')).toHaveLength(0);
  });

  it('teardown leaves no process and removes its temp dir', async () => {
    expect(pids.length).toBeGreaterThanOrEqual(4);
    await lane.teardown();
    for (const p of procs) expect(isRecordedAlive(p.pid, p.binary), p.name).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await lane.teardown(); // twice is fine
  });
});

describe.skipIf(!!missing)(`a detached stack, attached to by a later command (exam labs) ${skipReason}`, () => {
  it('outlives its lane object, observes what a user applied, and stopRecorded ends only its own processes', async () => {
    const starter = new ControlPlaneLane({ detached: true });
    await starter.setup();
    const state = starter.state();
    expect(state.processes[0]?.name).toBe('pilot-discovery');
    expect(state.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver', 'kwok-controller']));
    try {
      expect(ControlPlaneLane.isAlive(state)).toBe(true);
      // As `kubectl apply` would: no run label, no generation annotation.
      const user = new ClientNodeK8s(state.kubeconfig);
      await user.create({
        apiVersion: 'networking.istio.io/v1',
        kind: 'ServiceEntry',
        metadata: { name: 'db', namespace: 'frontend' },
        spec: { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution: 'NONE' },
      });
      const lane = ControlPlaneLane.attach(state);
      const mesh = await lane.syncLive();
      expect(mesh).toMatchObject({ outboundTrafficPolicy: { mode: 'ALLOW_ANY' } });
      expect(await lane.observeLive(probe('default', 'tcp://other.example.com:5432'))).toMatchObject({
        verdict: 'allowed',
        cluster: 'outbound|5432||db.example.com',
      });
      await lane.teardown(); // an attached lane leaves the stack running
      expect(ControlPlaneLane.isAlive(state)).toBe(true);
    } finally {
      ControlPlaneLane.stopRecorded(state);
    }
    await new Promise((r) => setTimeout(r, 200));
    // Killed components whose parent is gone can stay zombies where PID 1 does not reap: gone is "no longer that program".
    for (const p of state.processes) expect(isRecordedAlive(p.pid, p.binary), p.name).toBe(false);
    expect(existsSync(state.runDir)).toBe(false);
  });
});
