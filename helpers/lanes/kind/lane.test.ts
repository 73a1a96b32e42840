// KindLane, the kind lane's one implementation, driven as helpers/suite/define.ts drives it, with shim
// executables on PATH (docker, kind, istioctl, openssl) and a recording fake of the Kubernetes API. Asserts
// commands, their order and arguments, what is cleaned up, and that the user's kubeconfig is never used.
// No Docker, no cluster.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError, UserError } from '../../model/errors.ts';
import { parseProbeUrl } from '../../probes/url.ts';
import { PINNED } from '../../tools/versions.ts';
import { StepError } from '../../model/errors.ts';
import { KindLane } from './lane.ts';
import { harness, runLane } from './testdata/harness.ts';
import { SCENARIOS, line, readShimLog, shimState } from './testdata/standins.ts';

const RUN_LABEL = 'egress-conformance.run=test-run-1';
const diagnosticsPrinted = (out: string[]) =>
  /^diagnostics: (\S+) \(/.exec(out.filter((l) => l.startsWith('diagnostics: ')).pop() ?? '')?.[1];

describe('KindLane', () => {
  it('setup, apply scenario per policy, observe, clear, teardown', async () => {
    const h = harness();
    const lane = h.lane({ runId: 'lane-1' });
    const info = await lane.setup();
    expect(info).toMatchObject({ lane: 'kind', istioVersion: '1.30.3' });
    expect(info.details.kindNetwork).toContain('172.18.0.0/16');
    expect(await lane.setup()).toBe(info); // idempotent
    expect(new KindLane({ runId: 'lane-2', handleSignals: false }).artifactsDir).toBe(join(process.cwd(), 'artifacts', 'kind', 'lane-2'));

    const s = SCENARIOS[0];
    const h1 = await lane.applyScenario(s.name, 'ALLOW_ANY', s.resources);
    const obs = await lane.observe(h1, { from: { namespace: 'frontend' }, to: parseProbeUrl('tcp://db.example.com:5432') });
    expect(obs.verdict).toBe('allowed');
    // The cluster is what the client sidecar logged; the sync barrier's evidence comes with it.
    expect(obs.cluster).toBe('PassthroughCluster');
    expect(obs.evidence.accessLog).toEqual([expect.stringMatching(/ PassthroughCluster - 172\.18\.0\.4:5432 /)]);
    expect(obs.evidence.sync).toMatchObject({
      generation: 1,
      marker: '10.001s',
      proxy: { passthroughConnectTimeout: '10.001s', syncz: { cluster_acked: 'a1b2c3d4' } },
    });
    expect(obs.evidence.pod).toBe('frontend/egress-client');
    await lane.clearScenario(h1);

    const h2 = await lane.applyScenario(s.name, 'REGISTRY_ONLY', s.resources);
    // A probe from a labelled workload the apply was not told of gets its own client pod, created on first use.
    const labelled = await lane.observe(h2, {
      from: { namespace: 'frontend', labels: { app: 'legacy' } },
      to: parseProbeUrl('http://api.example.com/'),
    });
    expect(labelled.evidence.pod).toMatch(/^frontend\/egress-client-[0-9a-f]{8}$/);
    // Its sidecar passed the barrier of the applied generation before the probe.
    expect(labelled.evidence.sync).toMatchObject({ generation: 2, proxy: { passthroughConnectTimeout: '10.002s' } });
    const pod = [...h.fake.store.values()].find((x) => x.kind === 'Pod' && x.metadata.labels?.app === 'legacy');
    expect(pod?.metadata.namespace).toBe('frontend');

    await lane.teardown();
    await lane.teardown(); // safe twice
    const lines = readShimLog(h.log).map(line);
    expect(lines.filter((l) => l.startsWith('istioctl manifest'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('kind delete cluster'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('docker rm -f -v'))).toHaveLength(1);
    expect(existsSync(h.workDir)).toBe(false);
    expect(h.userKubeconfigUntouched()).toBe(true);
    // The client sidecars' access logs were kept before the cluster went.
    const kept = readFileSync(join(lane.artifactsDir, 'access-logs', 'egress-client.frontend.istio-proxy.log'), 'utf8');
    expect(kept).toMatch(/ PassthroughCluster - 172\.18\.0\.4:5432 /);
    // Cleared once explicitly; the second application goes with the cluster at teardown.
    expect(h.fake.calls.filter((c) => c.op === 'delete' && c.kind === 'ServiceEntry')).toHaveLength(1);
  });

  it("a probe source named at apply gets its client before the scenario's barrier, and podsFor tells the model of it", async () => {
    const h = harness();
    const lane = h.lane({ runId: 'lane-3' });
    await lane.setup();
    const s = SCENARIOS[0];
    const legacy = { namespace: 'frontend', labels: { app: 'legacy' } };
    const before = lane.podsFor(s.resources, []);
    expect(before).not.toContainEqual(legacy);
    const handle = await lane.applyScenario(s.name, 'REGISTRY_ONLY', s.resources, [legacy]);
    // Made by the apply, not by the first probe from it.
    const pod = [...h.fake.store.values()].find((x) => x.kind === 'Pod' && x.metadata.labels?.app === 'legacy');
    expect(pod?.metadata.namespace).toBe('frontend');
    expect(lane.podsFor(s.resources, [])).toEqual(expect.arrayContaining([...before, legacy]));
    const obs = await lane.observe(handle, { from: legacy, to: parseProbeUrl('http://api.example.com/') });
    expect(obs.evidence.pod).toBe(`frontend/${pod?.metadata.name}`);
    // The scenario's own barrier covered it: no second barrier at its first probe.
    expect(obs.evidence.sync).toMatchObject({ generation: 1 });
    await lane.teardown();
  });

  it('runs preflight, cluster, servers, DNS, namespaces, Istio per policy, clients, scenarios, teardown in order', async () => {
    const h = harness();
    const results = await runLane(h.lane());
    const calls = readShimLog(h.log);
    const lines = calls.map(line);
    const kubeconfig = join(h.workDir, 'kubeconfig');

    // Every child ran with the run's own kubeconfig, never the user's.
    expect(calls.every((c) => c.kubeconfig === kubeconfig)).toBe(true);
    expect(h.userKubeconfigUntouched()).toBe(true);

    const idx = (re: RegExp) => {
      const i = lines.findIndex((l) => re.test(l));
      expect(i, `no call matching ${re}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [
      /^docker info --format/,
      /^openssl version$/,
      /^kind version$/,
      /^istioctl version --remote=false$/,
      /^kind get clusters$/,
      /^kind create cluster /,
      /^docker network inspect kind/,
      /^openssl req -x509/,
      /^docker create --name egress-conformance-test-run-1-db /,
      /^docker create --name egress-conformance-test-run-1-web /,
      /^docker exec egress-conformance-test-run-1-db pg_isready/,
      /^docker inspect .* egress-conformance-test-run-1-db$/,
      /^istioctl manifest generate -f \S+istio-ALLOW_ANY-[0-9a-f]{6}\.yaml/,
      /^istioctl manifest generate -f \S+istio-REGISTRY_ONLY-[0-9a-f]{6}\.yaml/,
      /^docker ps -aq --filter label=egress-conformance\.run=test-run-1$/,
      /^docker rm -f -v /,
      /^kind delete cluster /,
    ].map(idx);
    expect(order).toEqual([...order].sort((a, b) => a - b));

    const create = calls.find((c) => c.tool === 'kind' && c.argv[0] === 'create')!;
    expect(create.argv).toEqual([
      'create',
      'cluster',
      '--name',
      'egress-conformance',
      '--config',
      expect.stringMatching(/clusters\/kind\.yaml$/),
      '--image',
      PINNED.kindNodeImage,
      '--kubeconfig',
      kubeconfig,
      '--wait',
      '180s',
    ]);
    expect(PINNED.kindNodeImage).toMatch(/^kindest\/node:v[\d.]+@sha256:[0-9a-f]{64}$/);
    const install = calls.find((c) => c.tool === 'istioctl' && c.argv[0] === 'manifest')!;
    expect(install.argv).toEqual(['manifest', 'generate', '-f', expect.stringMatching(/istio-ALLOW_ANY-[0-9a-f]{6}\.yaml$/)]);
    // What istioctl rendered was applied through the API, the mesh ConfigMap from the IstioOperator included.
    expect(
      h.fake.calls.some(
        (c) => c.op === 'apply' && c.kind === 'CustomResourceDefinition' && c.name === 'serviceentries.networking.istio.io',
      ),
    ).toBe(true);
    expect((h.fake.store.get('ConfigMap/istio-system/istio')!.data as { mesh: string }).mesh).toMatch(
      /^accessLogFile: \/dev\/stdout\noutboundTrafficPolicy:\n {2}mode: REGISTRY_ONLY\nconnectTimeout: 10\.\d{3}s/,
    );
    expect(
      calls
        .filter((c) => c.tool === 'docker' && c.argv[0] === 'create')
        .every((c) => c.argv.includes(RUN_LABEL) && c.argv.includes('kind')),
    ).toBe(true);
    expect(lines.find((l) => l.startsWith('kind delete'))).toBe(`kind delete cluster --name egress-conformance --kubeconfig ${kubeconfig}`);
    // Both server containers removed, by the ids docker ps returned for the run label.
    expect(
      lines
        .find((l) => l.startsWith('docker rm'))!
        .split(' ')
        .slice(4),
    ).toHaveLength(2);
    expect(shimState(h.log, 'containers')).toEqual([]);
    expect(existsSync(h.workDir)).toBe(false);

    // API side: owner marker at creation, CoreDNS patched with the container IPs, namespaces, clients,
    // each scenario's ServiceEntry applied then deleted, webhook checked before any ServiceEntry.
    const api = h.fake.calls;
    const at = (pred: (c: (typeof api)[number]) => boolean) => api.findIndex(pred);
    const corefile = (h.fake.store.get('ConfigMap/kube-system/coredns')!.data as { Corefile: string }).Corefile;
    expect(corefile).toContain('172.18.0.3 db.example.com');
    expect(corefile).toContain('172.18.0.4 api.example.com');
    expect(corefile).toContain('172.18.0.4 unlisted.example.com');
    expect(corefile).toMatch(/ttl 0/);
    expect(at((c) => c.op === 'apply' && c.name === 'egress-conformance-owner')).toBeGreaterThanOrEqual(0);
    const webhook = at((c) => c.op === 'dry-run-create' && c.kind === 'ServiceEntry');
    const seApply = at((c) => c.op === 'apply' && c.kind === 'ServiceEntry');
    expect(webhook).toBeGreaterThanOrEqual(0);
    expect(webhook).toBeLessThan(seApply);
    expect(api.filter((c) => c.op === 'apply' && c.kind === 'ServiceEntry' && c.name === 'db-external')).toHaveLength(2);
    expect(api.filter((c) => c.op === 'delete' && c.kind === 'ServiceEntry' && c.name === 'db-external')).toHaveLength(2);
    const nsFrontend = at((c) => c.op === 'apply' && c.kind === 'Namespace' && c.name === 'frontend');
    const podFrontend = at((c) => c.op === 'apply' && c.kind === 'Pod' && c.namespace === 'frontend');
    expect(nsFrontend).toBeLessThan(podFrontend);
    // The injector is proved to answer (a dry-run Pod in an injected namespace) before any client Pod exists.
    const injector = at((c) => c.op === 'dry-run-create' && c.kind === 'Pod' && c.namespace === 'frontend');
    expect(injector).toBeGreaterThan(nsFrontend);
    expect(injector).toBeLessThan(at((c) => c.op === 'apply' && c.kind === 'Pod'));
    expect(h.fake.store.get('Namespace//frontend')!.metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
    expect(h.fake.store.get('Namespace//default')!.metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
    expect(h.fake.store.get('Namespace//egress-control')!.metadata.labels).toMatchObject({ 'istio-injection': 'disabled' });

    // Every case observed; a verdict after 3 equal results, each attempt with the control call.
    expect(results).toHaveLength(6);
    for (const r of results) {
      expect(r.observation.verdict).toBe('allowed');
      expect(r.observation.evidence.attemptCount).toBe(3);
    }
    const execs = api.filter((c) => c.op === 'exec');
    expect(execs.filter((c) => c.namespace === 'egress-control')).toHaveLength(18);
    expect(execs.find((c) => c.argv![0] === 'pg_isready')!.container).toBe('psql');
  });

  it('teardown stops a step in flight first, then cleans up with the aborted signal', async () => {
    const h = harness({ SHIM_HANG: 'istioctl:manifest' });
    const lane = h.lane();
    await lane.setup();
    const s = SCENARIOS[0];
    const applying = lane.applyScenario(s.name, 'ALLOW_ANY', s.resources).catch((e) => e);
    while (!existsSync(`${h.log}.hanging`)) await sleep(20);
    const started = Date.now();
    await lane.teardown();
    const err = await applying;
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/torn down/);
    // Not the install's 420 s timeout: the hung istioctl was cancelled.
    expect(Date.now() - started).toBeLessThan(15_000);
    const lines = readShimLog(h.log).map(line);
    const after = lines.slice(lines.findIndex((l) => l.startsWith('istioctl manifest')) + 1);
    expect(after.some((l) => /^docker rm -f -v \S+ \S+$/.test(l))).toBe(true);
    expect(after.some((l) => l.startsWith('kind delete cluster --name egress-conformance'))).toBe(true);
    expect(shimState(h.log, 'clusters')).toEqual([]);
    expect(existsSync(h.workDir)).toBe(false);
  });

  it('a failing istioctl manifest generate gives a clean error, keeps diagnostics under artifactsDir, and teardown removes containers and cluster', async () => {
    const h = harness({ SHIM_FAIL: 'istioctl:manifest' });
    const out: string[] = [];
    const err = await runLane(h.lane({ out: (l) => out.push(l) })).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.exitCode).not.toBe(0);
    expect(err.message).toMatch(/istioctl manifest generate -f .*failed with exit code 1.*unknown field/s);
    const lines = readShimLog(h.log).map(line);
    const installAt = lines.findIndex((l) => l.startsWith('istioctl manifest'));
    const after = lines.slice(installAt + 1);
    expect(after.some((l) => l.startsWith('istioctl proxy-status'))).toBe(true);
    expect(after.some((l) => /^docker rm -f -v \S+ \S+$/.test(l))).toBe(true);
    expect(after.some((l) => l.startsWith('kind delete cluster --name egress-conformance'))).toBe(true);
    // Only one install attempt, and nothing after the failure but diagnostics and cleanup.
    expect(lines.filter((l) => l.startsWith('istioctl manifest'))).toHaveLength(1);
    expect(after.every((l) => /^(istioctl (proxy-status|proxy-config)|docker (ps|rm)|kind delete)/.test(l))).toBe(true);
    expect(existsSync(h.workDir)).toBe(false);
    const dir = join(h.root, 'artifacts', 'diagnostics', 'ALLOW_ANY_db-serviceentry');
    expect(existsSync(join(dir, 'proxy-status.txt'))).toBe(true);
    expect(existsSync(join(dir, 'egress-client.frontend.clusters.txt'))).toBe(true);
    expect(out.some((l) => l.startsWith(`diagnostics: ${dir} (`) && /\(\d+ file\(s\)\)$/.test(l))).toBe(true);
    expect(diagnosticsPrinted(out)).toBe(dir);
    expect(h.userKubeconfigUntouched()).toBe(true);
  });

  it('a setup failing once the cluster exists keeps diagnostics in <artifactsDir>/diagnostics', async () => {
    const h = harness({}, { failOn: (c) => c.op === 'apply' && c.kind === 'ConfigMap' && c.name === 'coredns' });
    const out: string[] = [];
    const lane = h.lane({ out: (l) => out.push(l) });
    const err = await lane.setup().catch((e) => e);
    expect(err.message).toMatch(/fake API: apply ConfigMap coredns failed/);
    const dir = join(h.root, 'artifacts', 'diagnostics');
    expect(existsSync(join(dir, 'proxy-status.txt'))).toBe(true);
    expect(lane.lastDiagnostics).toBe(dir);
    expect(out.some((l) => l.startsWith(`diagnostics: ${dir} (`))).toBe(true);
    await lane.teardown();
    expect(
      readShimLog(h.log)
        .map(line)
        .some((l) => l.startsWith('kind delete cluster')),
    ).toBe(true);
  });

  it('a hung step ends at its timeout and teardown cleans up', async () => {
    const h = harness({ SHIM_HANG: 'istioctl:manifest' });
    const err = await runLane(h.lane({ timeouts: { accessLog: 500, istioInstall: 1_500 } })).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/istioctl manifest generate .*timed out/);
    expect(existsSync(`${h.log}.hanging`)).toBe(true);
    const lines = readShimLog(h.log).map(line);
    expect(lines.some((l) => l.startsWith('docker rm -f -v'))).toBe(true);
    expect(lines.some((l) => l.startsWith('kind delete cluster'))).toBe(true);
    expect(existsSync(h.workDir)).toBe(false);
  });

  it('stops with EnvironmentError naming the control-plane lane when Docker is not reachable', async () => {
    const h = harness({ SHIM_DOCKER_DOWN: '1' });
    const err = await runLane(h.lane()).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('npm run e2e -- --lane control-plane');
    expect(err.message).toContain('Cannot connect to the Docker daemon');
    const lines = readShimLog(h.log).map(line);
    expect(lines.some((l) => l.startsWith('kind '))).toBe(false);
    expect(existsSync(join(h.root, 'artifacts'))).toBe(false);
  });

  it('refuses an existing cluster of that name without --reuse, and never deletes it', async () => {
    const h = harness();
    await runLane(h.lane({ keep: true }), []); // leaves a cluster created by "someone"
    const err = await runLane(h.lane({ runId: 'test-run-2' })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/already exists.*--reuse/);
    const lines = readShimLog(h.log).map(line);
    expect(lines.filter((l) => l.startsWith('kind create'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('kind delete'))).toBe(false);
  });

  it("losing a race for the cluster name (kind create: already exists): not this run's, never deleted", async () => {
    const h = harness({ SHIM_KIND_RACE: '1' });
    const out: string[] = [];
    const err = await runLane(h.lane({ out: (l) => out.push(l), timeouts: { accessLog: 500, kindCreateRetryDelay: 0 } })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/appeared while this run was creating it.*left alone.*already exist/s);
    const lines = readShimLog(h.log).map(line);
    expect(lines.filter((l) => l.startsWith('kind create'))).toHaveLength(1); // no retry on someone else's cluster
    expect(lines.some((l) => l.startsWith('kind delete'))).toBe(false);
    expect(shimState(h.log, 'clusters')).toEqual(['egress-conformance']);
    expect(out.some((l) => /cluster egress-conformance kept: this run did not create it/.test(l))).toBe(true);
    expect(existsSync(h.workDir)).toBe(false);
  });

  it('does not delete a cluster whose owner marker names another run', async () => {
    const h = harness();
    const out: string[] = [];
    const lane = h.lane({ out: (l) => out.push(l) });
    await lane.setup();
    // Someone deleted our cluster and another run made one of the same name.
    const marker = h.fake.store.get('ConfigMap/kube-system/egress-conformance-owner')!;
    h.fake.store.set('ConfigMap/kube-system/egress-conformance-owner', {
      ...marker,
      data: { ...(marker.data as object), runId: 'other-run' },
    });
    await lane.teardown();
    const lines = readShimLog(h.log).map(line);
    expect(lines.some((l) => l.startsWith('kind delete'))).toBe(false);
    expect(lines.some((l) => l.startsWith('docker rm -f -v'))).toBe(true);
    expect(out.some((l) => /kept: its owner marker names run other-run, not this run \(test-run-1\)/.test(l))).toBe(true);
  });

  it('--keep keeps the cluster and the server containers, and says how to remove them', async () => {
    const h = harness();
    const out: string[] = [];
    await runLane(h.lane({ keep: true, out: (l) => out.push(l) }), []);
    const lines = readShimLog(h.log).map(line);
    expect(lines.some((l) => l.startsWith('kind delete'))).toBe(false);
    expect(lines.some((l) => l.startsWith('docker rm'))).toBe(false);
    expect(shimState(h.log, 'clusters')).toEqual(['egress-conformance']);
    expect(shimState(h.log, 'containers')).toHaveLength(2);
    expect(existsSync(h.workDir)).toBe(false);
    const text = out.join('\n');
    expect(text).toContain("teardown (--keep): keep cluster egress-conformance and this run's server containers");
    expect(text).toContain('kind delete cluster --name egress-conformance');
    expect(text).toContain('docker rm -f $(docker ps -aq --filter label=egress-conformance.run=test-run-1)');
  });

  it('--reuse refuses a cluster not created by this tool (no owner marker)', async () => {
    const h = harness();
    await runLane(h.lane({ keep: true }), []);
    h.fake.store.delete('ConfigMap/kube-system/egress-conformance-owner'); // someone else's cluster
    const err = await runLane(h.lane({ runId: 'test-run-2', reuse: true })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/not created by egress-conformance.*refusing/);
    const lines = readShimLog(h.log).map(line);
    expect(lines.some((l) => l.startsWith('kind export kubeconfig --name egress-conformance --kubeconfig'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('kind create'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('kind delete'))).toBe(false);
    expect(lines.some((l) => l.startsWith('docker create') && l.includes('test-run-2'))).toBe(false);
  });

  it('--reuse keeps a cluster this tool created: no create, no delete, own containers removed', async () => {
    const h = harness();
    await runLane(h.lane({ keep: true }), []);
    const before = readShimLog(h.log).length;
    const results = await runLane(h.lane({ runId: 'test-run-2', reuse: true }));
    expect(results).toHaveLength(6);
    const lines = readShimLog(h.log).slice(before).map(line);
    expect(lines.some((l) => l.startsWith('kind create'))).toBe(false);
    expect(lines.some((l) => l.startsWith('kind delete'))).toBe(false);
    expect(lines).toContain('docker ps -aq --filter label=egress-conformance.run=test-run-2');
    // The first run's containers are not this run's: only test-run-2's two are removed.
    const rm = lines.find((l) => l.startsWith('docker rm'))!;
    expect(rm.split(' ').slice(4)).toHaveLength(2);
    expect(shimState(h.log, 'containers')).toHaveLength(2);
  });

  it('retries a failed kind create (busy host), then goes on', async () => {
    const h = harness({ SHIM_FAIL_ONCE: 'kind:create' });
    await runLane(h.lane({ timeouts: { accessLog: 500, kindCreateRetryDelay: 0 } }), []);
    const lines = readShimLog(h.log).map(line);
    expect(lines.filter((l) => l.startsWith('kind create cluster'))).toHaveLength(2);
    // Once before the retry (whatever the failed create left), once at teardown.
    expect(lines.filter((l) => l.startsWith('kind delete cluster'))).toHaveLength(2);
  });

  it("a kind create stopped at its time limit leaves a half-built cluster: deleted before the retry, never taken for another run's", async () => {
    const h = harness({ SHIM_KIND_HANG_ONCE: '1' });
    const out: string[] = [];
    await runLane(h.lane({ out: (l) => out.push(l), timeouts: { accessLog: 500, kindCreate: 1_500, kindCreateRetryDelay: 0 } }), []);
    const lines = readShimLog(h.log).map(line);
    const creates = lines.flatMap((l, i) => (l.startsWith('kind create cluster') ? [i] : []));
    expect(creates).toHaveLength(2);
    // Between the killed create and the retry: our half-built cluster deleted.
    expect(lines.slice(creates[0]! + 1, creates[1]).some((l) => l.startsWith('kind delete cluster --name egress-conformance'))).toBe(true);
    expect(out.some((l) => /kind create was stopped at its time limit \(attempt 1\/3\); retrying/.test(l))).toBe(true);
    // The run went on and removed its cluster at the end.
    expect(shimState(h.log, 'clusters')).toEqual([]);
  });

  it("gives up on kind create after 3 attempts, with kind's error", async () => {
    const h = harness({ SHIM_FAIL: 'kind:create' });
    const err = await runLane(h.lane({ timeouts: { accessLog: 500, kindCreateRetryDelay: 0 } })).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/kind create cluster .*\(3 attempts\).*failed to init node/s);
    expect(
      readShimLog(h.log)
        .map(line)
        .filter((l) => l.startsWith('kind create cluster')),
    ).toHaveLength(3);
  });

  it('on a reused cluster, a failed run deletes the scenario resources it left applied', async () => {
    const h = harness({}, { failOn: (c, nth) => c.op === 'delete' && c.kind === 'ServiceEntry' && nth === 1 });
    await runLane(h.lane({ keep: true }), []);
    const err = await runLane(h.lane({ runId: 'test-run-2', reuse: true })).catch((e) => e);
    expect(err.message).toMatch(/fake API: delete ServiceEntry db-external failed/);
    expect(h.fake.calls.filter((c) => c.op === 'delete' && c.name === 'db-external')).toHaveLength(2);
    expect([...h.fake.store.values()].some((o) => o.kind === 'ServiceEntry')).toBe(false);
    expect(
      readShimLog(h.log)
        .map(line)
        .some((l) => l.startsWith('kind delete')),
    ).toBe(false);
  });

  it('on a reused cluster, a client made differently by an earlier run is recreated', async () => {
    const h = harness();
    await runLane(h.lane({ keep: true }), []);
    h.fake.store.set('Pod/frontend/egress-client', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'egress-client', namespace: 'frontend', annotations: { 'egress-conformance.io/client-hash': 'old' } },
      spec: { containers: [{ name: 'curl' }, { name: 'psql' }] },
    });
    await runLane(h.lane({ runId: 'test-run-2', reuse: true }));
    const podCalls = h.fake.calls.filter((c) => c.kind === 'Pod' && c.namespace === 'frontend' && (c.op === 'delete' || c.op === 'apply'));
    expect(podCalls.map((c) => c.op)).toEqual(['delete', 'apply']);
  });

  it('fails when the mesh config read back differs from the policy installed', async () => {
    const h = harness({}, { meshMode: () => 'ALLOW_ANY' });
    const err = await runLane(h.lane()).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/outboundTrafficPolicy ALLOW_ANY, expected REGISTRY_ONLY/);
  });

  it('fails clearly, before any client Pod exists, when the injector does not inject', async () => {
    const h = harness({}, { noInjection: true });
    const err = await runLane(h.lane({ timeouts: { accessLog: 500, webhook: 300 } })).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(
      /sidecar injector did not answer within 0.3 s: a server-side dry-run create \(dryRun=All\) of Pod frontend\/egress-conformance-injector-probe returned the Pod without istio-proxy: containers probe; init containers none/,
    );
    expect(err.message).toMatch(/MutatingWebhookConfigurations present: istio-sidecar-injector/);
    expect(h.fake.calls.filter((c) => c.kind === 'Pod' && c.op === 'apply')).toEqual([]);
  });
});
