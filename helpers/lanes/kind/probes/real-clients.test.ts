// The exact argv from probeCommand run with real curl and psql against real servers and sidecar
// stand-ins, classified as the lane classifies them.
//
// Exit codes observed with Debian 12's curl 7.88.1 and psql 15 (the integration tests below assert
// each one; the kind lane's curl image is newer, so classification goes by class, not by one code):
//   stand-in                          http://           https://                     telnet:// (other tcp)    psql (5432)
//   close on accept (FIN)             52 Empty reply    35 SSL_ERROR_SYSCALL         0, 0 bytes               2 "server closed the connection unexpectedly"
//   reset (SO_LINGER 0) on 1st byte   56 Recv failure   35 Connection reset by peer  56 Recv failure          2 "server closed the connection unexpectedly"
//   hold open, never answer           28 (connected)    28 "SSL connection timeout"  28 (connected) = allowed 2 "timeout expired"
//   banner then close                 -                 -                            0, bytes > 0 = allowed   -
//   502 server: envoy, empty body     0, status 502     -                            -                        -
//   503 server: envoy, upstream err   0, status 503     -                            -                        -
//   nothing listening                 7 Couldn't connect                             7                        2 "Connection refused"
//   no answer at all (netns)          28 connects=0
//   name not resolvable (netns)       6
// Also seen, and why the reset stand-in waits for the first byte: a reset sent right on accept on
// loopback made curl report 7 "Couldn't connect to server" for http:// (the reset reached the
// socket before curl finished its non-blocking connect) and psql "Connection reset by peer".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation, ProbeTarget } from '../../../model/types.ts';
import { parseProbeUrl } from '../../../probes/url.ts';
import { startPostgres, type PgFixture } from '../../../testing/postgres.ts';
import {
  freePort,
  missingTools,
  startHttpUpstream,
  startHttpsUpstream,
  UPSTREAM_SERVER_HEADER,
  type HttpFixture,
} from '../../../testing/servers.ts';
import {
  createNetnsPair,
  netnsUnavailable,
  runArgv,
  startStandin,
  type NetnsPair,
  type StandinFixture,
  type StandinMode,
} from '../../../testing/standins.ts';
import { classifyProbe } from './classify.ts';
import { probeCommand, type ProbeCommandOptions } from './commands.ts';

const t = (url: string): ProbeTarget => parseProbeUrl(url);

async function probe(url: string, opts: ProbeCommandOptions = {}, wrap: (argv: string[]) => string[] = (a) => a): Promise<Observation> {
  const target = t(url);
  const result = await runArgv(wrap(probeCommand(target, opts)));
  return classifyProbe(target, result);
}

const curlMissing = missingTools('curl', 'openssl');

