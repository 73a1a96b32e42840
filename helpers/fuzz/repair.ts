// One generated resource at a time: repaired into one Istio accepts where a small, meaning-preserving change
// does it, else dropped alone (with the reason), so a scenario never loses its other resources to one bad one.
// The repairs follow the refusals of ValidateServiceEntry / ValidateSidecar (pkg/config/validation/validation.go);
// Gateways, VirtualServices and DestinationRules are repaired in repair-routing.ts.
import { isIP } from 'node:net';
import { serviceEntryProblems, sidecarProblems } from '../istio/validate.ts';
import { DFP_PROTOCOLS } from './pools.ts';
import { ROUTING_KINDS, repairRoutingSpec } from './repair-routing.ts';

type Obj = Record<string, unknown>;

export type Repaired = { ok: true; manifest: Obj; repairs: string[] } | { ok: false; why: string };

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HTTP_OR_TLS = new Set(['HTTP', 'HTTP_PROXY', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'TLS']);
const isWildcard = (h: string) => h.startsWith('*');

function repairServiceEntrySpec(spec: Obj, repairs: string[]): void {
  const hosts = spec.hosts as string[];
  let ports = (spec.ports as Obj[] | undefined) ?? [];
  // Port names Istio refuses become `p<number>`, and endpoint port maps follow the rename.
  const renamed = new Map<string, string>();
  ports = ports.map((p) => {
    const name = String(p.name ?? '');
    if (DNS1123_LABEL.test(name)) return p;
    renamed.set(name, `p${String(p.number)}`);
    repairs.push(`port name ${name} → p${String(p.number)}`);
    return { ...p, name: `p${String(p.number)}` };
  });
  spec.ports = ports;
  let endpoints = (spec.endpoints as Obj[] | undefined) ?? [];
  endpoints = endpoints.map((e) => {
    const ep = e.ports as Record<string, number> | undefined;
    if (!ep) return e;
    return { ...e, ports: Object.fromEntries(Object.entries(ep).map(([k, v]) => [renamed.get(k) ?? k, v])) };
  });
  const drop = (what: string) => {
    if (endpoints.length) repairs.push(what);
    endpoints = [];
  };
  if (spec.workloadSelector) drop('endpoints dropped (workloadSelector set)');
  let resolution = String(spec.resolution ?? 'NONE');
  if (resolution === 'DYNAMIC_DNS') {
    const wild = hosts.filter(isWildcard);
    if (wild.length === 0) {
      resolution = 'DNS';
      repairs.push('resolution DYNAMIC_DNS → DNS (no wildcard host)');
    } else {
      if (wild.length !== hosts.length) repairs.push('exact hosts dropped (DYNAMIC_DNS)');
      spec.hosts = wild;
      if (spec.addresses) repairs.push('addresses dropped (DYNAMIC_DNS)');
      delete spec.addresses;
      drop('endpoints dropped (DYNAMIC_DNS)');
      spec.ports = ports.map((p) =>
        (DFP_PROTOCOLS as readonly string[]).includes(String(p.protocol ?? '').toUpperCase()) ? p : { ...p, protocol: 'HTTP' },
      );
    }
  }
  if (resolution === 'NONE') drop('endpoints dropped (resolution NONE)');
  const addresses = (spec.addresses as string[] | undefined) ?? [];
  if (resolution !== 'NONE' && resolution !== 'STATIC' && addresses.some((a) => a.includes('/'))) {
    const kept = addresses.filter((a) => !a.includes('/'));
    repairs.push(`CIDR addresses dropped (resolution ${resolution})`);
    if (kept.length) spec.addresses = kept;
    else delete spec.addresses;
  }
  if (resolution === 'STATIC' && endpoints.some((e) => isIP(String(e.address)) === 0)) {
    repairs.push('non-IP endpoints dropped (STATIC)');
    endpoints = endpoints.filter((e) => isIP(String(e.address)) !== 0);
  }
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && endpoints.length === 0 && (spec.hosts as string[]).some(isWildcard)) {
    resolution = 'NONE';
    repairs.push(`resolution → NONE (wildcard host, no endpoints)`);
  }
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
    endpoints = endpoints.slice(0, 1);
    repairs.push('one endpoint kept (DNS_ROUND_ROBIN)');
  }
  const cur = spec.hosts as string[];
  const opaque = (spec.ports as Obj[]).some((p) => !HTTP_OR_TLS.has(String(p.protocol ?? '').toUpperCase()));
  if (resolution !== 'NONE' && cur.length > 1 && opaque) {
    spec.hosts = cur.slice(0, 1);
    repairs.push('one host kept (non-HTTP port, resolution not NONE)');
  }
  spec.resolution = resolution;
  if (endpoints.length) spec.endpoints = endpoints;
  else delete spec.endpoints;
}

function repairSidecarSpec(spec: Obj, repairs: string[]): void {
  let egress = (spec.egress as Obj[] | undefined) ?? [];
  // One catch-all listener, last; one listener per port.
  const seen = new Set<unknown>();
  const withPort = egress.filter((e) => {
    const n = (e.port as Obj | undefined)?.number;
    if (n === undefined || seen.has(n)) return false;
    seen.add(n);
    return true;
  });
  const catchAll = egress.find((e) => !e.port);
  const next = catchAll ? [...withPort, catchAll] : withPort;
  if (next.length !== egress.length || next.some((e, i) => e !== egress[i])) repairs.push('egress listeners reordered or deduplicated');
  egress = next;
  if (egress.length) spec.egress = egress;
  else delete spec.egress;
  if (!spec.egress && !spec.outboundTrafficPolicy) {
    spec.egress = [{ hosts: ['./*'] }];
    repairs.push('empty Sidecar given egress ./*');
  }
}

/** Repairs a copy of the manifest; returns it when Istio accepts it, else why it is dropped. */
export function repair(manifest: Obj): Repaired {
  const m = structuredClone(manifest);
  const spec = (m.spec ?? {}) as Obj;
  const ns = String((m.metadata as Obj | undefined)?.namespace ?? 'default');
  const repairs: string[] = [];
  let problems: string[];
  if (m.kind === 'ServiceEntry') {
    repairServiceEntrySpec(spec, repairs);
    problems = serviceEntryProblems(spec, ns);
  } else if (m.kind === 'Sidecar') {
    repairSidecarSpec(spec, repairs);
    problems = sidecarProblems(spec);
  } else if (ROUTING_KINDS.includes(String(m.kind))) {
    problems = repairRoutingSpec(String(m.kind), spec, ns, String((m.metadata as Obj | undefined)?.name ?? ''), repairs);
  } else return { ok: false, why: `kind ${String(m.kind)} is not generated` };
  const [first] = problems;
  if (first) return { ok: false, why: `${String(m.kind)}: ${first}` };
  return { ok: true, manifest: m, repairs };
}
