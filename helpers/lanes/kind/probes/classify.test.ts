// The classifier on canned client results: curl's output and write-out, psql's exit code and stderr.
// The exit codes are those real curl and psql give (observed and asserted in real-clients.test.ts).
import { describe, expect, it } from 'vitest';
import type { ProbeTarget } from '../../../model/types.ts';
import { parseProbeUrl } from '../../../probes/url.ts';
import { classifyProbe, parseCurlOutput, type ProbeResult } from './classify.ts';
import { PROBE_MARKER } from './commands.ts';

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

  it("blocked http-404 / http-local: the sidecar's own empty answers and its redirects (no upstream time)", () => {
    const nr = classifyProbe(H, res(0, http(404, { server: 'envoy' }) + wo({ exit: 0, status: 404 })));
    expect(nr).toMatchObject({ verdict: 'blocked', signal: 'http-404' });
    const direct = classifyProbe(H, res(0, http(403, { server: 'envoy' }) + wo({ exit: 0, status: 403 })));
    expect(direct).toMatchObject({ verdict: 'blocked', signal: 'http-local', evidence: { status: 403 } });
    const moved = classifyProbe(
      H,
      res(0, http(301, { server: 'envoy', location: 'https://api.example.com/' }, 'x') + wo({ exit: 0, status: 301, size: 1 })),
    );
    expect(moved).toMatchObject({ verdict: 'blocked', signal: 'http-local' });
    const upstreamMoved = classifyProbe(
      H,
      res(0, http(301, { server: 'envoy', 'x-envoy-upstream-service-time': '2' }) + wo({ exit: 0, status: 301 })),
    );
    expect(upstreamMoved.verdict).toBe('allowed');
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
