// One probe on the kind lane after the sync barrier: the probe and control commands, the client sidecar's
// access log for the cluster, N equal results in a row as confirmation. Against SimCluster (FakeK8s plus
// what istiod and the sidecars answer), with the access-log lines in Istio's default TEXT format.
import { describe, expect, it } from 'vitest';
import { parseProbeUrl } from '../../probes/url.ts';
import { runContext } from './context.ts';
import { LiveRunner } from './live-runner.ts';
import { observeProbe, SERVER_UNREACHABLE, type ObserveOptions, type ProbeSpec } from './phases/probe.ts';
import { newRunState } from './state.ts';
import { SimCluster, type ProbeRoute } from './testdata/sim-cluster.ts';
import { standinToolkit } from './testdata/standins.ts';

const spec: ProbeSpec = {
  id: 'REGISTRY_ONLY/s/frontend→http://api.example.com/',
  probe: { from: { namespace: 'frontend' }, to: parseProbeUrl('http://api.example.com/') },
  argv: ['curl', '-sS', 'http://api.example.com/'],
  container: 'curl',
  client: { namespace: 'frontend', name: 'egress-client', labels: {} },
  control: { namespace: 'egress-control', name: 'egress-client', labels: {} },
};
const opts = {
  classify: standinToolkit.classifyProbe,
  timeoutMs: 60_000,
  execTimeoutMs: 1_000,
  intervalMs: 0,
  accessLogMs: 300,
  accessLogPollMs: 1,
};

/** Mesh results in order (the control always answers unless told). */
function scripted(mesh: ProbeRoute[], control: (i: number) => number = () => 0) {
  let m = 0;
  let c = 0;
  const sim = new SimCluster({
    route: (ns) => {
      if (ns === 'egress-control') return { exitCode: control(c++), stderr: 'down' };
      const r = mesh[Math.min(m++, mesh.length - 1)];
      if (!r) throw new Error('scripted(): give at least one mesh route');
      return r;
    },
  });
  const runner = new LiveRunner({ ctx: runContext({ runId: 'obs-1', workDir: '/tmp/obs-1' }), k8s: () => sim });
  return { sim, observe: (o: Partial<ObserveOptions> = {}) => observeProbe(runner, newRunState(), spec, { ...opts, ...o }) };
}

const allowed = (cluster = 'PassthroughCluster'): ProbeRoute => ({ exitCode: 0, cluster });
const blocked = (cluster = 'BlackHoleCluster'): ProbeRoute => ({ exitCode: 52, cluster });

describe('observing a probe', () => {
  it('takes the cluster from the sidecar access log and the verdict after 3 equal results in a row', async () => {
    const obs = await scripted([allowed(), blocked(), allowed(), blocked(), blocked(), blocked()]).observe();
    expect(obs).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', cluster: 'BlackHoleCluster' });
    expect(obs.evidence.attemptCount).toBe(6);
    const attempts = obs.evidence.attempts as { outcome: string; accessLog: string[] }[];
    expect(attempts.map((a) => a.outcome)).toEqual([
      'allowed via PassthroughCluster',
      'blocked (tcp-close) via BlackHoleCluster',
      'allowed via PassthroughCluster',
      'blocked (tcp-close) via BlackHoleCluster',
      'blocked (tcp-close) via BlackHoleCluster',
      'blocked (tcp-close) via BlackHoleCluster',
    ]);
    // Each attempt reads only its own line.
    expect(attempts.every((a) => a.accessLog.length === 1)).toBe(true);
    expect(obs.evidence.accessLog).toEqual([expect.stringMatching(/ BlackHoleCluster - 172\.18\.0\.4:80 /)]);
  });

  it('a change of cluster with the same verdict restarts the count', async () => {
    const obs = await scripted([
      allowed('PassthroughCluster'),
      allowed('outbound|80||api.example.com'),
      allowed('outbound|80||api.example.com'),
      allowed('outbound|80||api.example.com'),
    ]).observe();
    expect(obs).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||api.example.com', evidence: { attemptCount: 4 } });
  });

  it('the block_all direct response is logged without a cluster and read as BlackHoleCluster', async () => {
    const obs = await scripted([{ exitCode: 52, cluster: 'block_all' }]).observe();
    expect(obs).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });

  it('a verdict the sidecar did not log is an error (the call may have bypassed it), never a verdict', async () => {
    const obs = await scripted([{ exitCode: 0 }]).observe();
    expect(obs.verdict).toBe('error');
    expect(obs.error).toMatch(/access log gives no cluster for this call \(no access-log line for port 80, within 0 s\)/);
    expect(obs.evidence).toMatchObject({ classifiedAs: 'allowed', attemptCount: 3 });
  });

  it('lines already in the log belong to earlier probes and are not read as this one’s', async () => {
    const { sim, observe } = scripted([{ exitCode: 0 }]);
    // An earlier probe's line to the same port.
    await sim.exec('frontend', 'egress-client', 'curl', ['curl', 'http://api.example.com/']);
    const obs = await observe();
    expect(obs.verdict).toBe('error');
  });

  it('a sidecar log that cannot be read makes the attempt an error with that cause', async () => {
    const { sim, observe } = scripted([allowed()]);
    sim.logs = async () => {
      throw new Error('container "istio-proxy" in pod "egress-client" is waiting to start');
    };
    const obs = await observe();
    expect(obs.verdict).toBe('error');
    expect(obs.error).toMatch(/the sidecar's log could not be read: container "istio-proxy" in pod "egress-client" is waiting to start/);
  });

  it('a server the control client cannot reach makes the observation an error, never a verdict', async () => {
    const obs = await scripted([blocked()], () => 52).observe();
    expect(obs).toMatchObject({ verdict: 'error', error: SERVER_UNREACHABLE, evidence: { attemptCount: 3 } });
  });

  it('no stable result within the bound is an error listing what was seen', async () => {
    const flip = Array.from({ length: 20 }, (_, i) => (i % 2 ? blocked() : allowed()));
    const obs = await scripted(flip).observe({ maxAttempts: 8 });
    expect(obs.verdict).toBe('error');
    expect(obs.error).toMatch(
      /no stable result.*8 attempt\(s\).*allowed via PassthroughCluster \| blocked \(tcp-close\) via BlackHoleCluster/,
    );
  });

  it('an exec that throws is an error, not a verdict', async () => {
    const sim = new SimCluster({
      exec: () => {
        throw new Error('pods "egress-client" not found');
      },
    });
    const runner = new LiveRunner({ ctx: runContext({ runId: 'obs-2', workDir: '/tmp/obs-2' }), k8s: () => sim });
    const obs = await observeProbe(runner, newRunState(), spec, opts);
    expect(obs.verdict).toBe('error');
  });
});
