// Reads multi-document YAML into a ResourceSet, checking each resource the way Istio would.
// Errors name the file and document number; other kinds are skipped with a note.
import { parseAllDocuments, type Document } from 'yaml';
import { ServiceEntry as SeModel } from '@kubernetes-models/istio/networking.istio.io/v1beta1/ServiceEntry';
import { Sidecar as ScModel } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Sidecar';
import { IstioOperator as IopModel } from '@kubernetes-models/istio/install.istio.io/v1alpha1/IstioOperator';
import { Gateway as GwModel } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway';
import { VirtualService as VsModel } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { DestinationRule as DrModel } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { destinationRuleProblems, gatewayProblems, virtualServiceProblems } from './validate-routing.ts';
import type { IstioConfig, MeshSettings, PortProtocol, ResourceSet, ServiceEntry, Sidecar, SourceRef } from '../model/types.ts';
import { UserError } from '../model/errors.ts';
import { serviceEntryProblems, sidecarProblems } from './validate.ts';
import { readInputs } from './input.ts';
import { parseMeshConfig, toPolicy } from './mesh-config.ts';
import { ignoredKindNote, isList, isMeshConfigMap, meshOfConfigMap } from './user-config.ts';

type Obj = Record<string, unknown>;
const NETWORKING = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'];

export function emptyResources(): ResourceSet {
  return { mesh: { meshConfig: {} }, serviceEntries: [], sidecars: [] };
}

function where(ref: SourceRef): string {
  return `${ref.file} (document ${ref.doc}${ref.item === undefined ? '' : `, item ${ref.item}`})`;
}

function fail(ref: SourceRef, what: string): never {
  throw new UserError(`${where(ref)}: ${what}`);
}

/**
 * Values the pinned build's API has and the schema package predates (istio.io/api at the pinned build:
 * ServiceEntry_Resolution_value has DYNAMIC_DNS) are swapped for an old value before the schema check; the
 * rules for them are validate.ts's.
 */
function newerThanSchema(kind: string, obj: Obj): Obj {
  const spec = obj.spec as Obj | undefined;
  if (kind === 'ServiceEntry' && spec?.resolution === 'DYNAMIC_DNS') return { ...obj, spec: { ...spec, resolution: 'DNS' } };
  return obj;
}

/** Schema check through @kubernetes-models (the v1beta1 schema also describes v1 and v1alpha3 specs). */
function schemaCheck(ref: SourceRef, kind: string, obj: Obj): void {
  const Model =
    kind === 'ServiceEntry'
      ? SeModel
      : kind === 'Sidecar'
        ? ScModel
        : kind === 'Gateway'
          ? GwModel
          : kind === 'VirtualService'
            ? VsModel
            : kind === 'DestinationRule'
              ? DrModel
              : IopModel;
  try {
    const { apiVersion: _a, ...rest } = obj;
    new (Model as unknown as new (o: Obj) => { validate(): void })(newerThanSchema(kind, rest)).validate();
  } catch (e) {
    const errors = (e as { errors?: { instancePath: string; message: string; data?: unknown; params?: { allowedValues?: unknown[] } }[] })
      .errors;
    const describe = (x: NonNullable<typeof errors>[number]) => {
      const path = x.instancePath.replace(/^\//, '').replaceAll('/', '.');
      // The Sidecar API's enum has no ALLOW_ANY_DYNAMIC_DNS (networking/v1alpha3 sidecar.proto): a mesh mode only.
      const meshOnly =
        x.data === 'ALLOW_ANY_DYNAMIC_DNS' ? ' (ALLOW_ANY_DYNAMIC_DNS is a mesh mode only: meshConfig.outboundTrafficPolicy)' : '';
      if (x.params?.allowedValues)
        return `${path} ${JSON.stringify(x.data)} must be one of ${x.params.allowedValues.filter((v) => v !== null).join(', ')}${meshOnly}`;
      return `${path} ${x.message}`;
    };
    const msg = errors?.length ? errors.map(describe).join('; ') : (e as Error).message;
    fail(ref, `${kind} ${metaName(obj)} does not match the ${kind} schema: ${msg}`);
  }
}

function metaName(obj: Obj): string {
  const md = (obj.metadata ?? {}) as Obj;
  return `"${String(md.name ?? '(no name)')}"`;
}

function metadata(ref: SourceRef, kind: string, obj: Obj): { name: string; namespace: string } {
  const md = obj.metadata as Obj | undefined;
  const name = md?.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) fail(ref, `${kind} needs metadata.name, a DNS-1123 name`);
  const ns = md?.namespace ?? 'default';
  if (typeof ns !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns))
    fail(ref, `${kind} "${name}": metadata.namespace "${String(ns)}" is not a namespace name`);
  return { name, namespace: ns };
}

