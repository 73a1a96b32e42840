// Hand-made ServiceEntries and service ports for the model's unit tests that call its listener and landing
// steps directly (listeners.test.ts, landing.test.ts): only what those steps read.
import type { PortKind, ServicePort } from '../oracle/listeners.ts';
import type { PortProtocol, Resolution, ServiceEntry } from '../model/types.ts';

let created = 0;

/** A ServiceEntry in `frontend` with one port, as the loader gives it. */
export function testEntry(
  name: string,
  protocol: PortProtocol,
  port: number,
  o: { resolution?: Resolution; host?: string } = {},
): ServiceEntry {
  return {
    kind: 'ServiceEntry',
    name,
    namespace: 'frontend',
    order: created,
    hosts: [o.host ?? `${name}.example.com`],
    addresses: [],
    ports: [{ number: port, name: `p${port}`, protocol }],
    location: 'MESH_EXTERNAL',
    resolution: o.resolution ?? 'DNS',
    endpoints: [],
    exportTo: [],
    source: { file: 'a unit test', doc: 1 },
    manifest: {},
  };
}

/**
 * The entry's first host on `port`, processed after every one made before it (rank = creation order, as
 * expect.ts ranks entries by creation time).
 */
export function testServicePort(se: ServiceEntry, port: number, kind: PortKind, rest: Partial<ServicePort> = {}): ServicePort {
  return {
    se,
    host: se.hosts[0]!,
    port,
    kind,
    ips: [],
    cidrs: [],
    autoAllocated: false,
    rank: [0, created++, se.hosts[0]!, 'frontend'],
    ...rest,
  };
}
