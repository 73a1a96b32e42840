// fast-check generators of the resources that decide sidecar egress at the pinned build: ServiceEntry (hosts,
// addresses, ports with number/protocol/name/targetPort, every resolution, location, endpoints,
// workloadSelector absent/empty/matching, exportTo, labels), Sidecar (workloadSelector, egress listeners with
// port, bind, captureMode and every host form, outboundTrafficPolicy with egressProxy to an entry that exists
// and one that does not) and the mesh (mode including ALLOW_ANY_DYNAMIC_DNS, defaultServiceExportTo,
// rootNamespace, serviceEntryVisibility, DNS capture and auto-allocation in proxyMetadata).
//
// A generated resource is plausible, not always valid: `repair` (repair.ts) fixes what Istio would refuse or,
// failing that, drops that one resource. Probes are aimed at what the scenario declares (probes.ts).
import fc from 'fast-check';
import type { PolicyMode } from '../model/types.ts';
import {
  ADDRESSES,
  BINDS,
  CAPTURE_MODES,
  CUSTOM_ROOT,
  EGRESS_HOSTS,
  ENDPOINT_IPS,
  ENDPOINT_NAMES,
  EXACT_HOSTS,
  EXPORTS,
  NAMESPACES,
  PORTS,
  PROTOCOLS,
  RESOLUTIONS,
  WILDCARD_HOSTS,
} from './pools.ts';

type Obj = Record<string, unknown>;

export { CUSTOM_ROOT, NAMESPACES };

/**
 * `arb` one time in `1 + absentWeight`, else undefined. (fc.option's `freq` is the odds of the *nil* value,
 * 1 in freq: `freq: 8` set a workloadSelector on 7 entries in 8 and dropped their endpoints.)
 */
export function sometimes<T>(arb: fc.Arbitrary<T>, absentWeight: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: absentWeight, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

/** The first value `firstWeight` times as often as each of the others. */
function mostly<T>(firstWeight: number, first: T, ...others: [T, ...T[]]): fc.Arbitrary<T> {
  return fc.oneof({ weight: firstWeight, arbitrary: fc.constant(first) }, { weight: others.length, arbitrary: fc.constantFrom(...others) });
}

const portArb = fc.record({
  number: fc.constantFrom(...PORTS),
  protocol: fc.constantFrom<string>(...PROTOCOLS),
  /** Port names: usually `<proto>-<n>`; sometimes a name Istio refuses, for the admission comparison. */
  name: fc.constantFrom('std', 'std', 'std', 'plain', 'Bad_Name'),
  targetPort: sometimes(fc.constantFrom(8000, 9443), 5),
});

type RawPort = typeof portArb extends fc.Arbitrary<infer T> ? T : never;

/** A ServiceEntry as drawn, before repair. `workloadSelector`: absent (most), `{}`, or labels. */
export const rawServiceEntryArb = fc.record({
  name: fc.constantFrom('a', 'b', 'z'),
  namespace: fc.constantFrom<string>(...NAMESPACES, 'istio-system'),
  hosts: fc.uniqueArray(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...EXACT_HOSTS) }, fc.constantFrom(...WILDCARD_HOSTS)), {
    minLength: 1,
    maxLength: 2,
  }),
  // An entry without ports (it still owns its host name) one time in eight.
  ports: fc.oneof(
    { weight: 1, arbitrary: fc.constant<RawPort[]>([]) },
    { weight: 7, arbitrary: fc.uniqueArray(portArb, { minLength: 1, maxLength: 2, selector: (p) => p.number }) },
  ),
  resolution: fc.constantFrom<string>(...RESOLUTIONS),
  addresses: fc.uniqueArray(fc.constantFrom(...ADDRESSES), { maxLength: 2 }),
  endpoints: fc.uniqueArray(fc.constantFrom<string>(...ENDPOINT_IPS, ...ENDPOINT_NAMES), { maxLength: 2 }),
  /** A port override on the first endpoint, by port name. */
  endpointPort: sometimes(fc.constantFrom(7000, 7443), 4),
  exportTo: mostly(8, ...(EXPORTS as [string[], string[], ...string[][]])),
  // Absent on most entries (they keep their endpoints); empty, or labels some client Pods carry, on the rest.
  workloadSelector: sometimes(fc.constantFrom<Record<string, string>>({}, { app: 'curl' }, { app: 'db' }), 6),
  location: sometimes(fc.constantFrom('MESH_EXTERNAL', 'MESH_INTERNAL'), 1),
  /** The opt-out of address auto-allocation (ip_autoallocation.go) and a label without effect. */
  labels: fc.constantFrom<Obj | undefined>(undefined, { team: 'x' }, { 'networking.istio.io/enable-autoallocate-ip': 'false' }),
});
export type RawServiceEntry = typeof rawServiceEntryArb extends fc.Arbitrary<infer T> ? T : never;

