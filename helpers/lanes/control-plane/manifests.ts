// Manifests and mesh config the control-plane lane writes for istiod.
// A resource's own manifest (as loaded) is preferred; the typed fields are the fallback, so hand-built
// ResourceSets (tests, labs) work too.
import type { MeshSettings, PolicyMode, ServiceEntry, Sidecar } from '../../model/types.ts';

export const GENERATION_ANNOTATION = 'egress-conformance.io/generation';

type Obj = Record<string, unknown>;

export function renderServiceEntry(se: ServiceEntry): Obj {
  const spec: Obj = {
    hosts: se.hosts,
    ports: se.ports.map((p) => ({
      number: p.number,
      name: p.name,
      ...(p.protocol ? { protocol: p.protocol } : {}),
      ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
    })),
    location: se.location,
    resolution: se.resolution,
  };
  if (se.addresses.length > 0) spec.addresses = se.addresses;
  if (se.endpoints.length > 0) spec.endpoints = se.endpoints.map((e) => ({ address: e.address, ...(e.ports ? { ports: e.ports } : {}) }));
  if (se.exportTo.length > 0) spec.exportTo = se.exportTo;
  if (se.workloadSelector) spec.workloadSelector = { labels: se.workloadSelector };
  return { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: se.name, namespace: se.namespace }, spec };
}

export function renderSidecar(sc: Sidecar): Obj {
  const spec: Obj = {
    egress: sc.egress.map((e) => ({
      ...(e.port ? { port: e.port } : {}),
      ...(e.bind ? { bind: e.bind } : {}),
      ...(e.captureMode ? { captureMode: e.captureMode } : {}),
      hosts: e.hosts,
    })),
  };
  if (sc.workloadSelector) spec.workloadSelector = { labels: sc.workloadSelector };
  if (sc.outboundTrafficPolicy) spec.outboundTrafficPolicy = { mode: sc.outboundTrafficPolicy };
  return { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: sc.name, namespace: sc.namespace }, spec };
}

/**
 * The manifest to write: the original object when the loader kept it (metadata.namespace filled in,
 * status dropped, a generation annotation added so the lane can tell when istiod has read it).
 */
export function manifestFor(res: ServiceEntry | Sidecar, generation: number): Obj {
  const base = (res.manifest && Object.keys(res.manifest).length > 0)
    ? structuredClone(res.manifest)
    : res.kind === 'ServiceEntry' ? renderServiceEntry(res) : renderSidecar(res);
  delete base.status;
  const meta = { ...((base.metadata as Obj | undefined) ?? {}) };
  meta.name = res.name;
  meta.namespace = res.namespace;
  meta.annotations = { ...((meta.annotations as Obj | undefined) ?? {}), [GENERATION_ANNOTATION]: String(generation) };
  for (const k of ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields', 'generation']) delete meta[k];
  base.metadata = meta;
  return base;
}

/**
 * connectTimeout carries the apply generation. Every cluster istiod generates, PassthroughCluster included,
 * copies the mesh connect timeout, so a fresh ADS fetch shows exactly which mesh file istiod has pushed —
 * a deterministic "the change is live" signal instead of a sleep. istiod only accepts millisecond precision
 * ("invalid connect timeout: only durations to ms precision are supported", pkg/config/validation), so the
 * generation goes into 10–59 s plus milliseconds: unique for 50 000 applies, and a connect timeout change
 * nothing a probe can see.
 */
const MARKER_SPAN = 50_000;

export function markerMillis(generation: number): number {
  return 10_000 + (generation % MARKER_SPAN);
}

export function markerTimeout(generation: number): string {
  const ms = markerMillis(generation);
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`;
}

/** The marker (in ms) a cluster carries, from its decoded connect_timeout. */
export function markerOf(cluster: Record<string, any> | undefined): number | undefined {
  const ct = cluster?.connect_timeout;
  if (!ct) return undefined;
  return Number(ct.seconds ?? 0) * 1000 + Math.round(Number(ct.nanos ?? 0) / 1e6);
}

/**
 * The mesh config file for a scenario: the IstioOperator's meshConfig as written (when the loader kept it),
 * the typed settings on top (they come from the same place, and hand-built sets only have those), the
 * scenario policy, and the generation marker in connectTimeout (a user connectTimeout is overridden).
 */
export function meshConfigFor(policy: PolicyMode, mesh: Partial<MeshSettings>, generation: number): Obj {
  const out: Obj = structuredClone((mesh.meshConfig as Obj | undefined) ?? {});
  out.outboundTrafficPolicy = { ...((out.outboundTrafficPolicy as Obj | undefined) ?? {}), mode: policy };
  out.connectTimeout = markerTimeout(generation);
  if (mesh.defaultServiceExportTo !== undefined) out.defaultServiceExportTo = mesh.defaultServiceExportTo;
  if (mesh.rootNamespace !== undefined) out.rootNamespace = mesh.rootNamespace;
  if (mesh.dnsCapture !== undefined) {
    const dc = { ...((out.defaultConfig as Obj | undefined) ?? {}) };
    dc.proxyMetadata = { ...((dc.proxyMetadata as Obj | undefined) ?? {}), ISTIO_META_DNS_CAPTURE: String(mesh.dnsCapture) };
    out.defaultConfig = dc;
  }
  return out;
}
