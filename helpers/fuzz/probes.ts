// Probes aimed at what a scenario declares: each host (exact names, names under each wildcard, the apex of a
// wildcard), each address and CIDR (inside, on the edge, just outside), each declared port and its
// neighbours, each protocol on each port, plus a share of names and ports nobody declares. Most probes pair a
// ServiceEntry's own host with its own port over the scheme its protocol speaks: those reach its route or chain
// unless a rule (visibility, a Sidecar, a collision) says otherwise, which is what is being tested.
import fc from 'fast-check';
import type { Scheme } from '../model/types.ts';
import { ipToBigInt } from '../net/addresses.ts';
import { NAMESPACES, POD_LABELS, PORTS, UNRELATED_PORTS } from './pools.ts';
import type { FuzzProbe } from './scenario.ts';

type Obj = Record<string, unknown>;

export interface Aim {
  host: string;
  port: number;
  scheme: Scheme;
  /** Client namespaces the entry is exported to (its own, `*`, named ones); a probe's source is drawn from them. */
  from?: string[];
}

/** What the mesh says about every entry's export: defaultServiceExportTo and serviceEntryVisibility. */
export interface MeshExport {
  defaultServiceExportTo?: string[];
  serviceEntryVisibility?: { defaultVisibility?: string; applyToSidecars?: boolean };
}

/**
 * Client namespaces a ServiceEntry's own exportTo reaches, under the mesh's visibility ceiling when sidecars
 * honour it (NONE: nowhere; NAMESPACE: its own namespace, where exportTo reaches it). Sidecars aside.
 */
export function exportedTo(namespace: string, exportTo: string[] | undefined, mesh: MeshExport = {}): string[] {
  const list = exportTo?.length ? exportTo : (mesh.defaultServiceExportTo ?? ['*']);
  const reached = list.includes('*')
    ? [...NAMESPACES]
    : NAMESPACES.filter((n) => list.includes(n) || (n === namespace && list.includes('.')));
  const sev = mesh.serviceEntryVisibility;
  if (!sev?.applyToSidecars || (list.length === 1 && list[0] === '~')) return reached;
  const ceiling = String(sev.defaultVisibility ?? 'PUBLIC').toUpperCase();
  if (ceiling === 'NONE') return [];
  if (ceiling === 'NAMESPACE') return reached.filter((n) => n === namespace);
  return reached;
}

/** The scheme a client of this protocol speaks; unset (sniffed) ports get any. */
export function schemesFor(protocol: string): Scheme[] {
  switch (protocol.toUpperCase()) {
    case 'HTTP':
    case 'HTTP2':
    case 'GRPC':
    case 'GRPC-WEB':
      return ['http'];
    case 'HTTPS':
    case 'TLS':
      return ['https'];
    case '':
      return ['http', 'https', 'tcp'];
    default:
      return ['tcp'];
  }
}

function v4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}

/** An address and the addresses around it: a CIDR's inside, first, last and just-outside addresses. */
export function addressesAround(a: string): { inside: string[]; outside: string[] } {
  const [ip = '', len] = a.split('/');
  const p = ipToBigInt(ip);
  if (p?.bits !== 32) return { inside: [ip], outside: [] };
  if (len === undefined) return { inside: [ip], outside: [v4(p.v + 1n)] };
  const n = BigInt(32 - Number(len));
  const net = (p.v >> n) << n;
  const last = net + (1n << n) - 1n;
  const inside = [...new Set([v4(net + (n > 3n ? 5n : 0n)), v4(net), v4(last)])];
  return { inside, outside: [v4(last + 1n), v4(net - 1n)] };
}

/** Names a host stands for: itself, or for `*.x` a name under it, a deeper one, and the apex `x` (not matched). */
export function namesFor(host: string): { match: string[]; near: string[] } {
  if (!host.startsWith('*.')) return { match: [host], near: [] };
  const apex = host.slice(2);
  return { match: [`w.${apex}`, `deep.w.${apex}`], near: [apex] };
}

interface Declared {
  /** Aims at a ServiceEntry's own host or address on its own port over its protocol's scheme. */
  own: Aim[];
  /** Neighbours: other schemes on declared ports, port ± 1, apexes, CIDR edges and outsides, Sidecar ports. */
  near: Aim[];
  /** Client namespaces that hold a ServiceEntry (an entry is always visible in its own namespace). */
  homes: string[];
  /** Ports some resource declares HTTP-only (an HTTP connection manager ends the chain). */
  httpPorts: Set<number>;
}

const isHttpOnly = (protocol: string) => schemesFor(protocol).every((s) => s === 'http') && protocol !== '';

/**
 * TLS or raw TCP to a port an HTTP connection manager terminates is a codec error, which no side turns into a
 * verdict (the evaluator and the simulator answer `error`, the model cannot): not a probe worth a corpus entry.
 */
export function answerable(a: Aim, httpPorts: ReadonlySet<number>): boolean {
  return a.scheme === 'http' || !httpPorts.has(a.port);
}

const SCHEMES: Scheme[] = ['http', 'https', 'tcp'];

