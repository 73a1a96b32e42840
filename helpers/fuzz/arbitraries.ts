// fast-check generators of egress scenarios over the fields that decide egress: ServiceEntry
// hosts, ports and protocols, resolution, addresses, endpoints, exportTo, workloadSelector, location,
// labels and creation order; Sidecars (namespace-wide, selected, root), their egress hosts and ports and
// outboundTrafficPolicy; mesh settings; probes over http, https and tcp to names and IP literals.
//
// Values come from small pools so that collisions (same host, same port, overlapping ranges) are common:
// those are where the rules interact. Each pool lists its simplest value first, because fast-check shrinks
// constantFrom towards the first value. The generator makes plausible resources, not only valid ones;
// admission (scenario.ts admit) drops what Istio would reject, and the run counts those.
import fc from 'fast-check';
import type { PolicyMode } from '../model/types.ts';
import type { FuzzProbe, FuzzScenario } from './scenario.ts';

type Obj = Record<string, unknown>;

export const NAMESPACES = ['default', 'frontend'] as const;
/** A custom root namespace the mesh settings may name (the lane creates namespaces on demand). */
export const CUSTOM_ROOT = 'mesh-root';

const HOSTS = ['a.example.com', 'b.example.com', '*.example.com', 'x.wild.example.com', '*.wild.example.com', 'db.example.org'] as const;
/** Concrete names a probe dials: every generated host, hosts under the wildcards, and one nobody declares. */
const PROBE_HOSTS = [
  'a.example.com',
  'b.example.com',
  'x.wild.example.com',
  'y.wild.example.com',
  'c.example.com',
  'db.example.org',
  'unlisted.example.net',
] as const;
const PORTS = [80, 443, 5432, 8080] as const;
/**
 * Every protocol Istio's admission accepts on a ServiceEntry port (pkg/config/protocol Parse), and none, except
 * HTTP_PROXY: its port gets an HTTP-only listener, so a TLS or raw TCP probe there ends in an HTTP codec error,
 * which neither the oracle nor the lane's evaluator turns into a verdict (found by fuzzing, seed 11).
 */
const PROTOCOLS = ['TCP', 'HTTP', 'HTTPS', 'TLS', '', 'HTTP2', 'GRPC', 'GRPC-WEB', 'MONGO', 'REDIS', 'MYSQL', 'UDP'] as const;
const RESOLUTIONS = ['NONE', 'DNS', 'STATIC', 'DNS_ROUND_ROBIN'] as const;
/** Addresses: single IPs, /32, and CIDRs of several widths that nest and overlap. */
const ADDRESSES = [
  '192.0.2.10',
  '192.0.2.0/24',
  '192.0.2.0/28',
  '192.0.2.10/32',
  '198.51.100.0/24',
  '198.51.0.0/16',
  '198.51.100.7',
] as const;
/** IP literals a probe dials: inside and outside every range above. */
const PROBE_IPS = ['192.0.2.10', '192.0.2.5', '192.0.2.200', '198.51.100.7', '198.51.7.1', '100.64.0.1'] as const;
const ENDPOINTS = ['192.0.2.50', '10.1.2.3', 'backend.example.com'] as const;
const EXPORTS: string[][] = [[], ['*'], ['.'], ['~'], ['default'], ['frontend'], ['.', 'frontend'], ['default', 'frontend']];
const LABELS = [{}, { app: 'curl' }, { app: 'other' }] as const;
const SE_NAMES = ['a', 'b', 'z'] as const;
const SIDECAR_NAMES = ['a', 'z'] as const;

/** Egress hosts a Sidecar imports: own namespace, all, none, named namespaces, a host, exclusions. */
const EGRESS_HOSTS = [
  '*/*',
  './*',
  '~/*',
  'default/*',
  'frontend/*',
  'istio-system/*',
  '*/*.example.com',
  '*/a.example.com',
  './a.example.com',
  'frontend/*.wild.example.com',
  '*/x.wild.example.com',
  '~default/*',
  '~frontend/a.example.com',
  '~/a.example.com',
] as const;

const seArb = fc.record({
  name: fc.constantFrom(...SE_NAMES),
  namespace: fc.constantFrom<string>(...NAMESPACES, 'istio-system'),
  hosts: fc.uniqueArray(fc.constantFrom(...HOSTS), { minLength: 1, maxLength: 2 }),
  ports: fc.uniqueArray(fc.record({ number: fc.constantFrom(...PORTS), protocol: fc.constantFrom(...PROTOCOLS) }), {
    minLength: 0,
    maxLength: 2,
    selector: (p) => p.number,
  }),
  resolution: fc.constantFrom(...RESOLUTIONS),
  addresses: fc.uniqueArray(fc.constantFrom(...ADDRESSES), { maxLength: 2 }),
  endpoints: fc.uniqueArray(fc.constantFrom(...ENDPOINTS), { maxLength: 2 }),
  exportTo: fc.constantFrom(...EXPORTS),
  workloadSelector: fc.option(fc.constantFrom({ app: 'curl' }, { app: 'db' }), { nil: undefined, freq: 8 }),
  location: fc.option(fc.constantFrom('MESH_INTERNAL', 'MESH_EXTERNAL'), { nil: undefined }),
  /** The opt-out of address auto-allocation (ip_autoallocation.go) and a label without effect. */
  labels: fc.constantFrom<Obj | undefined>(undefined, { team: 'x' }, { 'networking.istio.io/enable-autoallocate-ip': 'false' }),
});

export type GeneratedServiceEntry = typeof seArb extends fc.Arbitrary<infer T> ? T : never;

