// The probe commands and their classifier: unit tests on canned results, then the exact argv from
// probeCommand run with real curl and psql against real servers and sidecar stand-ins.
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
import { classifyProbe, parseCurlOutput, type ProbeResult } from './classify.ts';
import { PROBE_MARKER, probeCommand, probeContainer, type ProbeCommandOptions } from './commands.ts';
import { parseProbeUrl } from '../../../probes/url.ts';
import {
  freePort,
  missingTools,
  startHttpUpstream,
  startHttpsUpstream,
  UPSTREAM_SERVER_HEADER,
  type HttpFixture,
} from '../../../testing/servers.ts';
import { startPostgres, type PgFixture } from '../../../testing/postgres.ts';
import {
  createNetnsPair,
  netnsUnavailable,
  runArgv,
  startStandin,
  type NetnsPair,
  type StandinFixture,
  type StandinMode,
} from '../../../testing/standins.ts';

const t = (url: string): ProbeTarget => parseProbeUrl(url);

/** curl's write-out line as probeCommand asks for it. */
function wo(fields: { exit: number; status?: number; connects?: number; size?: number; err?: string }): string {
  const connects = fields.connects ?? 1;
  return (
    `\n${PROBE_MARKER} exit=${fields.exit} status=${String(fields.status ?? 0).padStart(3, '0')} connects=${connects} ` +
    `connect_s=${connects ? '0.000300' : '0.000000'} size=${fields.size ?? 0} remote=${connects ? '10.0.0.1:80' : ':0'} err=${fields.err ?? ''}\n`
  );
}

