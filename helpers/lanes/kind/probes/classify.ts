// Turns what a probe command printed into an Observation: allowed, blocked (with the signal) or an
// error with its cause. Classification is by class of outcome (the decisions below), not by exact
// message; the raw result is always kept as evidence.
//
// Decisions, and why:
// - Allowed = the upstream's own answer, whatever its status: a 404 or 500 from the server still
//   proves the call went through. Through an HTTP route Envoy rewrites `server` to `envoy`, so a
//   non-envoy server is not required.
// - Blocked http-502 = 502 AND `server: envoy` AND empty body AND no `x-envoy-upstream-service-time`.
//   The block_all catch-all is a direct response: no upstream, no body. Envoy adds
//   x-envoy-upstream-service-time only to responses its router got from an upstream, so a 502 that
//   carries it (or carries a body, or another server) is the upstream's own 502: allowed.
// - Blocked http-503 = the same empty local reply with 503: a route whose cluster the proxy was not sent
//   (RouteAction cluster_not_found_response_code, 503 by default, flag NC; Envoy sends it without a body).
// - Blocked http-404 = 404 AND `server: istio-envoy` AND empty body AND no upstream time: the egress gateway's
//   own answer to a request none of its routes takes (Envoy's NR); a server's 404 is its own, so allowed. The
//   same with `server: envoy` is the sidecar's own NR.
// - Blocked http-local = any other status with `server: envoy`, an empty body and no upstream time, or a 3xx
//   with `server: envoy` and no upstream time: a route's direct response or redirect, written by the sidecar.
// - Envoy's own local replies about the upstream ("upstream connect error…", "no healthy upstream",
//   "upstream request timeout") mean the route existed but the server did not answer: error, never a
//   verdict, whatever their status (usually 503/504, 502 for some reset reasons).
// - Blocked tcp-close = the sidecar accepted then closed: curl 52/56 over plain HTTP, curl 35 over TLS
//   when the handshake died on EOF or reset (a TLS alert or a non-TLS answer is an error: something
//   spoke), telnet ending on EOF with no byte or on a reset, psql "server closed the connection
//   unexpectedly" / "could not receive data" / reset / SSL SYSCALL.
// - curl 7 (refused, unreachable) is an error: a REDIRECT-capturing sidecar accepts every outbound
//   connection, so a refusal means no sidecar and nothing listening. 6 (name) and 28 (timeout) are
//   errors with their cause. Anything else is an error naming what happened.
// - Telnet probes (tcp:// other than 5432): still open when the hold window ended (curl 28 after a
//   connect) or bytes received = allowed.
// - psql: allowed only when the query answered exactly `1`. A server that answered but refused the
//   session (auth, unknown database) is an error: reachable, but the probe is misconfigured.
import type { Observation, ProbeTarget } from '../../../model/types.ts';
import { PROBE_MARKER, probeContainer } from './commands.ts';
import { classifyPsql } from './classify-psql.ts';

export interface ProbeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const EXCERPT = 300;

export function excerpt(s: string, max = EXCERPT): string {
  const t = s.trim();
  return t.length <= max ? t : `${t.slice(0, max - 1)}…`;
}

export function classifyProbe(target: ProbeTarget, result: ProbeResult): Observation {
  if (probeContainer(target) === 'psql') return classifyPsql(result);
  const curl = parseCurlOutput(result.stdout);
  if (!curl.writeOut && (result.exitCode === 126 || result.exitCode === 127)) {
    return error(`probe command did not run (exit ${result.exitCode}): ${excerpt(result.stderr, 120)}`, {
      tool: 'curl',
      exitCode: result.exitCode,
      stderr: excerpt(result.stderr),
    });
  }
  return target.scheme === 'tcp' ? classifyTelnet(curl, result) : classifyHttp(target, curl, result);
}

// ---------------------------------------------------------------------------------------------
// curl output

export interface CurlWriteOut {
  exit: number;
  status: number;
  connects: number;
  connectSec: number;
  size: number;
  remote: string;
  errormsg: string;
}

export interface CurlOutput {
  writeOut?: CurlWriteOut;
  /** Status line and headers of the final response (interim 1xx skipped); names lower-cased. */
  statusLine?: string;
  headers: Record<string, string>;
  /** Everything between the headers and the write-out line. */
  body: string;
}

