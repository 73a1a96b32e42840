// Configuration as users have it, beyond single resources: the Lists `kubectl get -o yaml` writes, the
// mesh ConfigMap istiod actually reads, and a loud note for every kind that can change what a sidecar
// lets out but that the model does not read (never a silent skip).
import { parse } from 'yaml';
import type { MeshSettings } from '../model/types.ts';
import { parseMeshConfig } from './mesh-config.ts';

type Obj = Record<string, unknown>;

/** `kind: List` (kubectl's), or a typed list such as `ServiceEntryList` (the API's own), with items. */
export function isList(kind: string, o: Obj): boolean {
  return kind === 'List' || (kind.endsWith('List') && Array.isArray(o.items));
}

/**
 * ConfigMap `istio` (or `istio-<revision>`) with a `mesh` key: the mesh config istiod runs with
 * (pilot/pkg/bootstrap/mesh.go reads the `mesh` key of the ConfigMap named by --meshConfig's watcher,
 * `istio` for the default revision, in istiod's own namespace, istio-system by default).
 */
export function isMeshConfigMap(kind: string, api: string, o: Obj): boolean {
  if (kind !== 'ConfigMap' || api !== 'v1') return false;
  const name = String((o.metadata as Obj | undefined)?.name ?? '');
  return (name === 'istio' || name.startsWith('istio-')) && typeof (o.data as Obj | undefined)?.mesh === 'string';
}

export function meshOfConfigMap(o: Obj, fail: (what: string) => never, notes: string[], where: string): Omit<MeshSettings, 'source'> {
  const md = (o.metadata ?? {}) as Obj;
  const ns = String(md.namespace ?? 'default');
  if (ns !== 'istio-system')
    notes.push(
      `${where}: ConfigMap ${ns}/${String(md.name)} read as the mesh config (istiod reads it from its own namespace, istio-system unless installed elsewhere)`,
    );
  if (md.name !== 'istio')
    notes.push(`${where}: ConfigMap ${String(md.name)} is a revision's mesh config; its proxies are the ones this answers for`);
  let mesh: unknown;
  try {
    mesh = parse(String((o.data as Obj).mesh), { prettyErrors: false }) ?? {};
  } catch (e) {
    fail(`data.mesh is not valid YAML: ${(e as Error).message.split('\n')[0]}; fix the syntax`);
  }
  return parseMeshConfig(mesh, 'data.mesh', fail);
}

/**
 * Kinds that change what a sidecar does with an outbound call and that the model does not read, with how.
 * Sources: istio.io/api networking and security protos; a Kubernetes Service is in istiod's registry
 * (pilot/pkg/serviceregistry/kube) and gets listeners and clusters in every sidecar it is exported to.
 */
const CHANGES_EGRESS: Record<string, string> = {
  EnvoyFilter: "patches the sidecars' Envoy configuration directly",
  WorkloadEntry: "adds endpoints that ServiceEntries' workloadSelector picks",
  WorkloadGroup: 'creates WorkloadEntries',
  ProxyConfig: 'changes proxy settings such as DNS capture',
  AuthorizationPolicy: 'can deny calls at a sidecar or an egress gateway',
  WasmPlugin: 'can change or deny requests inside the sidecar',
  Service: "is in istiod's registry: its ports get listeners and its host routes in the sidecars it is exported to",
  ServiceExport: 'exports a Service across clusters',
  NetworkPolicy: 'can block the connection below Istio, whatever the sidecar allows',
  HTTPRoute: 'routes HTTP, egress included (Gateway API)',
  TCPRoute: 'routes TCP, egress included (Gateway API)',
  TLSRoute: 'routes TLS, egress included (Gateway API)',
  GRPCRoute: 'routes gRPC (Gateway API)',
};

export function ignoredKindNote(where: string, kind: string, api: string, o: Obj): string {
  const md = (o.metadata ?? {}) as Obj;
  const name = `${md.namespace ? `${String(md.namespace)}/` : ''}${String(md.name ?? '(no name)')}`;
  const how =
    CHANGES_EGRESS[kind] ??
    (api.startsWith('gateway.networking.k8s.io/') && kind === 'Gateway' ? 'can carry egress traffic (Gateway API)' : undefined);
  if (how) return `${where}: NOT MODELLED: ${kind} ${name} ${how}; the answers here do not account for it`;
  if (kind === 'ConfigMap')
    return `${where}: ConfigMap ${name} ignored (only ConfigMap istio-system/istio, with a mesh key, is the mesh config)`;
  return `${where}: ${kind} ${name} ignored (it does not change what a sidecar lets out)`;
}
