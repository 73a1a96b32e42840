// Test fixtures for the probe classifier: real servers on loopback (PostgreSQL from Debian, Node
// HTTP/HTTPS upstreams) and stand-ins that behave as a blocking Istio sidecar does, optionally inside
// network namespaces created here. Every fixture stops on stop() and, failing that, when the process
// exits, so a crashed test run leaves no server, temp dir or namespace behind.
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

export function onExit(fn: () => void): () => void {
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

/** Resolves when a line matching `ready` appears on the child's stdout/stderr; rejects if it exits first. */
export function waitForLog(child: ChildProcess, ready: RegExp, timeoutMs = 30_000): Promise<void> {
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

export function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
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
