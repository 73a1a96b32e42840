// A 404 on a call sent to the egress gateway, judged as the kind lane judges it: the real probe command run by
// real curl against what would answer it (the gateway's own 404 as Envoy writes it, that 404 as the client's
// sidecar relays it, and a real HTTP server's 404), classified (probes/classify.ts), then joined with the
// gateway's access-log line in Istio's default TEXT format (gateway-log.ts). The gateway's own 404 (no route,
// flag NR) is blocked with signal http-404, as the model and the control-plane lane say; a server's 404 is allowed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../model/types.ts';
import { parseProbeUrl } from '../../probes/url.ts';
import { missingTools, startHttpUpstream, UPSTREAM_SERVER_HEADER, type HttpFixture } from '../../testing/servers.ts';
import { runArgv, startStandin, type StandinFixture } from '../../testing/standins.ts';
import { withGatewayHop } from './gateway-log.ts';
import { parseAccessLog } from './probes/access-log.ts';
import { classifyProbe } from './probes/classify.ts';
import { probeCommand } from './probes/commands.ts';

const GW = 'istio-system/istio-egressgateway';
const SIDECAR_CLUSTER = 'outbound|80||istio-egressgateway.istio-system.svc.cluster.local';
const target = parseProbeUrl('http://edition.example.com/', 't');
// What the gateway logs: its own 404 for a Host no route takes (flag NR, details route_not_found, no cluster), and
// a 404 the server sent back through the gateway's route (via_upstream, the server's cluster).
const NR_LINE =
  '[2026-12-02T14:21:06.001Z] "GET / HTTP/1.1" 404 NR route_not_found - "-" 0 0 0 - "10.244.0.12" "curl/8.11.1" "6f1c0b7e-1d2a-4a55-8a8b-2c1d0e9f7a21" "edition.example.com" "-" - - 10.244.0.20:8080 10.244.0.12:40114 - -';
const UPSTREAM_404_LINE =
  '[2026-12-02T14:21:07.300Z] "GET / HTTP/1.1" 404 - via_upstream - "-" 0 0 2 1 "10.244.0.12" "curl/8.11.1" "0b1e7f9a-3c55-4d0e-9f0f-5b0b3a8e9c11" "edition.example.com" "172.18.0.5:80" outbound|80||edition.example.com 10.244.0.20:51234 10.244.0.20:8080 10.244.0.12:40116 - -';

/** The client's classification with the sidecar's cluster (the gateway's Service), then the gateway's line. */
function joined(classified: Observation, gatewayLine: string): Observation {
  const first = classified.verdict === 'error' ? classified : { ...classified, cluster: SIDECAR_CLUSTER };
  return withGatewayHop(first, 'default/egress-client', () => parseAccessLog(gatewayLine), [GW], target);
}

const missing = missingTools('curl');

describe.skipIf(missing !== undefined)(`a 404 on the way through the egress gateway${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const standins = new Map<string, StandinFixture>();
  let server: HttpFixture;
  const curl = async (port: number, path = '/') => {
    const t = parseProbeUrl(`http://edition.example.com${path}`, 't');
    return classifyProbe(t, await runArgv(probeCommand(t, { resolve: `127.0.0.1:${port}`, connectTimeoutSec: 2, maxTimeSec: 5 })));
  };

  beforeAll(async () => {
    for (const mode of ['gateway-404', 'relayed-404'] as const) standins.set(mode, await startStandin(mode));
    server = await startHttpUpstream();
  });
  afterAll(async () => {
    for (const s of standins.values()) await s.stop();
    await server?.stop();
  });

  it("the gateway's own 404 as Envoy writes it (server: istio-envoy, empty body) is blocked http-404, confirmed by its NR line", async () => {
    const seen = await curl(standins.get('gateway-404')!.port);
    expect(seen).toMatchObject({ verdict: 'blocked', signal: 'http-404', evidence: { status: 404, server: 'istio-envoy', bytes: 0 } });
    const o = joined(seen, NR_LINE);
    expect(o).toMatchObject({ verdict: 'blocked', signal: 'http-404' });
    expect(o.hops?.map((h) => `${h.proxy} ${h.cluster}`)).toEqual([`default/egress-client ${SIDECAR_CLUSTER}`, `${GW} (no route)`]);
    // The same client answer with a gateway line naming a cluster is no verdict: the two do not fit together.
    expect(joined(seen, UPSTREAM_404_LINE)).toMatchObject({
      verdict: 'error',
      error: expect.stringMatching(/logged the call to outbound\|80\|\|edition/),
    });
  });

  it('relayed by the client sidecar (server: envoy, an upstream time) the client cannot tell; the NR line makes it blocked http-404', async () => {
    const seen = await curl(standins.get('relayed-404')!.port);
    expect(seen).toMatchObject({ verdict: 'allowed', evidence: { status: 404, server: 'envoy' } });
    expect(joined(seen, NR_LINE)).toMatchObject({ verdict: 'blocked', signal: 'http-404', hops: [{}, { cluster: '(no route)' }] });
    expect(joined(seen, UPSTREAM_404_LINE)).toMatchObject({
      verdict: 'allowed',
      hops: [{}, { cluster: 'outbound|80||edition.example.com' }],
    });
  });

  it("a real server's 404, empty or not, stays allowed: its own answer, and the gateway logged it via its route", async () => {
    for (const path of ['/empty/404', '/status/404']) {
      const seen = await curl(server.port, path);
      expect(seen).toMatchObject({ verdict: 'allowed', evidence: { status: 404, server: UPSTREAM_SERVER_HEADER } });
      expect(joined(seen, UPSTREAM_404_LINE)).toMatchObject({
        verdict: 'allowed',
        hops: [{}, { cluster: 'outbound|80||edition.example.com' }],
      });
    }
    expect(server.seen.map((r) => r.path)).toEqual(['/empty/404', '/status/404']);
  });

  it('a gateway NR line for a call the client saw answered 200 is no verdict', async () => {
    const seen = await curl(server.port);
    expect(seen).toMatchObject({ verdict: 'allowed', evidence: { status: 200 } });
    expect(joined(seen, NR_LINE)).toMatchObject({ verdict: 'error', error: expect.stringMatching(/client saw HTTP 200/) });
  });
});