function http(status: number, headers: Record<string, string>, body = ''): string {
  const h = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `HTTP/1.1 ${status} X\r\n${h}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

const res = (exitCode: number, stdout: string, stderr = ''): ProbeResult => ({ exitCode, stdout, stderr });

// ---------------------------------------------------------------------------------------------

describe('probeContainer / probeCommand', () => {
  it('uses psql for tcp://…:5432 only, curl for everything else', () => {
    expect(probeContainer(t('tcp://db.example.com:5432'))).toBe('psql');
    expect(probeContainer(t('tcp://db.example.com:5433'))).toBe('curl');
    expect(probeContainer(t('http://db.example.com:5432'))).toBe('curl');
    expect(probeContainer(t('https://api.example.com'))).toBe('curl');
  });

  it('builds a curl argv that ignores curlrc and proxies, keeps headers and ends with the marker', () => {
    const argv = probeCommand(t('http://api.example.com/x?y=1'));
    expect(argv[0]).toBe('curl');
    expect(argv[1]).toBe('-q'); // must be first to skip .curlrc
    expect(argv).toContain('-sS');
    expect(argv.slice(argv.indexOf('--noproxy'), argv.indexOf('--noproxy') + 2)).toEqual(['--noproxy', '*']);
    expect(argv.slice(argv.indexOf('-D'), argv.indexOf('-D') + 2)).toEqual(['-D', '-']);
    expect(argv[argv.indexOf('-w') + 1]).toMatch(new RegExp(`^\\\\n${PROBE_MARKER} exit=%\\{exitcode\\} status=%\\{http_code\\}`));
    expect(argv).not.toContain('-k');
    expect(argv.at(-1)).toBe('http://api.example.com:80/x?y=1');
    expect(argv.slice(argv.indexOf('--connect-timeout'), argv.indexOf('--connect-timeout') + 2)).toEqual(['--connect-timeout', '5']);
    expect(argv.slice(argv.indexOf('--max-time'), argv.indexOf('--max-time') + 2)).toEqual(['--max-time', '10']);
  });

  it('accepts the self-signed cert for https and keeps the hostname in the URL (SNI)', () => {
    const argv = probeCommand(t('https://api.example.com'), { resolve: '127.0.0.1', connectTimeoutSec: 2, maxTimeSec: 4 });
    expect(argv).toContain('-k');
    expect(argv.slice(argv.indexOf('--resolve'), argv.indexOf('--resolve') + 2)).toEqual(['--resolve', 'api.example.com:443:127.0.0.1']);
    expect(argv.at(-1)).toBe('https://api.example.com:443/');
    expect(argv[argv.indexOf('--max-time') + 1]).toBe('4');
  });

  it('maps resolve IP:PORT to --connect-to, and brackets IPv6', () => {
    const a = probeCommand(t('http://api.example.com:8080/p'), { resolve: '127.0.0.1:4000' });
    expect(a.slice(a.indexOf('--connect-to'), a.indexOf('--connect-to') + 2)).toEqual([
      '--connect-to',
      'api.example.com:8080:127.0.0.1:4000',
    ]);
    expect(a).not.toContain('--resolve');
    const b = probeCommand(t('http://[fd00::5]:8080/'), { resolve: '[::1]:4000' });
    expect(b.slice(b.indexOf('--connect-to'), b.indexOf('--connect-to') + 2)).toEqual(['--connect-to', '[fd00::5]:8080:[::1]:4000']);
    expect(b.at(-1)).toBe('http://[fd00::5]:8080/');
    expect(() => probeCommand(t('http://a.example.com'), { resolve: 'not-an-ip' })).toThrow(/resolve/);
  });

  it('probes other tcp ports with curl telnet:// and a short hold window, without header capture', () => {
    const argv = probeCommand(t('tcp://10.1.2.3:6379'));
    expect(argv.at(-1)).toBe('telnet://10.1.2.3:6379');
    expect(argv).not.toContain('-D');
    expect(argv[argv.indexOf('--max-time') + 1]).toBe('3');
  });

  it('runs a real query with psql, credentials and timeouts in the conninfo, quoted', () => {
    const pg = { user: 'u', password: "it's a \\ pw", database: 'd' };
    const argv = probeCommand(t('tcp://db.example.com:5432'), { pg, connectTimeoutSec: 3, resolve: '127.0.0.1:6000' });
    expect(argv.slice(0, 8)).toEqual(['psql', '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-tA', '-c', 'select 1']);
    expect(argv[8]).toBe('-d');
    expect(argv[9]).toBe(
      "host='db.example.com' hostaddr='127.0.0.1' port='6000' user='u' password='it\\'s a \\\\ pw' dbname='d' " +
        "connect_timeout='3' sslmode='disable' application_name='egress-probe'",
    );
    expect(() => probeCommand(t('tcp://db.example.com:5432'))).toThrow(/opts\.pg/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('parseCurlOutput', () => {
  it('skips interim 1xx blocks and keeps the body exactly, newlines included', () => {
    const out = parseCurlOutput(
      `HTTP/1.1 100 Continue\r\n\r\n${http(200, { server: 'envoy' }, 'a\nb\n')}${wo({ exit: 0, status: 200, size: 4 })}`,
    );
    expect(out.statusLine).toBe('HTTP/1.1 200 X');
    expect(out.headers.server).toBe('envoy');
    expect(out.body).toBe('a\nb\n');
    expect(out.writeOut).toMatchObject({ exit: 0, status: 200, connects: 1, size: 4, errormsg: '' });
  });

  it('reads an HTTP/2 status line and a write-out with a multi-word error', () => {
    const out = parseCurlOutput(
      `HTTP/2 404\r\nserver: x\r\n\r\n${wo({ exit: 22, status: 404, err: 'The requested URL returned error: 404' })}`,
    );
    expect(out.statusLine).toBe('HTTP/2 404');
    expect(out.writeOut?.errormsg).toBe('The requested URL returned error: 404');
  });
});

describe('classifyProbe on canned results', () => {
  const H = t('http://api.example.com/');
  const S = t('https://api.example.com/');
  const T = t('tcp://10.1.2.3:6379');
  const P = t('tcp://db.example.com:5432');

  it('allowed: any status the upstream itself sends, server rewritten to envoy or not', () => {
    for (const [status, server] of [
      [200, 'envoy'],
      [404, 'nginx'],
      [500, 'envoy'],
    ] as const) {
      const o = classifyProbe(H, res(0, http(status, { server }, 'x') + wo({ exit: 0, status, size: 1 })));
      expect(o).toMatchObject({ verdict: 'allowed', evidence: { tool: 'curl', exitCode: 0, status, server } });
      expect(o.signal).toBeUndefined();
    }
  });

  it('blocked http-502: 502 + server: envoy + empty body', () => {
    const o = classifyProbe(H, res(0, http(502, { server: 'envoy' }) + wo({ exit: 0, status: 502 })));
    expect(o).toMatchObject({ verdict: 'blocked', signal: 'http-502', evidence: { status: 502, server: 'envoy', bytes: 0 } });
  });

  it('a 502 that is the upstream’s own answer is allowed: it has a body, another server, or came through the router', () => {
    const withBody = classifyProbe(
      H,
      res(0, http(502, { server: 'envoy' }, 'bad gateway from app') + wo({ exit: 0, status: 502, size: 20 })),
    );
    expect(withBody.verdict).toBe('allowed');
    const otherServer = classifyProbe(H, res(0, http(502, { server: 'nginx' }) + wo({ exit: 0, status: 502 })));
    expect(otherServer.verdict).toBe('allowed');
    const routed = classifyProbe(
      H,
      res(0, http(502, { server: 'envoy', 'x-envoy-upstream-service-time': '3' }) + wo({ exit: 0, status: 502 })),
    );
    expect(routed).toMatchObject({ verdict: 'allowed', evidence: { envoyUpstreamServiceTime: '3' } });
  });

  it('error: envoy’s own 503/504 about the upstream means the server did not answer', () => {
    const body = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
    const o = classifyProbe(H, res(0, http(503, { server: 'envoy' }, body) + wo({ exit: 0, status: 503, size: body.length })));
    expect(o.verdict).toBe('error');
    expect(o.error).toMatch(/envoy answered 503 .*upstream connect error.*server did not answer/);
    expect(o.evidence).toMatchObject({ status: 503, server: 'envoy', body });
    const nh = classifyProbe(H, res(0, http(503, { server: 'envoy' }, 'no healthy upstream') + wo({ exit: 0, status: 503, size: 19 })));
    expect(nh.verdict).toBe('error');
    // An application's own 503 through the route is still its answer.
    const app = classifyProbe(H, res(0, http(503, { server: 'envoy' }, 'maintenance') + wo({ exit: 0, status: 503, size: 11 })));
    expect(app.verdict).toBe('allowed');
  });

  it('blocked http-503: envoy’s empty 503 for a route whose cluster it was not sent (NC); an upstream’s own empty 503 is allowed', () => {
    const nc = classifyProbe(H, res(0, http(503, { server: 'envoy' }, '') + wo({ exit: 0, status: 503, size: 0 })));
    expect(nc).toMatchObject({ verdict: 'blocked', signal: 'http-503' });
    const upstream = classifyProbe(
      H,
      res(0, http(503, { server: 'envoy', 'x-envoy-upstream-service-time': '3' }, '') + wo({ exit: 0, status: 503, size: 0 })),
    );
    expect(upstream.verdict).toBe('allowed');
  });

  it('blocked tcp-close: curl 52 or 56 over plain HTTP', () => {
    for (const [exit, err] of [
      [52, 'Empty reply from server'],
      [56, 'Recv failure: Connection reset by peer'],
    ] as const) {
      const o = classifyProbe(H, res(exit, wo({ exit, err }), `curl: (${exit}) ${err}\n`));
      expect(o).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', evidence: { exitCode: exit, curlError: err } });
    }
  });

  it('blocked tcp-close: curl 35 on EOF/reset in the TLS handshake; other TLS failures are errors', () => {
    for (const err of [
      'OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to api.example.com:443 ',
      'Recv failure: Connection reset by peer',
      'TLS connect error: error:0A000126:SSL routines::unexpected eof while reading',
    ]) {
      expect(classifyProbe(S, res(35, wo({ exit: 35, err })))).toMatchObject({ verdict: 'blocked', signal: 'tcp-close' });
    }
    const o = classifyProbe(S, res(35, wo({ exit: 35, err: 'error:0A00010B:SSL routines::wrong version number' })));
    expect(o.verdict).toBe('error');
    expect(o.error).toMatch(/not by a close.*wrong version number/);
    // 52 over TLS is not the sidecar's close (that happens in the handshake): error naming it.
    expect(classifyProbe(S, res(52, wo({ exit: 52, err: 'Empty reply from server' })))).toMatchObject({
      verdict: 'error',
      error: expect.stringMatching(/unexpected curl exit 52/),
    });
  });

  it('errors with their cause: 6 name, 7 refused, 28 connect vs answer timeout', () => {
    expect(classifyProbe(H, res(6, wo({ exit: 6, connects: 0, err: 'Could not resolve host: x' }))).error).toMatch(/^name not resolved/);
    expect(classifyProbe(H, res(7, wo({ exit: 7, connects: 0, err: "Couldn't connect to server" }))).error).toMatch(/^connection refused/);
    expect(classifyProbe(H, res(28, wo({ exit: 28, connects: 0, err: 'Connection timed out after 1001 milliseconds' }))).error).toMatch(
      /^connect timed out/,
    );
    expect(classifyProbe(H, res(28, wo({ exit: 28, connects: 1, err: 'Operation timed out' }))).error).toMatch(
      /^timed out waiting for an answer/,
    );
    expect(classifyProbe(H, res(47, wo({ exit: 47, err: 'Maximum redirects' }))).error).toMatch(
      /^unexpected curl exit 47: Maximum redirects/,
    );
  });

  it('falls back to the exec exit code and stderr when the write-out is missing (curl < 7.75)', () => {
    const o = classifyProbe(H, res(52, '', 'curl: (52) Empty reply from server\n'));
    expect(o).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', evidence: { exitCode: 52, writeOut: 'missing' } });
    expect(classifyProbe(H, res(127, '', 'exec: "curl": executable file not found in $PATH'))).toMatchObject({
      verdict: 'error',
      error: expect.stringMatching(/did not run \(exit 127\)/),
    });
  });

  it('keeps curl’s own exit code and the exec’s when they differ', () => {
    const o = classifyProbe(H, res(1, wo({ exit: 56, err: 'Recv failure' })));
    expect(o.evidence).toMatchObject({ exitCode: 56, execExitCode: 1 });
  });

  it('telnet: closed without a byte or reset = blocked; held open or spoke = allowed', () => {
    expect(classifyProbe(T, res(0, wo({ exit: 0 })))).toMatchObject({ verdict: 'blocked', signal: 'tcp-close' });
    expect(classifyProbe(T, res(56, wo({ exit: 56, err: 'Recv failure: Connection reset by peer' })))).toMatchObject({
      verdict: 'blocked',
      signal: 'tcp-close',
    });
    expect(classifyProbe(T, res(28, wo({ exit: 28, err: 'Time-out' })))).toMatchObject({ verdict: 'allowed' });
    expect(classifyProbe(T, res(0, `220 hi\r\n${wo({ exit: 0, size: 8 })}`))).toMatchObject({
      verdict: 'allowed',
      evidence: { body: '220 hi', bytes: 8 },
    });
    expect(classifyProbe(T, res(28, wo({ exit: 28, connects: 0, err: 'Connection timed out' })))).toMatchObject({
      verdict: 'error',
      error: expect.stringMatching(/connect timed out/),
    });
    expect(classifyProbe(T, res(7, wo({ exit: 7, connects: 0, err: "Couldn't connect" })))).toMatchObject({ verdict: 'error' });
  });

  it('never claims a cluster: what the client saw is a summary (only the sidecar knows the cluster)', () => {
    const seen = [
      classifyProbe(H, res(0, http(200, { server: 'nginx' }, 'x') + wo({ exit: 0, status: 200, size: 1 }))),
      classifyProbe(H, res(0, http(502, { server: 'envoy' }) + wo({ exit: 0, status: 502 }))),
      classifyProbe(H, res(52, wo({ exit: 52, err: 'Empty reply from server' }))),
      classifyProbe(P, res(0, '1\n')),
      classifyProbe(H, res(0, http(503, { server: 'envoy' }, 'no healthy upstream') + wo({ exit: 0, status: 503, size: 19 }))),
    ];
    expect(seen.map((o) => o.cluster)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(seen.map((o) => o.summary)).toEqual([
      'HTTP 200 server=nginx',
      'HTTP 502 server=envoy, empty body',
      'curl 52: Empty reply from server',
      'PostgreSQL answered select 1',
      'HTTP 503 from envoy (upstream failure)',
    ]);
  });

  it('psql: only an answered query is allowed', () => {
    const ok = classifyProbe(P, res(0, '1\n'));
    expect(ok).toMatchObject({ verdict: 'allowed', evidence: { tool: 'psql', exitCode: 0, stdout: '1' } });
    expect(classifyProbe(P, res(0, '2\n')).verdict).toBe('error');
  });

  it('psql: the server closing or resetting = blocked tcp-close', () => {
    for (const stderr of [
      'psql: error: connection to server at "10.0.0.1", port 5432 failed: server closed the connection unexpectedly\n\tThis probably means…',
      'psql: error: could not receive data from server: Connection reset by peer',
      'psql: error: connection to server at "10.0.0.1", port 5432 failed: SSL SYSCALL error: EOF detected',
      'psql: error: connection to server at "10.0.0.1", port 5432 failed: Connection reset by peer',
    ]) {
      expect(classifyProbe(P, res(2, '', stderr))).toMatchObject({ verdict: 'blocked', signal: 'tcp-close', evidence: { exitCode: 2 } });
    }
  });

  it('psql: refused, unresolved, timeout and a refused session are errors with their cause', () => {
    const cases: [string, RegExp][] = [
      [
        'psql: error: connection to server at "10.0.0.1", port 5432 failed: Connection refused\n\tIs the server running…',
        /^connection refused/,
      ],
      ['psql: error: could not translate host name "db.example.com" to address: Name or service not known', /^name not resolved/],
      ['psql: error: connection to server at "10.0.0.1", port 5432 failed: timeout expired', /^timed out/],
      [
        'psql: error: connection to server at "10.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "u"',
        /answered but refused the session/,
      ],
      ['psql: error: something new', /^unexpected psql exit 2: something new/],
    ];
    for (const [stderr, cause] of cases) {
      const o = classifyProbe(P, res(2, '', stderr));
      expect(o.verdict).toBe('error');
      expect(o.error).toMatch(cause);
    }
  });

  it('keeps stderr excerpts to 300 characters', () => {
    const o = classifyProbe(P, res(2, '', `psql: error: ${'x'.repeat(1000)}`));
    expect((o.evidence.stderr as string).length).toBeLessThanOrEqual(300);
    const c = classifyProbe(H, res(0, http(200, { server: 'a' }, 'y'.repeat(1000)) + wo({ exit: 0, status: 200, size: 1000 })));
    expect((c.evidence.body as string).length).toBeLessThanOrEqual(300);
  });
});

// ---------------------------------------------------------------------------------------------
// Integration: the exact argv, real curl/psql, real servers and stand-ins.

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
