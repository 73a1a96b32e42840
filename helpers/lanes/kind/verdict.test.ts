// From what a client and its sidecar really print to a judged outcome, as a kind run does it: the real
// probe commands (helpers/lanes/kind/probes/commands.ts) run by real curl and psql against real servers and
// stand-ins that answer as a sidecar does; their classification (helpers/lanes/kind/probes/classify.ts) joined
// with access-log lines in Istio's default TEXT format (helpers/lanes/kind/probes/access-log.ts), exactly as the
// lane joins them (phases/probe.ts); then `judge` against the oracle's expectation for a catalogue case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue } from '../../catalogue/load.ts';
import type { Expectation, Observation } from '../../model/types.ts';
import { expectProbe } from '../../oracle/index.ts';
import { clusterForPort, parseAccessLog } from './probes/access-log.ts';
import { classifyProbe } from './probes/classify.ts';
import { probeCommand } from './probes/commands.ts';
import { freePort, missingTools } from '../../testing/servers.ts';
import { startPostgres, type PgFixture } from '../../testing/postgres.ts';
import { runArgv, startStandin, type StandinFixture } from '../../testing/standins.ts';
import { judge } from '../../report/results.ts';
import { PINNED } from '../../tools/versions.ts';
import { withCluster } from './phases/probe.ts';

const catalogue = expandCases(loadCatalogue());

function expected(id: string): Expectation {
  const c = catalogue.find((x) => x.id === id);
  if (!c) throw new Error(`no catalogue case ${id}`);
  return expectProbe(c.scenario.resources, c.probe, { istioVersion: PINNED.istio, policy: c.policy });
}

function caseOf(id: string) {
  return catalogue.find((x) => x.id === id)!;
}

/** An access-log line of the client sidecar, as Envoy writes it with Istio's default format. */
function tcpLine(cluster: string, port: number): string {
  return `[2026-11-29T18:41:02.118Z] "- - -" 0 ${cluster === 'BlackHoleCluster' ? 'UH' : '-'} - - "-" 88 415 25 - "-" "-" "-" "-" "${cluster === 'BlackHoleCluster' ? '-' : `172.18.0.3:${port}`}" ${cluster} - 172.18.0.3:${port} 10.244.0.9:39866 - -`;
}
const BLOCK_ALL_LINE =
  '[2026-11-29T18:41:05.771Z] "GET / HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "curl/8.11.1" "0c6a9c55-3e0d-4b7f-9a21-5d7c1e2f3a4b" "unlisted.example.com" "-" - - 172.18.0.4:80 10.244.0.9:60350 - block_all';

/** The real probe's classification with the sidecar's log lines, as the lane joins them. */
function observed(classified: Observation, log: string[], port: number): Observation {
  return withCluster(classified, clusterForPort(parseAccessLog(log.join('\n')), port), 10_000);
}

const missing = missingTools('curl', 'psql', 'postgres');