/** The manifest as drawn: may be refused by Istio. */
export function serviceEntryManifest(g: RawServiceEntry): Obj {
  const portName = (p: RawServiceEntry['ports'][number]) =>
    p.name === 'std' ? `${(p.protocol || 'port').toLowerCase()}-${p.number}` : p.name === 'plain' ? `p${p.number}` : p.name;
  const ports = g.ports.map((p) => ({
    number: p.number,
    name: portName(p),
    ...(p.protocol ? { protocol: p.protocol } : {}),
    ...(p.targetPort ? { targetPort: p.targetPort } : {}),
  }));
  const spec: Obj = { hosts: g.hosts, ports, resolution: g.resolution };
  if (g.addresses.length) spec.addresses = g.addresses;
  if (g.endpoints.length)
    spec.endpoints = g.endpoints.map((address, i) => ({
      address,
      ...(i === 0 && g.endpointPort && ports[0] ? { ports: { [ports[0].name]: g.endpointPort } } : {}),
    }));
  if (g.exportTo.length) spec.exportTo = g.exportTo;
  if (g.workloadSelector) spec.workloadSelector = { labels: g.workloadSelector };
  if (g.location) spec.location = g.location;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: g.name, namespace: g.namespace, ...(g.labels ? { labels: g.labels } : {}) },
    spec,
  };
}

const egressListenerArb = fc.record({
  // One listener in three has no port (the catch-all).
  port: fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.record({
        number: fc.constantFrom(...PORTS),
        protocol: sometimes(fc.constantFrom('HTTP', 'TCP', 'TLS', 'HTTPS', 'GRPC'), 1),
      }),
    },
  ),
  bind: sometimes(fc.constantFrom(...BINDS), 4),
  captureMode: sometimes(fc.constantFrom(...CAPTURE_MODES), 4),
  hosts: fc.uniqueArray(mostly(3, ...EGRESS_HOSTS), { minLength: 1, maxLength: 3 }),
});

/** outboundTrafficPolicy: none, a mode, and egressProxy to a host the pools declare and to one nobody does. */
const outboundPolicyArb = fc.constantFrom<Obj | undefined>(
  undefined,
  { mode: 'REGISTRY_ONLY' },
  { mode: 'ALLOW_ANY' },
  {},
  { mode: 'ALLOW_ANY', egressProxy: { host: 'a.example.com', port: { number: 443 } } },
  { mode: 'ALLOW_ANY', egressProxy: { host: 'b.example.com', port: { number: 80 } } },
  { mode: 'ALLOW_ANY', egressProxy: { host: 'nowhere.example.net', port: { number: 8080 } } },
  { mode: 'ALLOW_ANY', egressProxy: { host: 'b.example.com', subset: 'v1', port: { number: 8080 } } },
);