function seManifest(g: GeneratedServiceEntry): Obj {
  const spec: Obj = {
    hosts: g.hosts,
    ports: g.ports.map((p) => ({ number: p.number, name: `p${p.number}`, ...(p.protocol ? { protocol: p.protocol } : {}) })),
    resolution: g.resolution,
  };
  if (g.addresses.length) spec.addresses = g.addresses;
  if (g.endpoints.length && !g.workloadSelector) spec.endpoints = g.endpoints.map((address) => ({ address }));
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
  port: fc.option(
    fc.record({
      number: fc.constantFrom(...PORTS),
      protocol: fc.option(fc.constantFrom('HTTP', 'TCP', 'TLS', 'HTTPS'), { nil: undefined }),
    }),
    { nil: undefined, freq: 3 },
  ),
  hosts: fc.uniqueArray(fc.constantFrom(...EGRESS_HOSTS), { minLength: 1, maxLength: 3 }),
});

const outboundPolicyArb = fc.constantFrom<Obj | undefined>(
  undefined,
  { mode: 'REGISTRY_ONLY' },
  { mode: 'ALLOW_ANY' },
  {},
  { mode: 'ALLOW_ANY', egressProxy: { host: 'a.example.com', port: { number: 443 } } },
  { mode: 'ALLOW_ANY', egressProxy: { host: 'b.example.com', subset: 'v1', port: { number: 8080 } } },
);

const sidecarArb = fc.record({
  name: fc.constantFrom(...SIDECAR_NAMES),
  /** `root` is whichever root namespace the mesh settings name. */
  namespace: fc.constantFrom<string>('default', 'frontend', 'root'),
  /** undefined: namespace-wide; {}: a selector with no labels; or labels a probe may carry. */
  selector: fc.constantFrom<Record<string, string> | undefined>(undefined, { app: 'curl' }, { app: 'other' }, {}),
  egress: fc.array(egressListenerArb, { minLength: 0, maxLength: 2 }),
  outboundTrafficPolicy: outboundPolicyArb,
});

export type GeneratedSidecar = typeof sidecarArb extends fc.Arbitrary<infer T> ? T : never;

function sidecarManifest(g: GeneratedSidecar, root: string): Obj {
  // The port-less egress listener must come last (admission): keep the generated order otherwise.
  const egress = [...g.egress.filter((e) => e.port), ...g.egress.filter((e) => !e.port)].map((e) => ({
    ...(e.port
      ? { port: { number: e.port.number, name: `e${e.port.number}`, ...(e.port.protocol ? { protocol: e.port.protocol } : {}) } }
      : {}),
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

const meshArb = fc.record({
  policy: fc.constantFrom<PolicyMode>('ALLOW_ANY', 'REGISTRY_ONLY'),
  defaultServiceExportTo: fc.constantFrom<string[] | undefined>(undefined, ['*'], ['.'], ['frontend'], ['.', '*'], ['~']),
  rootNamespace: fc.constantFrom<string | undefined>(undefined, CUSTOM_ROOT),
  dnsCapture: fc.constantFrom<string | undefined>(undefined, 'true', 'false'),
});

const probeArb: fc.Arbitrary<FuzzProbe> = fc
  .record({
    namespace: fc.constantFrom(...NAMESPACES),
    labels: fc.constantFrom(...LABELS),
    scheme: fc.constantFrom('tcp', 'http', 'https'),
    host: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PROBE_HOSTS) }, { weight: 1, arbitrary: fc.constantFrom(...PROBE_IPS) }),
    port: fc.constantFrom(...PORTS),
  })
  .map(({ namespace, labels, scheme, host, port }) => ({
    from: Object.keys(labels).length ? { namespace, labels: { ...labels } } : namespace,
    to: scheme === 'tcp' ? `tcp://${host}:${port}` : `${scheme}://${host}:${port}/`,
  }));

/** Unique (kind, namespace, name): the API server would refuse a second object with the same name. */
function uniqueByName<T extends { name: string; namespace: string }>(arb: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<T[]> {
  return fc.uniqueArray(arb, { maxLength, selector: (x) => `${x.namespace}/${x.name}` });
}

export interface ScenarioArbOptions {
  maxServiceEntries?: number;
  maxSidecars?: number;
  maxProbes?: number;
}

export function scenarioArb(opts: ScenarioArbOptions = {}): fc.Arbitrary<FuzzScenario> {
  return fc
    .record({
      mesh: meshArb,
      serviceEntries: uniqueByName(seArb, opts.maxServiceEntries ?? 3),
      sidecars: uniqueByName(sidecarArb, opts.maxSidecars ?? 2),
      probes: fc.array(probeArb, { minLength: 1, maxLength: opts.maxProbes ?? 6 }),
    })
    .map(({ mesh, serviceEntries, sidecars, probes }) => {
      const root = mesh.rootNamespace ?? 'istio-system';
      const meshConfig: Obj = {};
      if (mesh.defaultServiceExportTo) meshConfig.defaultServiceExportTo = mesh.defaultServiceExportTo;
      if (mesh.rootNamespace) meshConfig.rootNamespace = mesh.rootNamespace;
      if (mesh.dnsCapture) meshConfig.defaultConfig = { proxyMetadata: { ISTIO_META_DNS_CAPTURE: mesh.dnsCapture } };
      const scs = sidecars.map((s) => sidecarManifest(s, root));
      // Two root Sidecars can collapse onto one name once `root` is resolved: keep the first.
      const seen = new Set<string>();
      const uniqueScs = scs.filter((m) => {
        const md = m.metadata as { name: string; namespace: string };
        const k = `${md.namespace}/${md.name}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      return { policy: mesh.policy, meshConfig, manifests: [...serviceEntries.map(seManifest), ...uniqueScs], probes };
    });
}