function toServiceEntry(ref: SourceRef, obj: Obj, order: number): ServiceEntry {
  const { name, namespace } = metadata(ref, 'ServiceEntry', obj);
  const spec = (obj.spec ?? {}) as Obj;
  const problems = serviceEntryProblems(spec, namespace);
  if (problems.length) fail(ref, `ServiceEntry ${namespace}/${name} would be rejected by Istio: ${problems.join('; ')}`);
  const ports = ((spec.ports as Obj[] | undefined) ?? []).map((p) => ({
    number: p.number as number,
    name: p.name as string,
    protocol: (typeof p.protocol === 'string' ? p.protocol.toUpperCase() : '') as PortProtocol,
    ...(p.targetPort ? { targetPort: p.targetPort as number } : {}),
  }));
  return {
    kind: 'ServiceEntry',
    name,
    namespace,
    order,
    hosts: (spec.hosts as string[]) ?? [],
    addresses: (spec.addresses as string[] | undefined) ?? [],
    ports,
    location: (spec.location as ServiceEntry['location']) ?? 'MESH_EXTERNAL',
    resolution: (spec.resolution as ServiceEntry['resolution']) ?? 'NONE',
    endpoints: ((spec.endpoints as Obj[] | undefined) ?? []).map((e) => ({
      address: String(e.address ?? ''),
      ...(e.ports ? { ports: e.ports as Record<string, number> } : {}),
    })),
    exportTo: (spec.exportTo as string[] | undefined) ?? [],
    ...(spec.workloadSelector ? { workloadSelector: ((spec.workloadSelector as Obj).labels ?? {}) as Record<string, string> } : {}),
    source: ref,
    manifest: obj,
  };
}

function toSidecar(ref: SourceRef, obj: Obj, order: number): Sidecar {
  const { name, namespace } = metadata(ref, 'Sidecar', obj);
  const spec = (obj.spec ?? {}) as Obj;
  const problems = sidecarProblems(spec);
  if (problems.length) fail(ref, `Sidecar ${namespace}/${name} would be rejected by Istio: ${problems.join('; ')}`);
  const otp = spec.outboundTrafficPolicy as Obj | undefined;
  const selector = spec.workloadSelector as Obj | undefined;
  return {
    kind: 'Sidecar',
    name,
    namespace,
    order,
    ...(selector ? { workloadSelector: (selector.labels ?? {}) as Record<string, string> } : {}),
    egress: ((spec.egress as Obj[] | undefined) ?? []).map((e) => ({
      hosts: (e.hosts as string[]) ?? [],
      ...(e.port ? { port: e.port as { number: number; protocol?: string; name?: string } } : {}),
      ...(e.bind ? { bind: e.bind as string } : {}),
      ...(e.captureMode ? { captureMode: e.captureMode as string } : {}),
    })),
    // The API enum's zero value is REGISTRY_ONLY: a present outboundTrafficPolicy without mode means it.
    ...(otp
      ? { outboundTrafficPolicy: toPolicy('spec.outboundTrafficPolicy.mode', otp.mode, 'REGISTRY_ONLY', (what) => fail(ref, what)) }
      : {}),
    ...(otp?.egressProxy ? { egressProxy: egressProxyOf(ref, otp.egressProxy as Obj) } : {}),
    source: ref,
    manifest: obj,
  };
}

const ROUTING_KINDS = ['Gateway', 'VirtualService', 'DestinationRule'] as const;

function toRouting(ref: SourceRef, kind: IstioConfig['kind'], obj: Obj, order: number): IstioConfig {
  const { name, namespace } = metadata(ref, kind, obj);
  const spec = (obj.spec ?? {}) as Obj;
  const problems =
    kind === 'Gateway'
      ? gatewayProblems(spec, name)
      : kind === 'VirtualService'
        ? virtualServiceProblems(spec, namespace)
        : destinationRuleProblems(spec, namespace);
  if (problems.length) fail(ref, `${kind} ${namespace}/${name} would be rejected by Istio: ${problems.join('; ')}`);
  return { kind, name, namespace, order, spec, source: ref, manifest: obj };
}

function egressProxyOf(ref: SourceRef, ep: Obj): { host: string; port: number; subset?: string } {
  const port = (ep.port as Obj | undefined)?.number;
  if (typeof ep.host !== 'string' || !Number.isInteger(port))
    fail(ref, 'spec.outboundTrafficPolicy.egressProxy needs host and port.number');
  return { host: ep.host, port: port as number, ...(typeof ep.subset === 'string' && ep.subset ? { subset: ep.subset } : {}) };
}

function toMesh(ref: SourceRef, obj: Obj): MeshSettings {
  const spec = (obj.spec ?? {}) as Obj;
  return { ...parseMeshConfig(spec.meshConfig, 'spec.meshConfig', (what) => fail(ref, what)), source: ref };
}

/**
 * A document as plain data. Aliases are expanded at most `maxAliasCount` times (yaml's guard against
 * "billion laughs" documents, which would otherwise take all memory); past that it is bad input.
 */
