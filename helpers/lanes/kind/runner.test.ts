// Orchestration of a kind-lane run with shim executables on PATH (docker, kind, istioctl, openssl) and a
// recording fake of the Kubernetes API. Asserts commands, their order and arguments, what is cleaned up,
// and that the user's kubeconfig is never used. No Docker, no cluster.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError, UserError } from '../../cli/errors.ts';
import { PINNED } from '../../tools/versions.ts';
import { StepError } from './errors.ts';
import { runKindLane } from './runner.ts';
import { harness } from './testdata/harness.ts';
import { line, readShimLog } from './testdata/standins.ts';

const RUN_LABEL = 'egress-conformance.run=test-run-1';

describe('kind lane run (shims)', () => {
  it('runs preflight, cluster, servers, DNS, namespaces, Istio per policy, clients, scenarios, teardown in order', async () => {
    const h = harness();
    const result = await runKindLane(h.options());
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
      /^istioctl install -y -f \S+ALLOW_ANY\.yaml/,
      /^istioctl install -y -f \S+REGISTRY_ONLY\.yaml/,
      /^docker ps -aq --filter label=egress-conformance\.run=test-run-1$/,
      /^docker rm -f -v /,
      /^kind delete cluster /,
    ].map(idx);
    expect(order).toEqual([...order].sort((a, b) => a - b));

    const create = calls.find((c) => c.tool === 'kind' && c.argv[0] === 'create')!;
    expect(create.argv).toEqual([
      'create', 'cluster', '--name', 'egress-conformance', '--config', expect.stringMatching(/clusters\/kind\.yaml$/),
      '--image', PINNED.kindNodeImage, '--kubeconfig', kubeconfig, '--wait', '180s',
    ]);
    expect(PINNED.kindNodeImage).toMatch(/^kindest\/node:v[\d.]+@sha256:[0-9a-f]{64}$/);
    const install = calls.find((c) => c.tool === 'istioctl' && c.argv[0] === 'install')!;
    expect(install.argv).toEqual(expect.arrayContaining(['--kubeconfig', kubeconfig, '--readiness-timeout']));
    expect(calls.filter((c) => c.tool === 'docker' && c.argv[0] === 'create').every((c) => c.argv.includes(RUN_LABEL) && c.argv.includes('kind'))).toBe(true);
    expect(lines.find((l) => l.startsWith('kind delete'))).toBe(`kind delete cluster --name egress-conformance --kubeconfig ${kubeconfig}`);
    // Both server containers removed, by the ids docker ps returned for the run label.
    expect(lines.find((l) => l.startsWith('docker rm'))!.split(' ').slice(4)).toHaveLength(2);
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
    expect(h.fake.store.get('Namespace//frontend')!.metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
    expect(h.fake.store.get('Namespace//default')!.metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
    expect(h.fake.store.get('Namespace//egress-control')!.metadata.labels).toMatchObject({ 'istio-injection': 'disabled' });

    // Every case observed; a verdict after 3 equal results, each attempt with the control call.
    expect(result.results).toHaveLength(6);
    for (const r of result.results) {
      expect(r.observation.verdict).toBe('allowed');
      expect(r.observation.evidence.attemptCount).toBe(3);
    }
    const execs = api.filter((c) => c.op === 'exec');
    expect(execs.filter((c) => c.namespace === 'egress-control')).toHaveLength(18);
    expect(execs.find((c) => c.argv![0] === 'pg_isready')!.container).toBe('psql');
    expect(result.info?.istioVersion).toBe(PINNED.istio);
    expect(result.info?.details.kindNodeImage).toBe(PINNED.kindNodeImage);
  });

  it('a failing istioctl install gives a clean error, keeps diagnostics, removes containers and cluster', async () => {
    const h = harness({ SHIM_FAIL: 'istioctl:install' });
    const err = await runKindLane(h.options()).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.exitCode).not.toBe(0);
    expect(err.message).toMatch(/istioctl install -y -f .*failed with exit code 1.*failed to install manifests/s);
    const lines = readShimLog(h.log).map(line);
    const installAt = lines.findIndex((l) => l.startsWith('istioctl install'));
    const after = lines.slice(installAt + 1);
    expect(after.some((l) => l.startsWith('istioctl proxy-status'))).toBe(true);
    expect(after.some((l) => /^docker rm -f -v \S+ \S+$/.test(l))).toBe(true);
    expect(after.some((l) => l.startsWith('kind delete cluster --name egress-conformance'))).toBe(true);
    // Only one install attempt, and nothing after the failure but diagnostics and cleanup.
    expect(lines.filter((l) => l.startsWith('istioctl install'))).toHaveLength(1);
    expect(after.every((l) => /^(istioctl (proxy-status|proxy-config)|docker (ps|rm)|kind delete)/.test(l))).toBe(true);
    expect(existsSync(h.workDir)).toBe(false);
    expect(existsSync(join(h.root, 'artifacts', 'diagnostics', 'proxy-status.txt'))).toBe(true);
    expect(h.userKubeconfigUntouched()).toBe(true);
  });

  it('a hung step ends at its timeout and the run cleans up', async () => {
    const h = harness({ SHIM_HANG: 'istioctl:install' });
    const err = await runKindLane(h.options({ timeouts: { settle: 0, istioInstall: 1_500 } })).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/istioctl install .*timed out/);
    expect(existsSync(`${h.log}.hanging`)).toBe(true);
    const lines = readShimLog(h.log).map(line);
    expect(lines.some((l) => l.startsWith('docker rm -f -v'))).toBe(true);
    expect(lines.some((l) => l.startsWith('kind delete cluster'))).toBe(true);
    expect(existsSync(h.workDir)).toBe(false);
  });

  it('stops with EnvironmentError naming the control-plane lane when Docker is not reachable', async () => {
    const h = harness({ SHIM_DOCKER_DOWN: '1' });
    const err = await runKindLane(h.options()).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('npm run e2e -- --lane control-plane');
    expect(err.message).toContain('Cannot connect to the Docker daemon');
    const lines = readShimLog(h.log).map(line);
    expect(lines.some((l) => l.startsWith('kind '))).toBe(false);
  });

  it('refuses an existing cluster of that name without --reuse, and never deletes it', async () => {
    const h = harness();
    await runKindLane(h.options({ cases: [], keep: true })); // leaves a cluster created by "someone"
    const err = await runKindLane(h.options({ runId: 'test-run-2' })).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/already exists.*--reuse/);
    const lines = readShimLog(h.log).map(line);
    expect(lines.filter((l) => l.startsWith('kind create'))).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('kind delete'))).toBe(false);
  });

  it('--reuse refuses a cluster not created by this tool (no owner marker)', async () => {
    const h = harness();
    await runKindLane(h.options({ cases: [], keep: true }));
    h.fake.store.delete('ConfigMap/kube-system/egress-conformance-owner'); // someone else's cluster
    const err = await runKindLane(h.options({ runId: 'test-run-2', reuse: true })).catch((e) => e);
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
    await runKindLane(h.options({ cases: [], keep: true }));
    const before = readShimLog(h.log).length;
    const result = await runKindLane(h.options({ runId: 'test-run-2', reuse: true }));
    expect(result.results).toHaveLength(6);
    const lines = readShimLog(h.log).slice(before).map(line);
    expect(lines.some((l) => l.startsWith('kind create'))).toBe(false);
    expect(lines.some((l) => l.startsWith('kind delete'))).toBe(false);
    expect(lines).toContain('docker ps -aq --filter label=egress-conformance.run=test-run-2');
    // The first run's containers are not this run's: only test-run-2's two are removed.
    const rm = lines.find((l) => l.startsWith('docker rm'))!;
    expect(rm.split(' ').slice(4)).toHaveLength(2);
  });

  it('retries a failed kind create (busy host), then goes on', async () => {
    const h = harness({ SHIM_FAIL_ONCE: 'kind:create' });
    const result = await runKindLane(h.options({ cases: [], timeouts: { settle: 0, kindCreateRetryDelay: 0 } }));
    expect(result.dryRun).toBe(false);
    const lines = readShimLog(h.log).map(line);
    expect(lines.filter((l) => l.startsWith('kind create cluster'))).toHaveLength(2);
  });

  it('gives up on kind create after 3 attempts, with kind\'s error', async () => {
    const h = harness({ SHIM_FAIL: 'kind:create' });
    const err = await runKindLane(h.options({ timeouts: { settle: 0, kindCreateRetryDelay: 0 } })).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/kind create cluster .*\(3 attempts\).*failed to init node/s);
    expect(readShimLog(h.log).map(line).filter((l) => l.startsWith('kind create cluster'))).toHaveLength(3);
  });

  it('on a reused cluster, a failed run deletes the scenario resources it left applied', async () => {
    const h = harness({}, { failOn: (c, nth) => c.op === 'delete' && c.kind === 'ServiceEntry' && nth === 1 });
    await runKindLane(h.options({ cases: [], keep: true }));
    const err = await runKindLane(h.options({ runId: 'test-run-2', reuse: true })).catch((e) => e);
    expect(err.message).toMatch(/fake API: delete ServiceEntry db-external failed/);
    expect(h.fake.calls.filter((c) => c.op === 'delete' && c.name === 'db-external')).toHaveLength(2);
    expect([...h.fake.store.values()].some((o) => o.kind === 'ServiceEntry')).toBe(false);
    expect(readShimLog(h.log).map(line).some((l) => l.startsWith('kind delete'))).toBe(false);
  });

  it('on a reused cluster, a client made differently by an earlier run is recreated', async () => {
    const h = harness();
    await runKindLane(h.options({ cases: [], keep: true }));
    h.fake.store.set('Pod/frontend/egress-client', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'egress-client', namespace: 'frontend', annotations: { 'egress-conformance.io/client-hash': 'old' } },
      spec: { containers: [{ name: 'curl' }, { name: 'psql' }] },
    });
    await runKindLane(h.options({ runId: 'test-run-2', reuse: true }));
    const podCalls = h.fake.calls.filter((c) => c.kind === 'Pod' && c.namespace === 'frontend' && (c.op === 'delete' || c.op === 'apply'));
    expect(podCalls.map((c) => c.op)).toEqual(['delete', 'apply']);
  });

  it('fails when the mesh config read back differs from the policy installed', async () => {
    const h = harness({}, { meshMode: () => 'ALLOW_ANY' });
    const err = await runKindLane(h.options()).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/outboundTrafficPolicy ALLOW_ANY, expected REGISTRY_ONLY/);
  });

  it('fails clearly when a client pod comes up without its sidecar', async () => {
    const h = harness({}, { noInjection: true });
    const err = await runKindLane(h.options()).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/no istio-proxy container/);
  });

  it('--test REGEX runs only matching cases', async () => {
    const h = harness();
    const result = await runKindLane(h.options({ testFilter: /^REGISTRY_ONLY\/no-serviceentry\// }));
    expect(result.results.map((r) => r.caseRun.id)).toEqual(['REGISTRY_ONLY/no-serviceentry/frontend→http://unlisted.example.com/']);
    const lines = readShimLog(h.log).map(line);
    expect(lines.filter((l) => l.startsWith('istioctl install'))).toHaveLength(1);
  });
});