export function parseCurlOutput(stdout: string): CurlOutput {
  const lines = stdout.split('\n');
  let markerAt = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]?.startsWith(`${PROBE_MARKER} `)) {
      markerAt = i;
      break;
    }
  }
  const markerLine = lines[markerAt];
  const writeOut = markerLine !== undefined ? parseWriteOut(markerLine) : undefined;
  // The write-out starts with "\n": splitting on it already dropped that separator, so joining the
  // lines before the marker gives back exactly what came before it.
  const before = markerAt >= 0 ? lines.slice(0, markerAt).join('\n') : stdout;

  const out: CurlOutput = { writeOut, headers: {}, body: before };
  let rest = before;
  while (/^HTTP\/[0-9.]+ \d{3}/.test(rest)) {
    const end = rest.search(/\r?\n\r?\n/);
    const block = end >= 0 ? rest.slice(0, end) : rest;
    rest = end >= 0 ? rest.slice(end).replace(/^\r?\n\r?\n/, '') : '';
    const [statusLine = '', ...headerLines] = block.split(/\r?\n/); // split always yields at least one element
    const code = Number(/^HTTP\/[0-9.]+ (\d{3})/.exec(statusLine)?.[1]);
    if (code >= 100 && code < 200) continue;
    out.statusLine = statusLine.trim();
    out.headers = {};
    for (const h of headerLines) {
      const colon = h.indexOf(':');
      if (colon > 0) out.headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    }
    out.body = rest;
    break;
  }
  return out;
}

function parseWriteOut(line: string): CurlWriteOut {
  const field = (name: string): string => new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1] ?? '';
  const num = (name: string): number => {
    const n = Number(field(name));
    return Number.isFinite(n) ? n : NaN;
  };
  const errAt = line.indexOf(' err=');
  return {
    exit: num('exit'),
    status: num('status'),
    connects: num('connects'),
    connectSec: num('connect_s'),
    size: num('size'),
    remote: field('remote'),
    errormsg: errAt >= 0 ? line.slice(errAt + 5).trim() : '',
  };
}

/** curl's own exit code when its write-out says so (older curls print no %{exitcode}), else the exec's. */
function curlExit(curl: CurlOutput, result: ProbeResult): number {
  const w = curl.writeOut?.exit;
  return w !== undefined && Number.isInteger(w) ? w : result.exitCode;
}

/** curl's message for the failure: from the write-out, else stderr's `curl: (N) …` line. */
function curlMessage(curl: CurlOutput, result: ProbeResult): string {
  if (curl.writeOut?.errormsg) return curl.writeOut.errormsg;
  const m = /curl: \(\d+\) (.*)/.exec(result.stderr);
  return m?.[1] !== undefined ? m[1].trim() : excerpt(result.stderr, 120);
}

function curlEvidence(curl: CurlOutput, result: ProbeResult, exit: number): Record<string, unknown> {
  const ev: Record<string, unknown> = { tool: 'curl', exitCode: exit };
  if (exit !== result.exitCode) ev.execExitCode = result.exitCode;
  const w = curl.writeOut;
  if (w) {
    if (w.status > 0) ev.status = w.status;
    ev.connects = w.connects;
    ev.bytes = w.size;
    if (w.remote && !w.remote.startsWith(':')) ev.remote = w.remote; // ':0' = never connected
    if (w.errormsg) ev.curlError = w.errormsg;
  } else {
    ev.writeOut = 'missing';
  }
  if (curl.statusLine) ev.statusLine = curl.statusLine;
  if (curl.headers.server !== undefined) ev.server = curl.headers.server;
  if (curl.headers['x-envoy-upstream-service-time'] !== undefined) {
    ev.envoyUpstreamServiceTime = curl.headers['x-envoy-upstream-service-time'];
  }
  if (curl.body) ev.body = excerpt(curl.body);
  if (result.stderr.trim()) ev.stderr = excerpt(result.stderr);
  return ev;
}

// ---------------------------------------------------------------------------------------------
// HTTP / HTTPS

// Bodies of Envoy's router local replies (router.cc / the HTTP connection manager), matched at the
// start so an application's own body that merely mentions them stays the application's answer.
const ENVOY_LOCAL_REPLY = /^\s*(upstream connect error or disconnect\/reset before headers|no healthy upstream|upstream request timeout)/i;

