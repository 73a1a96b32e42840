// Test fixtures for the probe classifier, the blocking side: stand-ins that answer as an Istio sidecar does
// when it blocks (a 502 from envoy, a closed connection), a network-namespace pair, and running a probe's
// argv. Servers that answer for real are in servers.ts.
import { spawn, execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { type Fixture, onExit, stopChild, waitForLog, which } from './servers.ts';

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
  | 'envoy-503'
  /** HTTP 404, `server: istio-envoy`, empty body: the egress gateway's own answer when no route takes the request. */
  | 'gateway-404'
  /** That 404 as the client's sidecar relays it: its HTTP route rewrites `server` to envoy and adds its upstream time. */
  | 'relayed-404';

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
const envoy = (status, reason, body, server = 'envoy', extra = '') =>
  'HTTP/1.1 ' + status + ' ' + reason + '\r\ncontent-length: ' + Buffer.byteLength(body) +
  (body ? '\r\ncontent-type: text/plain' : '') + '\r\ndate: ' + new Date().toUTCString() +
  '\r\nserver: ' + server + extra + '\r\nconnection: close\r\n\r\n' + body;
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
    case 'gateway-404': s.once('data', () => s.end(envoy(404, 'Not Found', '', 'istio-envoy'))); break;
    case 'relayed-404': s.once('data', () => s.end(envoy(404, 'Not Found', '', 'envoy', '\r\nx-envoy-upstream-service-time: 3'))); break;
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
