// Probes aimed at a scenario's routing (routing-arbitraries.ts): the host a VirtualService or DestinationRule
// names, on the ports its routes, port-level settings and the host's ServiceEntries give, over HTTP and HTTPS,
// from a client namespace that sees the VirtualService or DestinationRule and from one that does not (both
// seeing the entry, so that the routing, not the entry's visibility, is what differs).
import fc from 'fast-check';
import { EGRESS_GATEWAY } from '../oracle/gateway.ts';
import { answerable, declaredAims, exportedTo, type MeshExport } from './probes.ts';
import { NAMESPACES } from './pools.ts';
import type { FuzzProbe } from './scenario.ts';

type Obj = Record<string, unknown>;
const HTTP_ONLY = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);
const ROUTABLE = new Set([...HTTP_ONLY, 'TLS', 'HTTPS', '']);

interface RoutedTarget {
  host: string;
  port: number;
  /** Client namespaces that see the host's entry and the routing resource, and those that see the entry only. */
  seeing: string[];
  unseeing: string[];
  /** A path a route matches on (`/v2`), besides `/`. */
  path?: string;
}

/** Client namespaces a VirtualService or DestinationRule is exported to (unset: everywhere). */
export function routingSeenFrom(m: Obj): string[] {
  const ns = String((m.metadata as Obj).namespace);
  const to = ((m.spec as Obj).exportTo as string[] | undefined) ?? ['*'];
  if (to.includes('*')) return [...NAMESPACES];
  return NAMESPACES.filter((n) => to.includes(n) || (n === ns && to.includes('.')));
}

/**
 * The namespaces without a Sidecar of their own, when there are any: a Sidecar narrows what its namespace
 * imports, which the base probes visit; here the routing is the point.
 */
function preferUnnarrowed(list: string[], narrowed: ReadonlySet<string>): string[] {
  const open = list.filter((n) => !narrowed.has(n));
  return open.length ? open : list;
}

/**
 * Ports a routing resource names for the host: match ports of routes the sidecars use (bound to `mesh`),
 * destination ports of routes back to the host itself, port-level settings. (A destination port of another
 * host, such as the gateway Service's, is that host's.)
 */
function portsNamed(spec: Obj, host: string): number[] {
  const out: number[] = [];
  const mesh = (gws: unknown) => !Array.isArray(gws) || gws.length === 0 || gws.includes('mesh');
  for (const kind of ['http', 'tls', 'tcp'])
    for (const r of (spec[kind] as Obj[] | undefined) ?? []) {
      const matches = (r.match as Obj[] | undefined) ?? [];
      for (const m of matches) if (typeof m.port === 'number' && mesh(m.gateways ?? spec.gateways)) out.push(m.port);
      for (const d of (r.route as Obj[] | undefined) ?? []) {
        const dest = d.destination as Obj | undefined;
        const n = (dest?.port as Obj | undefined)?.number;
        if (typeof n === 'number' && dest?.host === host && matches.every((m) => mesh(m.gateways ?? spec.gateways))) out.push(n);
      }
    }
  const policy = spec.trafficPolicy as Obj | undefined;
  for (const p of (policy?.portLevelSettings as Obj[] | undefined) ?? []) {
    const n = (p.port as Obj | undefined)?.number;
    if (typeof n === 'number') out.push(n);
  }
  return out;
}

function uriPrefix(spec: Obj): string | undefined {
  for (const r of (spec.http as Obj[] | undefined) ?? [])
    for (const m of (r.match as Obj[] | undefined) ?? []) {
      const p = (m.uri as Obj | undefined)?.prefix;
      if (typeof p === 'string') return p;
    }
  return undefined;
}