function classifyHttp(target: ProbeTarget, curl: CurlOutput, result: ProbeResult): Observation {
  const exit = curlExit(curl, result);
  const ev = curlEvidence(curl, result, exit);
  const msg = curlMessage(curl, result);

  if (exit === 0) {
    const status = curl.writeOut?.status || Number(/ (\d{3})/.exec(curl.statusLine ?? '')?.[1] ?? 0);
    if (!status) return error(`curl exited 0 without an HTTP status`, ev);
    ev.status = status;
    const envoy = (curl.headers.server ?? '').toLowerCase() === 'envoy';
    const bodyBytes = curl.writeOut?.size ?? curl.body.length;
    if (envoy && ENVOY_LOCAL_REPLY.test(curl.body)) {
      return error(
        `envoy answered ${status} "${excerpt(curl.body, 120)}": the server did not answer`,
        ev,
        `HTTP ${status} from envoy (upstream failure)`,
      );
    }
    const local = envoy && bodyBytes === 0 && curl.headers['x-envoy-upstream-service-time'] === undefined;
    if (status === 502 && local) {
      return { verdict: 'blocked', signal: 'http-502', summary: 'HTTP 502 server=envoy, empty body', evidence: ev };
    }
    if (status === 503 && local) {
      return { verdict: 'blocked', signal: 'http-503', summary: 'HTTP 503 server=envoy, empty body (cluster not found)', evidence: ev };
    }
    // The egress gateway's own 404 (no route, flag NR): its connection manager names itself istio-envoy
    // (pilot/pkg/networking/util/proxy_headers.go; only sidecar outbound says envoy). Relayed by the client
    // sidecar's HTTP route it reads `envoy` with an upstream time: then only the gateway's log tells (gateway-log.ts).
    const gatewayOwn = (curl.headers.server ?? '').toLowerCase() === 'istio-envoy' && bodyBytes === 0;
    if (status === 404 && gatewayOwn && curl.headers['x-envoy-upstream-service-time'] === undefined) {
      return { verdict: 'blocked', signal: 'http-404', summary: 'HTTP 404 server=istio-envoy, empty body (no route)', evidence: ev };
    }
    // Any other empty answer the sidecar wrote itself: its own 404 for a virtual host no route of which takes the
    // request (NR), or a route's direct response (VirtualService directResponse without a body); and a redirect
    // (3xx) whatever its body. Nothing left the sidecar.
    if (local && status === 404)
      return { verdict: 'blocked', signal: 'http-404', summary: 'HTTP 404 server=envoy, empty body (no route)', evidence: ev };
    const redirect = status >= 300 && status < 400 && envoy && curl.headers['x-envoy-upstream-service-time'] === undefined;
    if (local || redirect)
      return { verdict: 'blocked', signal: 'http-local', summary: `HTTP ${status} server=envoy, the sidecar's own answer`, evidence: ev };
    return { verdict: 'allowed', summary: `HTTP ${status}${curl.headers.server ? ` server=${curl.headers.server}` : ''}`, evidence: ev };
  }

  if (target.scheme === 'http' && (exit === 52 || exit === 56)) {
    return blockedTcp(`curl ${exit}: ${msg}`, ev);
  }
  if (target.scheme === 'https' && exit === 35) {
    // EOF or reset during the handshake = the peer closed; anything else (alert, non-TLS bytes,
    // version mismatch) means something answered, which is not what a blocking sidecar does.
    if (
      /SSL_ERROR_SYSCALL|unexpected eof|EOF|reset by peer|connection reset|closed abruptly|Connection was reset/i.test(
        `${msg} ${result.stderr}`,
      )
    ) {
      return blockedTcp(`curl 35: ${msg}`, ev);
    }
    return error(`TLS handshake failed, but not by a close: curl 35: ${msg}`, ev);
  }
  return commonCurlError(exit, msg, curl, ev);
}

// ---------------------------------------------------------------------------------------------
// Other tcp:// ports, through curl telnet://

function classifyTelnet(curl: CurlOutput, result: ProbeResult): Observation {
  const exit = curlExit(curl, result);
  const ev = curlEvidence(curl, result, exit);
  const msg = curlMessage(curl, result);
  const bytes = curl.writeOut?.size ?? curl.body.length;
  const connected = (curl.writeOut?.connects ?? 0) > 0 || (curl.writeOut?.connectSec ?? 0) > 0;

  if (exit === 0) {
    if (bytes > 0) return { verdict: 'allowed', summary: `TCP: server sent ${bytes} bytes, then closed`, evidence: ev };
    return blockedTcp('TCP: accepted, then closed without a byte', ev);
  }
  if (exit === 28 && connected) {
    return {
      verdict: 'allowed',
      summary: `TCP: connection held open for the hold window${bytes > 0 ? `, ${bytes} bytes received` : ''}`,
      evidence: ev,
    };
  }
  if (exit === 56) return blockedTcp(`TCP: reset (curl 56: ${msg})`, ev);
  return commonCurlError(exit, msg, curl, ev);
}

function commonCurlError(exit: number, msg: string, curl: CurlOutput, ev: Record<string, unknown>): Observation {
  switch (exit) {
    case 6:
      return error(`name not resolved (curl 6: ${msg})`, ev);
    case 7:
      return error(`connection refused or unreachable, so no sidecar took it (curl 7: ${msg})`, ev);
    case 28: {
      const connected = (curl.writeOut?.connects ?? 0) > 0;
      return error(`${connected ? 'timed out waiting for an answer' : 'connect timed out'} (curl 28: ${msg})`, ev);
    }
    default:
      return error(`unexpected curl exit ${exit}: ${msg}`, ev);
  }
}

export function blockedTcp(summary: string, evidence: Record<string, unknown>): Observation {
  return { verdict: 'blocked', signal: 'tcp-close', summary, evidence };
}

export function error(cause: string, evidence: Record<string, unknown>, summary?: string): Observation {
  return { verdict: 'error', error: cause, ...(summary ? { summary } : {}), evidence };
}
