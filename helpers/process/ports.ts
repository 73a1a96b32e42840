// A free TCP port on 127.0.0.1 for a server this run starts (etcd, kube-apiserver, istiod, ...).
//
// Why not the kernel's `listen(0)`: that hands out a port from the ephemeral range
// (net.ipv4.ip_local_port_range), the same range the kernel draws the source ports of outgoing
// connections from. Between choosing the port and the server binding it, any of the many client
// connections on this machine may take it as a source port, and the server then fails with EADDRINUSE
// (seen in CI: pilot-discovery's gRPC port). Ports below the ephemeral range are never handed to
// outgoing connections, so only another server could take one, and a bind test rules out those
// already listening.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The lowest port considered; below it live well-known and registered services. */
const FLOOR = 20000;
/** Used when the kernel's range cannot be read (not Linux): Linux's default start. */
const DEFAULT_EPHEMERAL_START = 32768;

/** Where the kernel's ephemeral range starts (net.ipv4.ip_local_port_range), from /proc or the default. */
export function ephemeralRangeStart(procFile = '/proc/sys/net/ipv4/ip_local_port_range'): number {
  try {
    const low = Number.parseInt(readFileSync(procFile, 'utf8').trim().split(/\s+/)[0] ?? '', 10);
    return Number.isInteger(low) && low > 1024 ? low : DEFAULT_EPHEMERAL_START;
  } catch {
    return DEFAULT_EPHEMERAL_START;
  }
}

/** Ports handed out by this process, so one batch (Promise.all) never gets the same port twice. */
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function freeLoopbackPort(): Promise<number> {
  const top = ephemeralRangeStart();
  // A machine whose ephemeral range starts very low leaves no room below it: fall back to the kernel's choice.
  const low = top - FLOOR >= 1000 ? FLOOR : 1025;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (top - low));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free loopback port found in ${low}-${top - 1} after 200 tries`);
}