describe.skipIf(curlMissing !== undefined)(`curl probes on loopback${curlMissing ? ` (skipped: ${curlMissing})` : ''}`, () => {
  let upstream: HttpFixture;
  let secure: HttpFixture;
  const standins = new Map<StandinMode, StandinFixture>();
  const pin = (port: number) => ({ resolve: `127.0.0.1:${port}`, connectTimeoutSec: 2, maxTimeSec: 5 });
  const at = (mode: StandinMode) => pin(standins.get(mode)!.port);

  beforeAll(async () => {
    upstream = await startHttpUpstream();
    secure = await startHttpsUpstream('api.example.com');
    for (const mode of ['close', 'reset', 'hold', 'banner', 'envoy-502', 'envoy-503'] as const)
      standins.set(mode, await startStandin(mode));
  }, 60_000);
  afterAll(async () => {
    await upstream?.stop();
    await secure?.stop();
    for (const s of standins.values()) await s.stop();
  });

  // ProbeTarget.absolute: the trailing dot reaches the Host header and nothing else; the name is resolved (both
  // --resolve pins) and sent as SNI without it. Istio's answer depends on it (absolute-host-trailing-dot rule fixture).
  it('an absolute name: curl keeps the dot in the Host header only, resolving and sending SNI without it', async () => {
    const plain = await probe(`http://api.example.com.:${upstream.port}/abs`, { resolve: '127.0.0.1', connectTimeoutSec: 2 });
    expect(plain).toMatchObject({ verdict: 'allowed', evidence: { status: 200 } });
    expect(upstream.seen.at(-1)).toMatchObject({ host: `api.example.com.:${upstream.port}`, path: '/abs' });
    const tls = await probe(`https://api.example.com.:${secure.port}/abs`, { resolve: '127.0.0.1', connectTimeoutSec: 2 });
    expect(tls).toMatchObject({ verdict: 'allowed', evidence: { status: 200 } });
    expect(secure.seen.at(-1)).toMatchObject({ host: `api.example.com.:${secure.port}`, servername: 'api.example.com' });
  });

  it('allowed: the real HTTP upstream answers, with the probe’s Host', async () => {
    const o = await probe('http://api.example.com/hello', pin(upstream.port));
    expect(o).toMatchObject({
      verdict: 'allowed',
      evidence: { exitCode: 0, status: 200, server: UPSTREAM_SERVER_HEADER, body: 'hello from upstream' },
    });
    expect(upstream.seen.at(-1)).toMatchObject({ host: 'api.example.com', path: '/hello' });
  });

  it('allowed: the upstream’s own 502, with a body or with an empty body from a non-envoy server', async () => {
    expect(await probe('http://api.example.com/status/502', pin(upstream.port))).toMatchObject({
      verdict: 'allowed',
      evidence: { status: 502, body: 'upstream says 502' },
    });
    expect(await probe('http://api.example.com/empty/502', pin(upstream.port))).toMatchObject({
      verdict: 'allowed',
      evidence: { status: 502, bytes: 0, server: UPSTREAM_SERVER_HEADER },
    });
  });

  it('allowed: the real HTTPS upstream with a self-signed cert, SNI = the hostname', async () => {
    const o = await probe('https://api.example.com/hello', pin(secure.port));
    expect(o).toMatchObject({ verdict: 'allowed', evidence: { exitCode: 0, status: 200, server: UPSTREAM_SERVER_HEADER } });
    expect(secure.seen.at(-1)).toMatchObject({ servername: 'api.example.com', host: 'api.example.com' });
  });

  it('blocked http-502: the block_all direct response (observed: exit 0, status 502)', async () => {
    expect(await probe('http://api.example.com/', at('envoy-502'))).toMatchObject({
      verdict: 'blocked',
      signal: 'http-502',
      evidence: { exitCode: 0, status: 502, server: 'envoy', bytes: 0 },
    });
  });

  it('error: envoy 503 upstream connect error (observed: exit 0, status 503)', async () => {
    const o = await probe('http://api.example.com/', at('envoy-503'));
    expect(o).toMatchObject({ verdict: 'error', evidence: { exitCode: 0, status: 503, server: 'envoy' } });
    expect(o.error).toMatch(/upstream connect error/);
  });

  it('blocked tcp-close over HTTP: close → curl 52, reset → curl 56', async () => {
    expect(await probe('http://api.example.com/', at('close'))).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
      evidence: { exitCode: 52 },
    });
    expect(await probe('http://api.example.com/', at('reset'))).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
      evidence: { exitCode: 56 },
    });
  });

  it('blocked tcp-close over TLS: close and reset both → curl 35', async () => {
    const closed = await probe('https://api.example.com/', at('close'));
    expect(closed).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', evidence: { exitCode: 35 } });
    expect(closed.evidence.curlError).toMatch(/SSL_ERROR_SYSCALL|unexpected eof/i);
    const reset = await probe('https://api.example.com/', at('reset'));
    expect(reset).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', evidence: { exitCode: 35 } });
  });

  it('error: TLS to a plain-HTTP server is not a close (curl 35, wrong version number)', async () => {
    const o = await probe('https://api.example.com/', pin(upstream.port));
    expect(o).toMatchObject({ verdict: 'error', evidence: { exitCode: 35 } });
    expect(o.error).toMatch(/not by a close/);
  });

  it('error: a server that never answers → curl 28 after connecting', async () => {
    const o = await probe('http://api.example.com/', { ...at('hold'), maxTimeSec: 1 });
    expect(o).toMatchObject({ verdict: 'error', evidence: { exitCode: 28, connects: 1 } });
    expect(o.error).toMatch(/^timed out waiting for an answer/);
  });

  it('error: nothing listening → curl 7, never a verdict', async () => {
    const o = await probe('http://api.example.com/', pin(await freePort()));
    expect(o).toMatchObject({ verdict: 'error', evidence: { exitCode: 7 } });
    expect(o.error).toMatch(/^connection refused/);
  });

  it('telnet: close → exit 0 with no byte = blocked; reset → 56 = blocked', async () => {
    expect(await probe('tcp://cache.example.com:6379', at('close'))).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
      evidence: { exitCode: 0, bytes: 0 },
    });
    expect(await probe('tcp://cache.example.com:6379', at('reset'))).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
      evidence: { exitCode: 56 },
    });
  });

  it('telnet: held open through the window → 28 = allowed; banner → exit 0 with bytes = allowed', async () => {
    expect(await probe('tcp://cache.example.com:6379', { ...at('hold'), maxTimeSec: 1 })).toMatchObject({
      verdict: 'allowed',
      evidence: { exitCode: 28, connects: 1 },
    });
    expect(await probe('tcp://mail.example.com:25', at('banner'))).toMatchObject({
      verdict: 'allowed',
      evidence: { exitCode: 0, body: '220 banner from upstream' },
    });
  });

  it('telnet: nothing listening → 7 = error', async () => {
    expect(await probe('tcp://cache.example.com:6379', pin(await freePort()))).toMatchObject({
      verdict: 'error',
      evidence: { exitCode: 7 },
    });
  });
});

