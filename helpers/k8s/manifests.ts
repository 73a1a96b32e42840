// The Kubernetes objects a run creates, as plain data, the same for every lane: the IstioOperator of a
// policy with a scenario's meshConfig merged in, the client namespaces, the client Pods (one per
// namespace and distinct label set) and a scenario's ServiceEntries and Sidecars. Nothing here does I/O
// beyond reading the fixtures.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { MeshSettings, PolicyMode, ProbeSource, ResourceSet, ServiceEntry, Sidecar } from '../model/types.ts';
import type { K8sObject } from './client.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = join(REPO_ROOT, 'fixtures');

/** Every object a run creates carries this label with the run id, so cleanup touches only its own. */
export const RUN_LABEL = 'egress-conformance.io/run';
const MANAGED_LABEL = 'egress-conformance.io/managed';
/** Set on scenario objects with the apply generation, so a lane can tell when istiod has read them. */
export const GENERATION_ANNOTATION = 'egress-conformance.io/generation';

export const CLIENT_POD = 'egress-client';
export const CONTROL_NAMESPACE = 'egress-control';

export function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; anything else (lists included) is replaced, as Helm values merge. */
export function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : structuredClone(v);
  return out;
}

/**
 * The IstioOperator a scenario runs under: fixtures/istio/<POLICY>.yaml with the scenario's meshConfig
 * merged in. The run's policy wins over a mode the scenario's own IstioOperator sets, because every
 * scenario runs under each policy in turn.
 */
export function istioOperatorFor(policy: PolicyMode, scenarioMeshConfig: Obj = {}): K8sObject {
  const base = parseYaml(readFileSync(join(FIXTURES, 'istio', `${policy}.yaml`), 'utf8')) as K8sObject & { spec: Obj };
  const merged = deepMerge((base.spec.meshConfig as Obj | undefined) ?? {}, scenarioMeshConfig);
  merged.outboundTrafficPolicy = { ...((merged.outboundTrafficPolicy as Obj | undefined) ?? {}), mode: policy };
  return { ...base, spec: { ...base.spec, meshConfig: merged } };
}

/**
 * A scenario's meshConfig: as its IstioOperator wrote it, with the typed settings written over it (they
 * were read from the same place; hand-built resource sets have only those).
 */
export function meshConfigOf(mesh: Partial<MeshSettings>): Obj {
  const out: Obj = structuredClone((mesh.meshConfig as Obj | undefined) ?? {});
  if (mesh.defaultServiceExportTo !== undefined) out.defaultServiceExportTo = mesh.defaultServiceExportTo;
  if (mesh.rootNamespace !== undefined) out.rootNamespace = mesh.rootNamespace;
  if (mesh.dnsCapture !== undefined) {
    const dc = { ...((out.defaultConfig as Obj | undefined) ?? {}) };
    const pm = (dc.proxyMetadata as Obj | undefined) ?? {};
    // Kept as written when the file had it (any spelling istiod accepts); typed-only sets get "true"/"false".
    if (pm.ISTIO_META_DNS_CAPTURE === undefined) dc.proxyMetadata = { ...pm, ISTIO_META_DNS_CAPTURE: String(mesh.dnsCapture) };
    out.defaultConfig = dc;
  }
  return out;
}

export interface NamespaceOptions {
  /** Label the client namespaces for sidecar injection (the kind lane; no injector answers on a bare API server). */
  inject: boolean;
  runId: string;
}

