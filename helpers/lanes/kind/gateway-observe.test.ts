// The kind lane's observe loop with the egress gateway as the second hop, against SimCluster with the install's
// gateway (testdata/sim-gateway.ts): the client sidecar logs the gateway's Service cluster, the gateway Pod logs
// its own line, and the observation carries both hops and the verdict of their join (gateway-log.ts). The
// client's answers for a 404 are real curl's, running the lane's real probe command against stand-ins that
// answer as the gateway and as the relaying sidecar do, classified by the lane's real classifier.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hop } from '../../model/types.ts';
import { parseProbeUrl } from '../../probes/url.ts';
import { missingTools, startHttpUpstream } from '../../testing/servers.ts';
import { runArgv, startStandin, type StandinFixture } from '../../testing/standins.ts';
import { runContext } from './context.ts';
import { LiveRunner } from './live-runner.ts';
import { type ObserveOptions, observeProbe, type ProbeSpec } from './phases/probe.ts';
import { classifyProbe } from './probes/classify.ts';
import { probeCommand } from './probes/commands.ts';
import { newRunState, type RunState } from './state.ts';
import { harness, runLane } from './testdata/harness.ts';
import { type ProbeRoute, SimCluster } from './testdata/sim-cluster.ts';
import { cases, SCENARIOS } from './testdata/standins.ts';
import { GATEWAY_POD, gatewayCluster } from './testdata/sim-gateway.ts';
import { namesHost, routedNames } from './phases/gateway-routes.ts';

const GW = 'istio-system/istio-egressgateway';
const EDITION = 'outbound|80||edition.example.com';
const target = parseProbeUrl('http://edition.example.com/', 't');
const spec: ProbeSpec = {
  id: 'REGISTRY_ONLY/egress-gateway-http/frontend→http://edition.example.com/',
  probe: { from: { namespace: 'frontend' }, to: target },
  argv: probeCommand(target),
  container: 'curl',
  client: { namespace: 'frontend', name: 'egress-client', labels: {} },
  control: { namespace: 'egress-control', name: 'egress-client', labels: {} },
};
const opts: ObserveOptions = {
  classify: classifyProbe,
  timeoutMs: 60_000,
  execTimeoutMs: 1_000,
  intervalMs: 0,
  accessLogMs: 200,
  accessLogPollMs: 1,
};

type Answer = { exitCode: number; stdout: string; stderr: string };

/** A cluster with the egress gateway where every mesh call gets `mesh()` and the control call `control`. */
function cluster(mesh: () => ProbeRoute, control: Answer) {
  const sim = new SimCluster({
    meshMode: () => 'REGISTRY_ONLY',
    egressGateway: true,
    route: (ns) => (ns === 'egress-control' ? control : mesh()),
  });
  const runner = new LiveRunner({ ctx: runContext({ runId: 'gw-1', workDir: '/tmp/gw-1' }), k8s: () => sim });
  const state = newRunState();
  return { sim, state, observe: (s: RunState = state) => observeProbe(runner, s, spec, opts) };
}

const path = (hops: Hop[] | undefined) => hops?.map((h) => `${h.kind} ${h.proxy} ${h.cluster}`);
const gatewayLogReads = (sim: SimCluster) => sim.calls.filter((c) => c.op === 'logs' && c.name === GATEWAY_POD).length;

const missing = missingTools('curl');