const pgMissing = missingTools('postgres', 'psql');

describe.skipIf(pgMissing !== undefined)(`psql probes against a real PostgreSQL${pgMissing ? ` (skipped: ${pgMissing})` : ''}`, () => {
  let pg: PgFixture;
  const standins = new Map<StandinMode, StandinFixture>();
  const opts = (port: number, creds?: Partial<PgFixture>) => ({
    resolve: `127.0.0.1:${port}`,
    connectTimeoutSec: 2,
    pg: { user: pg.user, password: pg.password, database: pg.database, ...creds },
  });
  const DB = 'tcp://db.example.com:5432';

  beforeAll(async () => {
    pg = await startPostgres();
    for (const mode of ['close', 'reset', 'hold'] as const) standins.set(mode, await startStandin(mode));
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
    for (const s of standins.values()) await s.stop();
  });

  it('allowed: a real query answered (password with quote and backslash goes through the conninfo)', async () => {
    expect(await probe(DB, opts(pg.port))).toMatchObject({ verdict: 'allowed', evidence: { tool: 'psql', exitCode: 0, stdout: '1' } });
  });

  it('error: the server answered but refused the session (wrong password)', async () => {
    const o = await probe(DB, opts(pg.port, { password: 'wrong' }));
    expect(o).toMatchObject({ verdict: 'error', evidence: { exitCode: 2 } });
    expect(o.error).toMatch(/refused the session.*password authentication failed/);
  });

  it('blocked tcp-close: close and reset → "server closed the connection unexpectedly" (exit 2)', async () => {
    for (const mode of ['close', 'reset'] as const) {
      const o = await probe(DB, opts(standins.get(mode)!.port));
      expect(o).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', evidence: { exitCode: 2 } });
      expect(o.evidence.stderr).toMatch(/server closed the connection unexpectedly/);
    }
  });

  it('error: a server that never answers → "timeout expired"; nothing listening → refused', async () => {
    const held = await probe(DB, opts(standins.get('hold')!.port));
    expect(held).toMatchObject({ verdict: 'error', evidence: { exitCode: 2 } });
    expect(held.error).toMatch(/^timed out/);
    const refused = await probe(DB, opts(await freePort()));
    expect(refused.error).toMatch(/^connection refused/);
  });
});

// Across a real network stack: client and stand-ins in two namespaces joined by a veth pair.
const netnsReason = missingTools('curl', 'ip') ?? netnsUnavailable();

describe.skipIf(netnsReason !== undefined)(`probes across network namespaces${netnsReason ? ` (skipped: ${netnsReason})` : ''}`, () => {
  let net: NetnsPair;
  const standins: StandinFixture[] = [];
  const inClient = (argv: string[]) => net.inClient(argv);

  beforeAll(async () => {
    net = createNetnsPair();
    // Real ports, as an external server would have them; the namespaces are ours alone.
    standins.push(await startStandin('close', { netns: net.serverNs, host: net.serverIp, port: 80 }));
    standins.push(await startStandin('close', { netns: net.serverNs, host: net.serverIp, port: 443 }));
    standins.push(await startStandin('envoy-502', { netns: net.serverNs, host: net.serverIp, port: 8080 }));
  }, 60_000);
  afterAll(async () => {
    for (const s of standins) await s.stop();
    await net?.stop();
  });

  it('blocked tcp-close: close over HTTP → 52, over TLS → 35 (--resolve pins the name, port as in the URL)', async () => {
    expect(await probe('http://api.example.com/', { resolve: net.serverIp }, inClient)).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
      evidence: { exitCode: 52, remote: `${net.serverIp}:80` },
    });
    expect(await probe('https://api.example.com/', { resolve: net.serverIp }, inClient)).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
      evidence: { exitCode: 35, remote: `${net.serverIp}:443` },
    });
  });

  it('blocked http-502 from an envoy-like direct response', async () => {
    expect(await probe('http://api.example.com:8080/', { resolve: net.serverIp }, inClient)).toMatchObject({
      verdict: 'blocked',
      signal: 'http-502',
      evidence: { exitCode: 0, status: 502 },
    });
  });

  it('error: an address that never answers → connect timeout (curl 28, no connection)', async () => {
    const o = await probe('http://api.example.com/', { resolve: net.silentIp, connectTimeoutSec: 1, maxTimeSec: 3 }, inClient);
    expect(o).toMatchObject({ verdict: 'error', evidence: { exitCode: 28, connects: 0 } });
    expect(o.error).toMatch(/^connect timed out/);
  });

  it('error: a name that does not resolve → curl 6', async () => {
    const o = await probe('http://nothing.invalid/', {}, inClient);
    expect(o).toMatchObject({ verdict: 'error', evidence: { exitCode: 6 } });
    expect(o.error).toMatch(/^name not resolved/);
  });
});
