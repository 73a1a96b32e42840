// Test fixtures for the probe classifier: real servers on loopback (PostgreSQL from Debian, Node
// HTTP/HTTPS upstreams) and stand-ins that behave as a blocking Istio sidecar does, optionally inside
// network namespaces created here. Every fixture stops on stop() and, failing that, when the process
// exits, so a crashed test run leaves no server, temp dir or namespace behind.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { execa } from 'execa';

export interface Fixture {
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Cleanup on exit: only synchronous work can run in an 'exit' handler.

const exitCleanups = new Set<() => void>();
process.once('exit', () => {
  for (const fn of exitCleanups) {
    try {
      fn();
    } catch {
      /* best effort while exiting */
    }
  }
});

function onExit(fn: () => void): () => void {
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

// ---------------------------------------------------------------------------------------------
// Tools

export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * Debian installs the server binaries in /usr/lib/postgresql/<major>/bin, off PATH; take the newest
 * major that has both initdb and postgres, else whatever PATH offers.
 */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    for (const m of majors) {
      const bin = join(root, m, 'bin');
      if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
    }
  }
  const initdb = which('initdb');
  return initdb && which('postgres') ? join(initdb, '..') : undefined;
}

/** Why fixtures needing these tools cannot run here, or undefined when all are present. */
export function missingTools(...tools: string[]): string | undefined {
  const missing = tools.filter((t) => (t === 'postgres' ? postgresBinDir() === undefined : which(t) === undefined));
  if (missing.length === 0) return undefined;
  return `missing ${missing.join(', ')} (install the Debian packages in scripts/ci-debian-packages.txt)`;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface PgFixture extends Fixture {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Quote and backslash on purpose: the probe's conninfo quoting must survive them. */
export const PG_PROBE_PASSWORD = "pr'obe\\pw 1";

export async function startPostgres(): Promise<PgFixture> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(missingTools('postgres'));
  const dir = mkdtempSync(join(tmpdir(), 'egress-pg-'));
  const data = join(dir, 'data');
  // PostgreSQL refuses to run as root: as root, run initdb and postgres as the `postgres` user.
  const ids = process.getuid?.() === 0 ? postgresIds() : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, LC_ALL: 'C', LANG: 'C' };
  let child: ChildProcess | undefined;
  const unregister = onExit(() => {
    // SIGQUIT: immediate shutdown, the postmaster takes its backends down with it.
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await execa(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { env, extendEnv: false, cwd: dir, ...ids },
    );
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      child = spawn(
        join(bin, 'postgres'),
        ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
        {
          env,
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
          ...ids,
        },
      );
      try {
        await waitForLog(child, /database system is ready to accept connections/);
      } catch (e) {
        lastError = e; // most likely the free port was taken meanwhile: try another
        await stopChild(child, 'SIGQUIT');
        continue;
      }
      const psql = existsSync(join(bin, 'psql')) ? join(bin, 'psql') : 'psql';
      const sqlPassword = PG_PROBE_PASSWORD.replace(/'/g, "''");
      for (const sql of [`CREATE ROLE probe LOGIN PASSWORD '${sqlPassword}'`, 'CREATE DATABASE probedb OWNER probe']) {
        await execa(psql, ['-X', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
          env,
        });
      }
      const proc = child;
      return {
        host: '127.0.0.1',
        port,
        user: 'probe',
        password: PG_PROBE_PASSWORD,
        database: 'probedb',
        async stop() {
          unregister();
          await stopChild(proc, 'SIGINT'); // fast shutdown
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    throw new Error(`postgres did not start: ${String(lastError)}`);
  } catch (e) {
    unregister();
    if (child) await stopChild(child, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root but there is no `postgres` user (the Debian postgresql package creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Resolves when a line matching `ready` appears on the child's stdout/stderr; rejects if it exits first. */
function waitForLog(child: ChildProcess, ready: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => done(new Error(`not ready after ${timeoutMs} ms:\n${log.slice(-2000)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      log += d.toString();
      if (ready.test(log)) done();
    };
    const onExitEarly = (code: number | null, signal: string | null) =>
      done(new Error(`exited (${code ?? signal}) before ready:\n${log.slice(-2000)}`));
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExitEarly);
      // Keep draining so a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      if (err) reject(err);
      else resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExitEarly);
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

// ---------------------------------------------------------------------------------------------
// Real HTTP / HTTPS upstreams

export interface SeenRequest {
  host?: string;
  path?: string;
  /** SNI the client sent (HTTPS only). */
  servername?: string | false | null;
}

export interface HttpFixture extends Fixture {
  port: number;
  seen: SeenRequest[];
}

export const UPSTREAM_SERVER_HEADER = 'fixture-upstream';

/**
 * The upstream's own answers: `/status/NNN` → NNN with a body, `/empty/NNN` → NNN with no body,
 * anything else → 200 "hello from upstream".
 */
function upstreamHandler(seen: SeenRequest[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as Partial<TLSSocket>;
    seen.push({ host: req.headers.host, path: req.url, ...(socket.encrypted ? { servername: socket.servername } : {}) });
    res.setHeader('server', UPSTREAM_SERVER_HEADER);
    const m = /^\/(status|empty)\/(\d{3})$/.exec(req.url ?? '');
    if (m) {
      res.statusCode = Number(m[2]);
      res.end(m[1] === 'status' ? `upstream says ${m[2]}\n` : undefined);
      return;
    }
    res.end('hello from upstream\n');
  };
}

function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startHttpUpstream(): Promise<HttpFixture> {
  const seen: SeenRequest[] = [];
  const server = createHttpServer(upstreamHandler(seen));
  const port = await listen(server);
  return { port, seen, stop: () => closeServer(server) };
}

/** A self-signed certificate for `hostname`, made with openssl now; removed on stop/exit. */
export async function makeSelfSignedCert(hostname: string): Promise<{ cert: string; key: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-cert-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const unregister = onExit(cleanup);
  try {
    await execa('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      `/CN=${hostname}`,
      '-addext',
      `subjectAltName=DNS:${hostname}`,
    ]);
    return {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cleanup: () => {
        unregister();
        cleanup();
      },
    };
  } catch (e) {
    unregister();
    cleanup();
    throw e;
  }
}

export async function startHttpsUpstream(hostname = 'api.example.com'): Promise<HttpFixture> {
  const { cert, key, cleanup } = await makeSelfSignedCert(hostname);
  cleanup(); // the PEMs are in memory now
  const seen: SeenRequest[] = [];
  const server = createHttpsServer({ cert, key }, upstreamHandler(seen));
  const port = await listen(server);
  return { port, seen, stop: () => closeServer(server) };
}

// ---------------------------------------------------------------------------------------------
// Stand-ins for a blocking sidecar (and for upstreams that misbehave)
//
// They run as small child processes from one script, so the same code serves on loopback and inside
// a network namespace (`ip netns exec NS node -e …`).

export type StandinMode =
  /** accept, then close at once (FIN): BlackHoleCluster as the client sees it. */
  | 'close'
  /** accept, then reset (SO_LINGER 0) on the first byte from the client, or 250 ms after accept. */
  | 'reset'
  /** accept and wait, never writing: a client-speaks-first service that got no request. */
  | 'hold'
  /** write a banner, then close: a server-speaks-first service. */
  | 'banner'
  /** HTTP 502, `server: envoy`, empty body: the block_all catch-all's direct response. */
  | 'envoy-502'
  /** HTTP 503, `server: envoy`, "upstream connect error…": the route existed, the server did not answer. */
  | 'envoy-503';

// Reset on the first byte rather than on accept: a reset that lands while the client is still
// completing its non-blocking connect is reported by curl as exit 7 "Couldn't connect to server" and
// by psql as "Connection reset by peer" (about half the time on loopback with curl 7.88), which would
// make the stand-in race-dependent. HTTP, TLS and PostgreSQL clients speak first, so the byte comes
// at once; a telnet probe sends nothing, so the timer resets it well after its connect completed.
// (Envoy's BlackHole close happens before the client has sent anything, so it is a FIN, never that
// early reset: a real sidecar does not produce the race.)
// Envoy's own responses are written raw so the headers are exactly Envoy's, no Node extras.
const STANDIN_SOURCE = String.raw`
const net = require('node:net');
const [mode, host, port] = process.argv.slice(-3);
const envoy = (status, reason, body) =>
  'HTTP/1.1 ' + status + ' ' + reason + '\r\ncontent-length: ' + Buffer.byteLength(body) +
  (body ? '\r\ncontent-type: text/plain' : '') + '\r\ndate: ' + new Date().toUTCString() +
  '\r\nserver: envoy\r\nconnection: close\r\n\r\n' + body;
const server = net.createServer((s) => {
  s.on('error', () => {});
  switch (mode) {
    case 'close': s.end(); break;
    case 'reset': {
      const reset = () => { clearTimeout(timer); if (!s.destroyed) s.resetAndDestroy(); };
      const timer = setTimeout(reset, 250);
      s.once('data', reset);
      break;
    }
    case 'hold': s.resume(); break;
    case 'banner': s.end('220 banner from upstream\r\n'); break;
    case 'envoy-502': s.once('data', () => s.end(envoy(502, 'Bad Gateway', ''))); break;
    case 'envoy-503': s.once('data', () => s.end(envoy(503, 'Service Unavailable',
      'upstream connect error or disconnect/reset before headers. reset reason: connection failure'))); break;
    default: console.error('unknown mode ' + mode); process.exit(2);
  }
});
server.listen(Number(port), host, () => console.log('listening ' + server.address().port));
`;

export interface StandinFixture extends Fixture {
  host: string;
  port: number;
}

/** Starts a stand-in; `netns` runs it inside that namespace. Port 0 = a free one. */
export async function startStandin(
  mode: StandinMode,
  opts: { host?: string; port?: number; netns?: string } = {},
): Promise<StandinFixture> {
  const host = opts.host ?? '127.0.0.1';
  const nodeArgv = [process.execPath, '-e', STANDIN_SOURCE, mode, host, String(opts.port ?? 0)];
  const [cmd, ...args] = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...nodeArgv] : nodeArgv;
  const child = spawn(cmd ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const unregister = onExit(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    await waitForLog(child, /listening \d+/);
  } catch (e) {
    unregister();
    await stopChild(child, 'SIGKILL');
    throw new Error(`stand-in ${mode} did not start: ${String(e)}`);
  }
  const port = Number(/listening (\d+)/.exec(out)?.[1]);
  return {
    host,
    port,
    async stop() {
      unregister();
      await stopChild(child, 'SIGTERM');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Network namespaces: a client namespace and a server namespace joined by a veth pair. Both ends
// are created directly inside the new namespaces, so the host's own namespace gains no interface,
// address or route.

export interface NetnsPair extends Fixture {
  clientNs: string;
  serverNs: string;
  clientIp: string;
  serverIp: string;
  /** In the server subnet, assigned to no one: connects to it get no answer. */
  silentIp: string;
  /** argv run inside the client namespace. */
  inClient(argv: string[]): string[];
}

const SUBNET = '10.213.0';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createNetnsPair(): NetnsPair {
  const tag = `egp${process.pid}${Math.floor(Math.random() * 1000)}`.slice(0, 12);
  const clientNs = `${tag}c`;
  const serverNs = `${tag}s`;
  const deleteAll = () => {
    for (const ns of [clientNs, serverNs]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* not created or already gone */
      }
    }
  };
  const unregister = onExit(deleteAll);
  try {
    ip('netns', 'add', clientNs);
    ip('netns', 'add', serverNs);
    ip('link', 'add', `${tag}a`, 'netns', clientNs, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', serverNs);
    ip('-n', clientNs, 'addr', 'add', `${SUBNET}.1/24`, 'dev', `${tag}a`);
    ip('-n', serverNs, 'addr', 'add', `${SUBNET}.2/24`, 'dev', `${tag}b`);
    for (const [ns, dev] of [
      [clientNs, `${tag}a`],
      [serverNs, `${tag}b`],
    ] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
  } catch (e) {
    unregister();
    deleteAll();
    throw e;
  }
  return {
    clientNs,
    serverNs,
    clientIp: `${SUBNET}.1`,
    serverIp: `${SUBNET}.2`,
    silentIp: `${SUBNET}.3`,
    inClient: (argv) => ['ip', 'netns', 'exec', clientNs, ...argv],
    async stop() {
      unregister();
      deleteAll(); // deleting a namespace deletes the veth end inside it, and so the pair
    },
  };
}

/** Why namespaces cannot be used here (tried for real), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (which('ip') === undefined) return 'missing ip (Debian package iproute2)';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    createNetnsPair().stop();
    return undefined;
  } catch (e) {
    return `cannot create network namespaces here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
}

// ---------------------------------------------------------------------------------------------

/** Runs a probe argv as the kind lane would exec it: no stdin, exit code and both streams kept. */
export async function runArgv(argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('runArgv: empty argv');
  const r = await execa(file, args, { reject: false, stdin: 'ignore', stripFinalNewline: false });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}