describe.skipIf(missing !== undefined)(`observing a call through the egress gateway${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const answers = new Map<string, Answer>();
  const standins: StandinFixture[] = [];

  beforeAll(async () => {
    const server = await startHttpUpstream();
    try {
      // The lane's probe command, pinned to each local answerer (URL, Host and SNI unchanged).
      const curl = (port: number, p = '/') =>
        runArgv(
          probeCommand(parseProbeUrl(`http://edition.example.com${p}`, 't'), {
            resolve: `127.0.0.1:${port}`,
            connectTimeoutSec: 2,
            maxTimeSec: 5,
          }),
        );
      answers.set('200', await curl(server.port));
      answers.set('server-404', await curl(server.port, '/empty/404'));
      for (const mode of ['gateway-404', 'relayed-404'] as const) {
        const s = await startStandin(mode);
        standins.push(s);
        answers.set(mode, await curl(s.port));
      }
    } finally {
      await server.stop();
    }
  });
  afterAll(async () => {
    for (const s of standins) await s.stop();
  });
  const answer = (k: string) => answers.get(k) ?? { exitCode: -1, stdout: '', stderr: `no answer ${k}` };

  it('an HTTP call the gateway routes is allowed with two hops: the sidecar to the gateway, the gateway to the host', async () => {
    const c = cluster(() => ({ ...answer('200'), gateway: EDITION }), answer('200'));
    const obs = await c.observe();
    expect(obs).toMatchObject({ verdict: 'allowed', cluster: gatewayCluster(80) });
    expect(path(obs.hops)).toEqual([`sidecar frontend/egress-client ${gatewayCluster(80)}`, `gateway ${GW} ${EDITION}`]);
    expect(obs.bypassesGateway).toBeUndefined();
    // Each attempt took its own gateway line, and the confirmation counts the gateway's cluster too.
    const attempts = obs.evidence.attempts as { outcome: string; gatewayAccessLog?: string[] }[];
    expect(attempts.map((a) => a.gatewayAccessLog?.length)).toEqual([1, 1, 1]);
    expect(attempts[0]?.outcome).toBe(`allowed via ${gatewayCluster(80)} then ${GW} ${EDITION}`);
    expect(obs.evidence.gatewayAccessLog).toEqual([
      expect.stringMatching(/"edition\.example\.com" "172\.18\.0\.5:80" outbound\|80\|\|edition/),
    ]);
  });

  it("the gateway's own 404 relayed by the sidecar is blocked http-404 at the gateway, hop (no route)", async () => {
    for (const mode of ['relayed-404', 'gateway-404']) {
      const c = cluster(() => ({ ...answer(mode), gateway: '(no route)', status: 404 }), answer('200'));
      const obs = await c.observe();
      expect(obs, mode).toMatchObject({ verdict: 'blocked', signal: 'http-404', cluster: gatewayCluster(80) });
      expect(path(obs.hops)).toEqual([`sidecar frontend/egress-client ${gatewayCluster(80)}`, `gateway ${GW} (no route)`]);
      expect(obs.evidence.gatewayAccessLog).toEqual([expect.stringMatching(/ 404 NR route_not_found /)]);
    }
  });

  it("a server's 404 that passed the gateway's route stays allowed", async () => {
    const c = cluster(() => ({ ...answer('server-404'), gateway: EDITION, status: 404 }), answer('200'));
    const obs = await c.observe();
    expect(obs).toMatchObject({ verdict: 'allowed', evidence: { status: 404 } });
    expect(path(obs.hops)?.[1]).toBe(`gateway ${GW} ${EDITION}`);
  });

  it('a call that leaves from the sidecar directly has one hop and reads no gateway line; it bypasses a gateway only when one routes its host', async () => {
    const c = cluster(() => ({ ...answer('200'), cluster: EDITION }), answer('200'));
    const obs = await c.observe();
    expect(obs).toMatchObject({ verdict: 'allowed', cluster: EDITION });
    expect(path(obs.hops)).toEqual([`sidecar frontend/egress-client ${EDITION}`]);
    // The gateway's routes (its config_dump) take no edition.example.com here: nothing is bypassed.
    expect(obs.bypassesGateway).toBeUndefined();
    const asked = c.sim.calls.filter(
      (x) => x.op === 'exec' && x.name === GATEWAY_POD && x.argv?.join(' ').includes('dynamic_route_configs'),
    );
    expect(asked.length).toBeGreaterThan(0);
    // Only the baseline read the gateway's log.
    expect(gatewayLogReads(c.sim)).toBe(1);
  });

  it("a direct call to a host the gateway's routes take bypasses the gateway; the verdict is still the call's", async () => {
    const sim = new SimCluster({
      meshMode: () => 'REGISTRY_ONLY',
      egressGateway: true,
      gatewayRoutes: ['edition.example.com'],
      route: (ns) => (ns === 'egress-control' ? answer('200') : { ...answer('200'), cluster: EDITION }),
    });
    const runner = new LiveRunner({ ctx: runContext({ runId: 'gw-2', workDir: '/tmp/gw-2' }), k8s: () => sim });
    const obs = await observeProbe(runner, newRunState(), spec, opts);
    expect(obs).toMatchObject({ verdict: 'allowed', cluster: EDITION, bypassesGateway: GW });
  });

  it("lines already in the gateway's log (an earlier run's, on a reused cluster) are not this probe's", async () => {
    let route: ProbeRoute = { ...answer('relayed-404'), gateway: '(no route)', status: 404 };
    const c = cluster(() => route, answer('200'));
    // A call no observation read: its NR line for the same Host is in the gateway's log before the probe starts.
    await c.sim.exec('frontend', 'egress-client', 'curl', spec.argv);
    route = { ...answer('200'), gateway: EDITION };
    const obs = await c.observe();
    expect(obs).toMatchObject({ verdict: 'allowed', evidence: { attemptCount: 3 } });
    expect(path(obs.hops)?.[1]).toBe(`gateway ${GW} ${EDITION}`);
    // And a probe after it reads only its own lines, the earlier probe's being marked as read.
    route = { ...answer('relayed-404'), gateway: '(no route)', status: 404 };
    expect(await c.observe()).toMatchObject({ verdict: 'blocked', signal: 'http-404', evidence: { attemptCount: 3 } });
  });

  it('a call the sidecar sent to the gateway that the gateway did not log is an error, never a pass', async () => {
    // The sidecar logs the gateway's cluster, the gateway logs nothing.
    const c = cluster(() => ({ ...answer('200'), cluster: gatewayCluster(80) }), answer('200'));
    const obs = await c.observe();
    expect(obs.verdict).toBe('error');
    expect(obs.error).toMatch(
      /no stable result|no line for edition\.example\.com in the access log of gateway istio-system\/istio-egressgateway/,
    );
    const attempts = obs.evidence.attempts as { outcome: string }[];
    expect(attempts[0]?.outcome).toBe(
      'error: no line for edition.example.com in the access log of gateway istio-system/istio-egressgateway',
    );
  });
});

