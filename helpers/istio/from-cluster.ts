// `--from-cluster [--context NAME]`: a user's real mesh read from a live cluster, read-only (GET and LIST
// only): ServiceEntries, Sidecars, Gateways, VirtualServices, DestinationRules, the mesh ConfigMap
// istio-system/istio, and the kinds that change egress without being modelled (each a loud note). Each
// object goes through the same checks as a file, named by its kind and name in the cluster.
import * as k8s from '@kubernetes/client-node';
import { EnvironmentError, UserError } from '../model/errors.ts';
import type { ResourceSet } from '../model/types.ts';
import { loadObject } from './load.ts';

type Obj = Record<string, unknown>;

/** Read in this order: the mesh first (it decides defaults), then the resources Istio orders by age. */
const READ: [apiVersion: string, kind: string][] = [
  ['networking.istio.io/v1', 'ServiceEntry'],
  ['networking.istio.io/v1', 'Sidecar'],
  ['networking.istio.io/v1', 'Gateway'],
  ['networking.istio.io/v1', 'VirtualService'],
  ['networking.istio.io/v1', 'DestinationRule'],
  // Not modelled, but they change egress: read so that each one present is said aloud.
  ['networking.istio.io/v1alpha3', 'EnvoyFilter'],
  ['networking.istio.io/v1', 'WorkloadEntry'],
  ['networking.istio.io/v1beta1', 'ProxyConfig'],
  ['security.istio.io/v1', 'AuthorizationPolicy'],
];

const status = (e: unknown) => (e as { code?: number; statusCode?: number }).code ?? (e as { statusCode?: number }).statusCode;

export interface FromClusterOptions {
  context?: string;
  env?: NodeJS.ProcessEnv;
  into: ResourceSet;
  notes: string[];
  say?: (line: string) => void;
  /** A kubeconfig file instead of $KUBECONFIG / ~/.kube/config (tests). */
  kubeconfig?: string;
}

export function kubeConfigFor(o: Pick<FromClusterOptions, 'context' | 'kubeconfig'>): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  const file = o.kubeconfig;
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (e) {
    throw new EnvironmentError(
      `--from-cluster: cannot read the kubeconfig${file ? ` ${file}` : ''} (${(e as Error).message.split('\n')[0]})`,
    );
  }
  if (o.context !== undefined) {
    if (!kc.getContextObject(o.context))
      throw new UserError(
        `--context: "${o.context}" is not a context of the kubeconfig; it has ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        }`,
      );
    kc.setCurrentContext(o.context);
  }
  if (!kc.getCurrentCluster()) throw new EnvironmentError('--from-cluster: the kubeconfig has no current cluster; give --context NAME');
  return kc;
}

const byAge = (a: Obj, b: Obj) => {
  const ma = (a.metadata ?? {}) as Obj;
  const mb = (b.metadata ?? {}) as Obj;
  return (
    String(ma.creationTimestamp ?? '').localeCompare(String(mb.creationTimestamp ?? '')) || String(ma.name).localeCompare(String(mb.name))
  );
};

/** Reads the cluster's configuration into `into`; returns how many objects were read. */
export async function readFromCluster(o: FromClusterOptions): Promise<number> {
  const kc = kubeConfigFor(o);
  const ctx = kc.getCurrentContext();
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  o.say?.(`--from-cluster: reading Istio configuration from context ${ctx} (${kc.getCurrentCluster()?.server}), read-only`);
  const name = (kind: string, x: Obj) => {
    const md = (x.metadata ?? {}) as Obj;
    return `cluster ${ctx}: ${kind} ${md.namespace ? `${String(md.namespace)}/` : ''}${String(md.name)}`;
  };
  let count = 0;
  const add = (kind: string, x: Obj) => {
    try {
      loadObject(x, { file: name(kind, x), doc: 1 }, o.into, o.notes);
      count++;
    } catch (e) {
      // One object Istio's validation would refuse is named and left out: the rest of the mesh still answers.
      if (!(e instanceof UserError)) throw e;
      o.notes.push(`NOT READ: ${e.message} (it is in the cluster, so its admission was skipped or older rules applied)`);
    }
  };
  try {
    const cm = (await api.read({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
    })) as unknown as Obj;
    add('ConfigMap', { ...cm, apiVersion: 'v1', kind: 'ConfigMap' });
  } catch (e) {
    if (status(e) === 404) o.notes.push(`cluster ${ctx}: no ConfigMap istio-system/istio; Istio's default mesh config applies`);
    else throw unreachable(ctx, e);
  }
  for (const [apiVersion, kind] of READ) {
    let items: Obj[];
    try {
      items = (await api.list(apiVersion, kind)).items as unknown as Obj[];
    } catch (e) {
      if (status(e) === 404 || /resource .* not found|no resource/i.test(String((e as Error).message))) continue; // CRD absent: none can exist
      throw unreachable(ctx, e);
    }
    for (const x of items.sort(byAge)) add(kind, { ...x, apiVersion, kind });
  }
  return count;
}

function unreachable(ctx: string, e: unknown): Error {
  const code = status(e);
  if (code === 401 || code === 403)
    return new EnvironmentError(
      `--from-cluster: context ${ctx} may not read Istio's configuration (HTTP ${code}); it needs get/list on networking.istio.io and the ConfigMap`,
    );
  return new EnvironmentError(`--from-cluster: context ${ctx} did not answer (${(e as Error).message.split('\n')[0]})`);
}