export const rawSidecarArb = fc.record({
  name: fc.constantFrom('a', 'z'),
  /** `root` is whichever root namespace the mesh settings name. */
  namespace: mostly<string>(3, 'default', 'frontend', 'payments', 'root'),
  /** undefined: namespace-wide; {}: a selector with no labels; or labels a probe source may carry. */
  selector: fc.constantFrom<Record<string, string> | undefined>(undefined, { app: 'curl' }, { app: 'other' }, {}),
  egress: fc.array(egressListenerArb, { minLength: 0, maxLength: 2 }),
  outboundTrafficPolicy: outboundPolicyArb,
});
export type RawSidecar = typeof rawSidecarArb extends fc.Arbitrary<infer T> ? T : never;

export function sidecarManifest(g: RawSidecar, root: string): Obj {
  const egress = g.egress.map((e) => ({
    ...(e.port
      ? { port: { number: e.port.number, name: `egress-${e.port.number}`, ...(e.port.protocol ? { protocol: e.port.protocol } : {}) } }
      : {}),
    ...(e.bind ? { bind: e.bind } : {}),
    ...(e.captureMode ? { captureMode: e.captureMode } : {}),
    hosts: e.hosts,
  }));
  const spec: Obj = {};
  if (g.selector) spec.workloadSelector = { labels: g.selector };
  if (egress.length) spec.egress = egress;
  if (g.outboundTrafficPolicy) spec.outboundTrafficPolicy = g.outboundTrafficPolicy;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: g.name, namespace: g.namespace === 'root' ? root : g.namespace },
    spec,
  };
}

/** serviceEntryVisibility (MeshConfig field 72); sidecars honour it only with applyToSidecars. */
const VISIBILITY: (Obj | undefined)[] = [
  undefined,
  { defaultVisibility: 'NAMESPACE', applyToSidecars: true },
  { defaultVisibility: 'NONE', applyToSidecars: true },
  { defaultVisibility: 'NAMESPACE' },
];

export const meshArb = fc.record({
  policy: fc.oneof(
    { weight: 4, arbitrary: fc.constant<PolicyMode>('ALLOW_ANY') },
    { weight: 4, arbitrary: fc.constant<PolicyMode>('REGISTRY_ONLY') },
    { weight: 1, arbitrary: fc.constant<PolicyMode>('ALLOW_ANY_DYNAMIC_DNS') },
  ),
  defaultServiceExportTo: mostly<string[] | undefined>(12, undefined, ['*'], ['.'], ['frontend'], ['.', '*'], ['~']),
  rootNamespace: fc.constantFrom<string | undefined>(undefined, CUSTOM_ROOT),
  serviceEntryVisibility: mostly(6, ...(VISIBILITY as [Obj | undefined, Obj | undefined, ...(Obj | undefined)[]])),
  dnsCapture: fc.constantFrom<string | undefined>(undefined, 'true', 'false'),
  dnsAutoAllocate: fc.constantFrom<string | undefined>(undefined, undefined, 'true', 'false'),
});
export type RawMesh = typeof meshArb extends fc.Arbitrary<infer T> ? T : never;

export function meshConfigOf(m: RawMesh): Obj {
  const mc: Obj = {};
  if (m.defaultServiceExportTo) mc.defaultServiceExportTo = m.defaultServiceExportTo;
  if (m.rootNamespace) mc.rootNamespace = m.rootNamespace;
  if (m.serviceEntryVisibility) mc.serviceEntryVisibility = m.serviceEntryVisibility;
  const pm: Obj = {};
  if (m.dnsCapture) pm.ISTIO_META_DNS_CAPTURE = m.dnsCapture;
  if (m.dnsAutoAllocate) pm.ISTIO_META_DNS_AUTO_ALLOCATE = m.dnsAutoAllocate;
  if (Object.keys(pm).length) mc.defaultConfig = { proxyMetadata: pm };
  return mc;
}

/** Unique (namespace, name): the API server would refuse a second object with the same name. */
export function uniqueByName<T extends { name: string; namespace: string }>(arb: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<T[]> {
  return fc.uniqueArray(arb, { maxLength, selector: (x) => `${x.namespace}/${x.name}` });
}
