// Builds the argv a kind-lane client runs for one probe. The argv is exec'd directly (no shell) in
// the client pod's `curl` or `psql` container, and the same argv is run by the local tests, so what
// the classifier reads in CI is what it reads on a cluster.
//
// Choices, and why:
// - HTTP/HTTPS: curl with `-D -` (headers on stdout, for `server:` and
//   `x-envoy-upstream-service-time`), the body on stdout after them, then a write-out line that starts
//   with PROBE_MARKER. curl prints the write-out even when the transfer fails, so the classifier gets
//   curl's own exit code and error message (`%{exitcode}`, `%{errormsg}`, curl >= 7.75) whatever the
//   exec API reports.
// - `-q` first (ignore any .curlrc), `--noproxy '*'` (ignore proxy env: the call must go to the
//   sidecar, not to a proxy), `-k` for HTTPS (the external servers use self-signed certs), `-g` so an
//   IPv6 literal or brackets in a path are not globbed. SNI is the URL's hostname: pinning an address
//   uses --resolve/--connect-to, which keep the URL (and so the SNI and Host header) unchanged.
// - tcp:// to port 5432: psql runs a real query, so "allowed" means a PostgreSQL server answered
//   `select 1`, not only that some socket accepted. The password is in the conninfo (exec has no env
//   of its own); sslmode=disable because the policy under test sees plain TCP.
// - other tcp://: `curl telnet://` with stdin unused. Checked with curl 7.88 (Debian) against local
//   stand-ins: connect-then-close ends with exit 0 and 0 bytes; connect-then-reset with exit 56;
//   connect-and-wait runs to --max-time and ends with exit 28 after a connect (num_connects=1);
//   a server that speaks first yields its bytes. So --max-time is the hold window: a connection still
//   open when it ends is what an allowed call to a client-speaks-first service looks like. curl
//   images keep telnet enabled (curl-container builds with the default protocol set); busybox `sh`
//   has no /dev/tcp, so a shell alternative would need `nc`, which the image does not promise.
import type { ProbeTarget } from '../../../model/types.ts';
import { urlHost } from '../../../probes/url.ts';

/** First word of the write-out line curl prints last. */
export const PROBE_MARKER = '__egress_probe__';

/**
 * Fields of the write-out line, in order; errormsg last because it contains spaces.
 * num_connects/time_connect tell a connect timeout from a transfer timeout.
 */
const WRITE_OUT =
  `\\n${PROBE_MARKER} exit=%{exitcode} status=%{http_code} connects=%{num_connects} ` +
  `connect_s=%{time_connect} size=%{size_download} remote=%{remote_ip}:%{remote_port} err=%{errormsg}\\n`;

export interface PgCredentials {
  user: string;
  password: string;
  database: string;
}

export interface ProbeCommandOptions {
  /** curl --connect-timeout, psql connect_timeout (libpq uses at least 2). Default 5. */
  connectTimeoutSec?: number;
  /** curl --max-time; for telnet probes this is the hold window. Default 10 (HTTP), 3 (telnet). */
  maxTimeSec?: number;
  /**
   * Pin the host to an address, for local tests: `IP` (curl --resolve, psql hostaddr) or `IP:PORT` /
   * `[IPv6]:PORT` (curl --connect-to, psql hostaddr+port), leaving the URL, SNI and Host untouched.
   */
  resolve?: string;
  /** Required for psql probes. */
  pg?: PgCredentials;
}

export type ProbeContainer = 'curl' | 'psql';

export const PG_PORT = 5432;

export function probeContainer(target: ProbeTarget): ProbeContainer {
  return target.scheme === 'tcp' && target.port === PG_PORT ? 'psql' : 'curl';
}

export function probeCommand(target: ProbeTarget, opts: ProbeCommandOptions = {}): string[] {
  const connectTimeout = opts.connectTimeoutSec ?? 5;
  const pin = opts.resolve === undefined ? undefined : parsePin(opts.resolve);
  if (probeContainer(target) === 'psql') return psqlCommand(target, connectTimeout, pin, opts.pg);
  return curlCommand(target, connectTimeout, opts.maxTimeSec, pin);
}

interface Pin {
  address: string;
  port?: number;
}

function parsePin(resolve: string): Pin {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(resolve);
  if (v6?.[1] !== undefined) return { address: v6[1], port: v6[2] === undefined ? undefined : Number(v6[2]) };
  const v4 = /^([0-9.]+)(?::(\d+))?$/.exec(resolve);
  if (v4?.[1] !== undefined) return { address: v4[1], port: v4[2] === undefined ? undefined : Number(v4[2]) };
  if (/^[0-9a-fA-F:]+$/.test(resolve)) return { address: resolve };
  throw new Error(`probeCommand: resolve "${resolve}" must be IP, IP:PORT or [IPv6]:PORT`);
}

function curlCommand(target: ProbeTarget, connectTimeout: number, maxTime: number | undefined, pin: Pin | undefined): string[] {
  const telnet = target.scheme === 'tcp';
  const argv = ['curl', '-q', '-sS', '-g', '--noproxy', '*', '--connect-timeout', String(connectTimeout)];
  argv.push('--max-time', String(maxTime ?? (telnet ? 3 : 10)));
  if (target.scheme === 'https') argv.push('-k');
  if (!telnet) argv.push('-D', '-');
  argv.push('-w', WRITE_OUT);
  if (pin) {
    const pinned = pin.address.includes(':') ? `[${pin.address}]` : pin.address;
    // --resolve only replaces name resolution (no effect on an IP-literal URL, cannot change the
    // port); --connect-to redirects the connection while the URL, SNI and Host stay as written.
    // An absolute name is pinned as written too: whether curl's resolve cache keeps the dot has varied by version.
    if (pin.port === undefined && !target.isIp)
      for (const name of target.absolute ? [target.host, `${target.host}.`] : [target.host])
        argv.push('--resolve', `${name}:${target.port}:${pinned}`);
    else argv.push('--connect-to', `${urlHost(target)}:${target.port}:${pinned}:${pin.port ?? target.port}`);
  }
  const path = telnet ? '' : target.path;
  argv.push(`${telnet ? 'telnet' : target.scheme}://${urlHost(target)}:${target.port}${path}`);
  return argv;
}

/** libpq conninfo value: single-quoted, with backslash and quote escaped. */
function pgValue(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function psqlCommand(target: ProbeTarget, connectTimeout: number, pin: Pin | undefined, pg: PgCredentials | undefined): string[] {
  if (!pg) {
    throw new Error(`probeCommand: ${target.raw} is a PostgreSQL probe (port ${PG_PORT}); pass opts.pg {user, password, database}`);
  }
  const params: [string, string][] = [['host', target.host]];
  if (pin) params.push(['hostaddr', pin.address]);
  params.push(
    ['port', String(pin?.port ?? target.port)],
    ['user', pg.user],
    ['password', pg.password],
    ['dbname', pg.database],
    ['connect_timeout', String(connectTimeout)],
    ['sslmode', 'disable'],
    ['application_name', 'egress-probe'],
  );
  const conninfo = params.map(([k, v]) => `${k}=${pgValue(v)}`).join(' ');
  // -X: no psqlrc; -w: never prompt; -tA: bare value, so allowed is exactly "1".
  return ['psql', '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-tA', '-c', 'select 1', '-d', conninfo];
}
