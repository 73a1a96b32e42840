// Namespaces, client Pods and a scenario's Istio resources, applied and removed through the API, for
// every lane. Whatever a run creates carries its run label; removal goes by that label, so a run never
// touches what it did not create.
import type { K8sObject, K8sOps } from './client.ts';
import { isNotFound } from './client.ts';
import { RUN_LABEL } from './manifests.ts';

/** Applies namespaces; with `serviceAccount`, also each one's `default` ServiceAccount, which Pods need
 * and which only a controller-manager would otherwise create. */
export async function ensureNamespaces(k8s: K8sOps, namespaces: K8sObject[], opts: { serviceAccount: boolean }): Promise<void> {
  for (const ns of namespaces) await k8s.apply(ns);
  if (!opts.serviceAccount) return;
  for (const ns of namespaces) await ensureDefaultServiceAccount(k8s, ns.metadata.name);
}

export async function ensureDefaultServiceAccount(k8s: K8sOps, namespace: string): Promise<void> {
  const ref = { apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: 'default' };
  if (!(await k8s.get(ref)))
    await createIfAbsent(k8s, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } });
}

export async function createIfAbsent(k8s: K8sOps, obj: K8sObject): Promise<void> {
  try {
    await k8s.create(obj);
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

export const ISTIO_GROUP_VERSION = 'networking.istio.io/v1';
const SCENARIO_KINDS = ['ServiceEntry', 'Sidecar', 'Gateway', 'VirtualService', 'DestinationRule'];

/**
 * Makes the run's ServiceEntries and Sidecars exactly `objects`: applies each (server-side apply), then
 * deletes those of this run that are not among them. Returns what was deleted.
 */
export async function syncScenarioObjects(k8s: K8sOps, objects: K8sObject[], runId: string): Promise<string[]> {
  // One after the other, in the order given: creation time is how Istio breaks ties between entries.
  for (const o of objects) await k8s.apply(o);
  const keep = new Set(objects.map(keyOf));
  // The lists and deletions need no order among themselves: asked at once.
  const listed = await Promise.all(SCENARIO_KINDS.map((kind) => k8s.list(ISTIO_GROUP_VERSION, kind, undefined, `${RUN_LABEL}=${runId}`)));
  const stale = listed.flat().filter((o) => !keep.has(keyOf(o)));
  await Promise.all(stale.map((o) => deleteQuietly(k8s, o)));
  return stale.map(keyOf);
}

async function deleteQuietly(k8s: K8sOps, o: K8sObject): Promise<void> {
  try {
    await k8s.delete({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export function keyOf(o: K8sObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