describe('KindLane.observe follows the call into the gateway', () => {
  it('a probe through the lane (setup, apply, observe) comes back with both hops', async () => {
    const unlisted = 'outbound|80||unlisted.example.com';
    const h = harness(
      {},
      { egressGateway: true, route: (ns) => (ns === 'egress-control' ? { exitCode: 0 } : { exitCode: 0, gateway: unlisted }) },
    );
    const c = cases().find((x) => x.scenario === SCENARIOS[1]);
    if (!c) throw new Error('SCENARIOS[1] has a probe');
    const [r] = await runLane(h.lane(), [c]);
    expect(r?.observation).toMatchObject({ verdict: 'allowed', cluster: gatewayCluster(80) });
    expect(path(r?.observation.hops)).toEqual([`sidecar frontend/egress-client ${gatewayCluster(80)}`, `gateway ${GW} ${unlisted}`]);
  });
});

describe("a gateway's routes, as its config_dump shows them", () => {
  it('name a host by exact domain, host:port or a wildcard suffix; a bare * takes anything and names nothing', () => {
    expect(namesHost(['edition.example.com'], 'edition.example.com')).toBe(true);
    expect(namesHost(['edition.example.com:80'], 'edition.example.com')).toBe(true);
    expect(namesHost(['*.example.com'], 'edition.example.com')).toBe(true);
    expect(namesHost(['*.example.com'], 'example.com')).toBe(false);
    expect(namesHost(['*'], 'edition.example.com')).toBe(false);
    expect(namesHost(['other.example.com'], 'edition.example.com')).toBe(false);
    const dump = JSON.stringify({
      configs: [
        {
          dynamic_route_configs: [
            { route_config: { virtual_hosts: [{ domains: ['a.example.com', 'a.example.com:*'] }, { domains: ['*'] }] } },
          ],
        },
        {
          dynamic_listeners: [
            { active_state: { listener: { filter_chains: [{ filter_chain_match: { server_names: ['tls.example.com'] } }] } } },
          ],
        },
      ],
    });
    expect(routedNames(dump)).toEqual([['a.example.com', 'a.example.com:*'], ['*'], ['tls.example.com']]);
  });
});