export function toJs(d: Document, ref: SourceRef): unknown {
  try {
    return d.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message))
      fail(ref, 'YAML aliases expand too far (an alias bomb?); write the resources out without nested aliases');
    if (e instanceof RangeError) fail(ref, 'YAML nested too deeply to read');
    throw e;
  }
}

/** Parse one YAML text (named `file` in messages) into `into`. */
export function loadYamlText(text: string, file: string, into: ResourceSet, notes: string[] = []): ResourceSet {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  // Syntax first, so a broken document is named even when an earlier one has other problems.
  list.forEach((d, i) => {
    if (d.errors.length) fail({ file, doc: i + 1 }, `not valid YAML: ${d.errors[0]?.message.split('\n')[0]}; fix the syntax`);
  });
  list.forEach((d, i) => {
    const ref = { file, doc: i + 1 };
    const obj = toJs(d, ref);
    if (obj === null || obj === undefined) return; // empty document (e.g. a trailing ---)
    loadObject(obj, ref, into, notes);
  });
  return into;
}

/**
 * One resource into `into`. A List (what `kubectl get -o yaml` writes) is its items, each named by its
 * position; `status` is the server's, not configuration, and is dropped.
 */
export function loadObject(obj: unknown, ref: SourceRef, into: ResourceSet, notes: string[] = []): void {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    fail(ref, 'expected a Kubernetes resource (a mapping with apiVersion and kind)');
  const { status: _status, ...o } = obj as Obj;
  const kind = o.kind;
  const api = o.apiVersion;
  if (typeof kind !== 'string' || typeof api !== 'string') fail(ref, 'a resource needs apiVersion and kind');
  if (isList(kind, o)) {
    if (ref.item !== undefined) fail(ref, 'a List inside a List; give the items themselves');
    if (!Array.isArray(o.items)) fail(ref, `${kind} needs items, a list of resources`);
    o.items.forEach((item, j) => loadObject(item, { ...ref, item: j + 1 }, into, notes));
    return;
  }
  if ((kind === 'ServiceEntry' || kind === 'Sidecar') && NETWORKING.includes(api)) {
    schemaCheck(ref, kind, o);
    const order = into.serviceEntries.length + into.sidecars.length;
    if (kind === 'ServiceEntry') {
      const se = toServiceEntry(ref, o, order);
      if (into.serviceEntries.some((x) => x.namespace === se.namespace && x.name === se.name))
        fail(ref, `ServiceEntry ${se.namespace}/${se.name} is defined twice`);
      into.serviceEntries.push(se);
    } else {
      const sc = toSidecar(ref, o, order);
      if (into.sidecars.some((x) => x.namespace === sc.namespace && x.name === sc.name))
        fail(ref, `Sidecar ${sc.namespace}/${sc.name} is defined twice`);
      into.sidecars.push(sc);
    }
  } else if ((ROUTING_KINDS as readonly string[]).includes(kind) && NETWORKING.includes(api)) {
    schemaCheck(ref, kind, o);
    into.routing ??= [];
    const r = toRouting(ref, kind as IstioConfig['kind'], o, into.routing.length);
    if (into.routing.some((x) => x.kind === r.kind && x.namespace === r.namespace && x.name === r.name))
      fail(ref, `${kind} ${r.namespace}/${r.name} is defined twice`);
    into.routing.push(r);
  } else if (kind === 'IstioOperator' && api === 'install.istio.io/v1alpha1') {
    schemaCheck(ref, kind, o);
    if (into.mesh.source) fail(ref, `a second IstioOperator; the first is ${where(into.mesh.source)}. Give one install at a time`);
    into.mesh = toMesh(ref, o);
  } else if (
    /\.istio\.io\//.test(api) &&
    (kind === 'ServiceEntry' || kind === 'Sidecar' || kind === 'IstioOperator' || (ROUTING_KINDS as readonly string[]).includes(kind))
  ) {
    fail(
      ref,
      `${kind} with apiVersion ${api} is not supported; use ${kind === 'IstioOperator' ? 'install.istio.io/v1alpha1' : NETWORKING.join(', ')}`,
    );
  } else if (isMeshConfigMap(kind, api, o)) {
    if (into.mesh.source) fail(ref, `a second mesh config; the first is ${where(into.mesh.source)}. Give one install at a time`);
    into.mesh = { ...meshOfConfigMap(o, (what) => fail(ref, what), notes, where(ref)), source: ref };
  } else {
    notes.push(ignoredKindNote(where(ref), kind, api, o));
  }
}

/** Loads -f arguments: files, directories of YAML files, `-` for standard input. */
export function loadResourceFiles(files: string[], notes: string[] = []): ResourceSet {
  const set = emptyResources();
  for (const { name, text } of readInputs(files)) loadYamlText(text, name, set, notes);
  return set;
}