/** Every (host, port) a routing resource routes, among hosts some ServiceEntry declares. */
export function routedTargets(routing: Obj[], entries: Obj[], mesh: MeshExport = {}): RoutedTarget[] {
  const out: RoutedTarget[] = [];
  const narrowed = new Set(entries.filter((m) => m.kind === 'Sidecar').map((m) => String((m.metadata as Obj).namespace)));
  const seenKey = new Set<string>();
  for (const m of routing) {
    if (m.kind === 'Gateway') continue;
    const spec = (m.spec ?? {}) as Obj;
    const hosts = m.kind === 'VirtualService' ? ((spec.hosts as string[] | undefined) ?? []) : [String(spec.host)];
    const seen = routingSeenFrom(m);
    for (const host of hosts) {
      if (host === EGRESS_GATEWAY.host) continue;
      const owners = entries.filter((e) => e.kind === 'ServiceEntry' && ((e.spec as Obj).hosts as string[]).includes(host));
      if (owners.length === 0) continue;
      const visible = [
        ...new Set(
          owners.flatMap((e) => exportedTo(String((e.metadata as Obj).namespace), (e.spec as Obj).exportTo as string[] | undefined, mesh)),
        ),
      ];
      // The entries' HTTP and TLS ports (any, when they have none), those the routing names first: a port no
      // entry declares is no route of the host's, and the base probes already visit the catch-alls.
      // With addresses, a port other than HTTP listens on those addresses only (probes.ts declaredAims): by
      // name, a call to it finds no listener, and the routing is never asked.
      const declared = owners.flatMap((e) =>
        (((e.spec as Obj).ports as Obj[] | undefined) ?? []).filter(
          (p) => !(e.spec as Obj).addresses || HTTP_ONLY.has(String(p.protocol ?? '').toUpperCase()),
        ),
      );
      const web = declared.filter((p) => ROUTABLE.has(String(p.protocol ?? '').toUpperCase()));
      const ports = (web.length ? web : declared).map((p) => Number(p.number));
      const named = ports.filter((p) => portsNamed(spec, host).includes(p));
      const path = uriPrefix(spec);
      for (const port of new Set(named.length ? named : ports)) {
        const key = `${m.kind}/${String((m.metadata as Obj).namespace)}/${host}:${port}`;
        if (seenKey.has(key)) continue;
        seenKey.add(key);
        out.push({
          host,
          port,
          seeing: preferUnnarrowed(
            visible.filter((n) => seen.includes(n)),
            narrowed,
          ),
          unseeing: preferUnnarrowed(
            visible.filter((n) => !seen.includes(n)),
            narrowed,
          ),
          ...(path ? { path: `${path}/x` } : {}),
        });
      }
    }
  }
  return out;
}

/**
 * Up to two routed (host, port)s, each probed over HTTP and HTTPS from a namespace that sees the routing and
 * over one of them from a namespace that does not. HTTPS to an HTTP-only port is left out: a codec error no
 * side turns into a verdict (probes.ts answerable); port 80 counts as HTTP-only, the install's gateway Service
 * putting an HTTP listener on 0.0.0.0_80 (oracle/gateway.ts installedServiceEntries).
 */
export function routedProbesArb(routing: Obj[], entries: Obj[], mesh: MeshExport = {}): fc.Arbitrary<FuzzProbe[]> {
  const targets = routedTargets(routing, entries, mesh).filter((t) => t.seeing.length + t.unseeing.length > 0);
  if (targets.length === 0) return fc.constant([]);
  const httpPorts = new Set([...declaredAims(entries, mesh).httpPorts, 80]);
  const url = (t: RoutedTarget, scheme: 'http' | 'https', path = '/') => `${scheme}://${t.host}:${t.port}${path}`;
  const one = (t: RoutedTarget, pick: number): FuzzProbe[] => {
    const https = answerable({ host: t.host, port: t.port, scheme: 'https' }, httpPorts);
    const calls = [url(t, 'http', pick % 2 && t.path ? t.path : '/'), ...(https ? [url(t, 'https')] : [])];
    const out: FuzzProbe[] = [];
    const from = (list: string[]) => list[pick % list.length]!;
    if (t.seeing.length) for (const to of calls) out.push({ from: from(t.seeing), to });
    if (t.unseeing.length) out.push({ from: from(t.unseeing), to: calls[pick % calls.length]! });
    return out;
  };
  return fc
    .tuple(fc.shuffledSubarray(targets, { minLength: 1, maxLength: Math.min(2, targets.length) }), fc.nat(11))
    .map(([chosen, pick]) => chosen.flatMap((t) => one(t, pick)));
}