/** The client namespaces (fixtures/workloads/namespaces.yaml), plus any other a probe or resource names. */
export function namespaceObjects(extra: string[], opts: NamespaceOptions): K8sObject[] {
  const fixed = parseAllDocuments(readFileSync(join(FIXTURES, 'workloads', 'namespaces.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
  const names = new Set(fixed.map((n) => n.metadata.name));
  const out = fixed.map((n) => withInjection(n, opts));
  for (const ns of extra) {
    if (names.has(ns) || ns === 'istio-system' || ns === 'kube-system') continue;
    names.add(ns);
    out.push(
      withInjection(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled', [MANAGED_LABEL]: 'true' } } },
        opts,
      ),
    );
  }
  return out;
}

function withInjection(ns: K8sObject, opts: NamespaceOptions): K8sObject {
  const labels = { ...(ns.metadata.labels ?? {}) };
  if (!opts.inject && labels['istio-injection'] === 'enabled') delete labels['istio-injection'];
  if (ns.metadata.name !== 'default') labels[RUN_LABEL] = opts.runId;
  return { ...ns, metadata: { ...ns.metadata, labels } };
}

export interface ClientSpec {
  namespace: string;
  name: string;
  labels: Record<string, string>;
}

/** The client Pod a probe source runs in: `egress-client`, or `egress-client-<hash>` for a label set. */
export function clientFor(source: ProbeSource): ClientSpec {
  const labels = source.labels ?? {};
  const keys = Object.keys(labels).sort();
  const name = keys.length === 0 ? CLIENT_POD : `${CLIENT_POD}-${shortHash(JSON.stringify(keys.map((k) => [k, labels[k]])))}`;
  return { namespace: source.namespace, name, labels };
}

export interface ClientImages {
  curl: string;
  postgres: string;
}

/** fixtures/workloads/client.yaml with the name, namespace, extra labels, run label and pinned images filled in. */
export function clientPodManifest(client: ClientSpec, images: ClientImages, runId: string): K8sObject {
  const pod = parseYaml(readFileSync(join(FIXTURES, 'workloads', 'client.yaml'), 'utf8')) as K8sObject & {
    spec: { containers: { name: string; image: string }[] };
  };
  pod.metadata.name = client.name;
  pod.metadata.namespace = client.namespace;
  pod.metadata.labels = { ...pod.metadata.labels, ...client.labels, [RUN_LABEL]: runId };
  for (const c of pod.spec.containers) {
    if (c.name === 'curl') c.image = images.curl;
    if (c.name === 'psql') c.image = images.postgres;
  }
  return pod;
}

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
  if (sc.outboundTrafficPolicy) {
    spec.outboundTrafficPolicy = {
      mode: sc.outboundTrafficPolicy,
      ...(sc.egressProxy ? { egressProxy: { host: sc.egressProxy.host, port: { number: sc.egressProxy.port } } } : {}),
    };
  }
  return { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: sc.name, namespace: sc.namespace }, spec };
}

/**
 * A scenario's ServiceEntries and Sidecars as applied: the manifest as the user wrote it (rendered from
 * the typed fields for hand-built sets), namespace filled in, server-set fields and status dropped,
 * labelled with the run and annotated with the generation.
 */
/**
 * The creationTimestamp a scenario's manifest declared (a `kubectl get -o yaml` dump, a fixture that orders two
 * entries): Istio breaks ties between configs by creation time, so the sync creates objects in this order.
 */
export const DECLARED_CREATION_ANNOTATION = 'egress-conformance.io/declared-creation';

export function scenarioObjects(resources: ResourceSet, runId: string, generation: number): K8sObject[] {
  // Gateways, VirtualServices and DestinationRules go after the entries they name, as a user applies them.
  return [...resources.serviceEntries, ...resources.sidecars, ...(resources.routing ?? [])].map((r) => {
    const base: Obj =
      r.manifest && Object.keys(r.manifest).length > 0
        ? (structuredClone(r.manifest) as Obj)
        : r.kind === 'ServiceEntry'
          ? renderServiceEntry(r)
          : r.kind === 'Sidecar'
            ? renderSidecar(r)
            : { apiVersion: 'networking.istio.io/v1', kind: r.kind, metadata: {}, spec: r.spec };
    delete base.status;
    const meta = { ...((base.metadata as Obj | undefined) ?? {}) };
    const declared = meta.creationTimestamp instanceof Date ? meta.creationTimestamp.toISOString() : meta.creationTimestamp;
    for (const k of ['resourceVersion', 'uid', 'creationTimestamp', 'managedFields', 'generation', 'selfLink']) delete meta[k];
    meta.name = r.name;
    meta.namespace = r.namespace;
    meta.labels = { ...((meta.labels as Obj | undefined) ?? {}), [RUN_LABEL]: runId };
    meta.annotations = {
      ...((meta.annotations as Obj | undefined) ?? {}),
      [GENERATION_ANNOTATION]: String(generation),
      // The API server sets creationTimestamp itself; the declared one is kept for the sync to create in its order.
      ...(typeof declared === 'string' && declared ? { [DECLARED_CREATION_ANNOTATION]: declared } : {}),
    };
    base.metadata = meta;
    return base as unknown as K8sObject;
  });
}