describe.skipIf(missing !== undefined)(
  `judging real probe output with the sidecar's access log${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let pg: PgFixture;
    const standins = new Map<string, StandinFixture>();

    beforeAll(async () => {
      pg = await startPostgres();
      for (const mode of ['close', 'envoy-502'] as const) standins.set(mode, await startStandin(mode));
    }, 120_000);
    afterAll(async () => {
      await pg?.stop();
      for (const s of standins.values()) await s.stop();
    });

    const run = async (id: string, resolve: string, pgCreds = false): Promise<Observation> => {
      const target = caseOf(id).probe.to;
      const argv = probeCommand(target, {
        resolve,
        connectTimeoutSec: 2,
        maxTimeSec: 5,
        ...(pgCreds ? { pg: { user: pg.user, password: pg.password, database: pg.database } } : {}),
      });
      return classifyProbe(target, await runArgv(argv));
    };

    it('allowed: psql answered through outbound|5432||db.example.com under REGISTRY_ONLY is a pass; a wrong cluster fails', async () => {
      const id = 'REGISTRY_ONLY/course-db-serviceentry/frontend→tcp://db.example.com:5432';
      const exp = expected(id);
      expect(exp).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.com' });
      const classified = await run(id, `127.0.0.1:${pg.port}`, true);
      expect(classified).toMatchObject({ verdict: 'allowed', summary: 'PostgreSQL answered select 1' });
      expect(classified.cluster).toBeUndefined();

      const good = observed(classified, [tcpLine('outbound|5432||db.example.com', 5432)], 5432);
      expect(good.cluster).toBe('outbound|5432||db.example.com');
      expect(judge(exp, good)).toEqual({ outcome: 'pass' });

      const wrong = observed(classified, [tcpLine('PassthroughCluster', 5432)], 5432);
      expect(judge(exp, wrong)).toEqual({
        outcome: 'fail',
        message: 'verdict allowed as expected, but through PassthroughCluster instead of outbound|5432||db.example.com',
      });
    });

    // HTTPS: port 80 is the egress gateway Service's HTTP listener (a 502), port 443 has no listener of its own.
    it('blocked-close: curl 35 from a closing sidecar, logged in BlackHoleCluster under REGISTRY_ONLY, is a pass', async () => {
      const id = 'REGISTRY_ONLY/course-db-serviceentry/frontend→https://unlisted.example.com/';
      const exp = expected(id);
      expect(exp).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'tcp-close' });
      const classified = await run(id, `127.0.0.1:${standins.get('close')!.port}`);
      expect(classified).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', evidence: { exitCode: 35 } });
      expect(judge(exp, observed(classified, [tcpLine('BlackHoleCluster', 443)], 443))).toEqual({ outcome: 'pass' });
      // The same close through another cluster is not what the oracle said.
      expect(judge(exp, observed(classified, [tcpLine('PassthroughCluster', 443)], 443)).outcome).toBe('fail');
    });

    it('blocked-502: the block_all direct response is a pass for BlackHoleCluster http-502', async () => {
      const id = 'REGISTRY_ONLY/api-serviceentries/frontend→http://unlisted.example.com/';
      const exp = expected(id);
      expect(exp).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502' });
      const classified = await run(id, `127.0.0.1:${standins.get('envoy-502')!.port}`);
      expect(classified).toMatchObject({ verdict: 'blocked', signal: 'http-502' });
      const obs = observed(classified, [BLOCK_ALL_LINE], 80);
      expect(obs.evidence.accessLog).toEqual([BLOCK_ALL_LINE]);
      expect(judge(exp, obs)).toEqual({ outcome: 'pass' });
      // A close where the oracle expects the 502 is the wrong signal.
      const close = await run(id, `127.0.0.1:${standins.get('close')!.port}`);
      expect(judge(exp, observed(close, [tcpLine('BlackHoleCluster', 80)], 80))).toEqual({
        outcome: 'fail',
        message: 'blocked as expected, but by tcp-close instead of http-502',
      });
    });

    it('error: nothing listening is never a verdict, whatever the log; a verdict without a log line is an error too', async () => {
      const id = 'ALLOW_ANY/course-db-serviceentry/frontend→http://api.example.com/';
      const exp = expected(id);
      const refused = await run(id, `127.0.0.1:${await freePort()}`);
      expect(refused.verdict).toBe('error');
      expect(judge(exp, observed(refused, [tcpLine('PassthroughCluster', 80)], 80))).toMatchObject({
        outcome: 'error',
        message: expect.stringMatching(/^connection refused/),
      });

      const blocked = await run(
        'REGISTRY_ONLY/course-db-serviceentry/frontend→http://unlisted.example.com/',
        `127.0.0.1:${standins.get('close')!.port}`,
      );
      const unlogged = observed(blocked, [], 80);
      expect(judge(expected('REGISTRY_ONLY/course-db-serviceentry/frontend→http://unlisted.example.com/'), unlogged)).toMatchObject({
        outcome: 'error',
        message: expect.stringMatching(/access log gives no cluster for this call \(no access-log line for port 80/),
      });
    });
  },
);