export function declaredAims(manifests: Obj[], mesh: MeshExport = {}): Declared {
  const own: Aim[] = [];
  const near: Aim[] = [];
  const declaredPorts = new Set<number>();
  const httpPorts = new Set<number>();
  const homes = new Set<string>();
  for (const m of manifests) {
    const spec = (m.spec ?? {}) as Obj;
    if (m.kind === 'Sidecar') {
      for (const e of (spec.egress as Obj[] | undefined) ?? []) {
        const n = (e.port as Obj | undefined)?.number;
        if (typeof n === 'number') declaredPorts.add(n);
        if (typeof n === 'number' && isHttpOnly(String((e.port as Obj).protocol ?? ''))) httpPorts.add(n);
      }
      const ep = (spec.outboundTrafficPolicy as Obj | undefined)?.egressProxy as Obj | undefined;
      if (ep?.host) near.push({ host: String(ep.host), port: 80, scheme: 'http' });
      continue;
    }
    const ns = String((m.metadata as Obj | undefined)?.namespace ?? '');
    if ((NAMESPACES as readonly string[]).includes(ns)) homes.add(ns);
    const exported = exportedTo(ns, spec.exportTo as string[] | undefined, mesh);
    const from = exported.length ? { from: exported } : {};
    const names = ((spec.hosts as string[] | undefined) ?? []).map(namesFor);
    const addrs = ((spec.addresses as string[] | undefined) ?? []).map(addressesAround);
    const ports = ((spec.ports as Obj[] | undefined) ?? []).map((p) => ({ n: Number(p.number), proto: String(p.protocol ?? '') }));
    // With addresses, a non-HTTP port listens on those addresses only: its names reach it only where the DNS
    // proxy answers with them, so they are neighbours there; HTTP ports route by Host on 0.0.0.0 either way.
    const named = names.flatMap((x) => x.match);
    const nearHosts = [...names.flatMap((x) => x.near), ...addrs.flatMap((x) => x.outside)];
    for (const p of ports) {
      declaredPorts.add(p.n);
      if (isHttpOnly(p.proto)) httpPorts.add(p.n);
      const byName = addrs.length === 0 || schemesFor(p.proto).every((x) => x === 'http');
      const ownHosts = [...(byName ? named : []), ...addrs.flatMap((x) => x.inside)];
      if (!byName) nearHosts.push(...named);
      for (const host of ownHosts) {
        // An entry exported nowhere, or a UDP port (no listener), is a neighbour: its own rules cannot decide.
        const mine = exported.length > 0 && p.proto.toUpperCase() !== 'UDP' ? own : near;
        for (const scheme of schemesFor(p.proto)) mine.push({ host, port: p.n, scheme, ...from });
        for (const scheme of SCHEMES) if (!schemesFor(p.proto).includes(scheme)) near.push({ host, port: p.n, scheme });
        near.push({ host, port: p.n + 1, scheme: schemesFor(p.proto)[0] ?? 'tcp' });
      }
      for (const host of nearHosts) for (const scheme of schemesFor(p.proto)) near.push({ host, port: p.n, scheme });
    }
    // An entry without ports still owns its name: any port.
    if (ports.length === 0) for (const host of named) for (const port of PORTS) near.push({ host, port, scheme: 'http' });
  }
  for (const port of declaredPorts) for (const scheme of SCHEMES) near.push({ host: 'unlisted.example.net', port, scheme });
  const decidable = (a: Aim) => answerable(a, httpPorts);
  return { own: own.filter(decidable), near: near.filter(decidable), homes: [...homes], httpPorts };
}

const unrelatedArb: fc.Arbitrary<Aim> = fc.record({
  host: fc.constantFrom('unlisted.example.net', 'c.example.com', '100.64.0.1', '203.0.113.9'),
  port: fc.constantFrom(...PORTS, ...UNRELATED_PORTS),
  scheme: fc.constantFrom<Scheme>(...SCHEMES),
});

function toUrl(a: Aim): string {
  return a.scheme === 'tcp' ? `tcp://${a.host}:${a.port}` : `${a.scheme}://${a.host}:${a.port}/`;
}

/** A scenario whose entries no client can reach by their own rules gets this many probes at most. */
export const PROBES_WITHOUT_OWN_AIM = 2;

/**
 * Probes for a scenario's manifests: mostly its own hosts and ports, some neighbours, a few unrelated. A
 * scenario with nothing of its own to aim at (no ports, exported nowhere, hidden by the mesh) gets a couple of
 * probes only: every one would land in a listener's catch-all, which other scenarios already cover.
 */
export function probesArb(manifests: Obj[], maxProbes: number, mesh: MeshExport = {}, minProbes = 1): fc.Arbitrary<FuzzProbe[]> {
  const { own, near, homes, httpPorts } = declaredAims(manifests, mesh);
  const namespace = homes.length
    ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...homes) }, { weight: 1, arbitrary: fc.constantFrom(...NAMESPACES) })
    : fc.constantFrom(...NAMESPACES);
  const sourceArb = fc.record({ namespace, labels: fc.constantFrom(...POD_LABELS) });
  const choices: fc.WeightedArbitrary<Aim>[] = [{ weight: 1, arbitrary: unrelatedArb.filter((a) => answerable(a, httpPorts)) }];
  if (own.length) choices.unshift({ weight: 30, arbitrary: fc.constantFrom(...own) });
  if (near.length) choices.push({ weight: 1, arbitrary: fc.constantFrom(...near) });
  const aim = fc.oneof(...choices);
  return fc.array(
    fc.record({ aim, source: sourceArb, pick: fc.nat() }).map(({ aim: a, source, pick }) => {
      // Mostly (15 in 16) from a namespace the entry is exported to, so that the entry's own rules decide.
      const ns = a.from?.length && pick % 16 !== 0 ? (a.from[pick % a.from.length] ?? source.namespace) : source.namespace;
      return {
        from: Object.keys(source.labels).length ? { namespace: ns, labels: { ...source.labels } } : ns,
        to: toUrl(a),
      };
    }),
    {
      minLength: own.length ? Math.min(minProbes, maxProbes) : 1,
      maxLength: own.length ? maxProbes : Math.min(maxProbes, PROBES_WITHOUT_OWN_AIM),
    },
  );
}
