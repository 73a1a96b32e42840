// Namespaces, client Pods and a scenario's Istio resources, applied and removed through the API, for
// every lane. Whatever a run creates carries its run label; removal goes by that label, so a run never
// touches what it did not create.
import { setTimeout as sleepFor } from 'node:timers/promises';
import { EnvironmentError } from '../model/errors.ts';
import type { K8sObject, K8sOps } from './client.ts';
import { isNotFound, refOf } from './client.ts';
import { DECLARED_CREATION_ANNOTATION, RUN_LABEL } from './manifests.ts';

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
 * deletes those of this run that are not among them. Returns what was deleted. When the objects declare
 * creation times in more than one second, they are created in that order instead (createInDeclaredOrder).
 */
export async function syncScenarioObjects(
  k8s: K8sOps,
  objects: K8sObject[],
  runId: string,
  /** `live`: the run's objects on the cluster, when the caller knows them (it has just removed them all): not listed then. */
  opts: { live?: K8sObject[] } = {},
): Promise<string[]> {
  const groups = declaredCreationGroups(objects);
  if (groups.length > 1) return createInDeclaredOrder(k8s, groups, runId, opts.live);
  // One after the other, in the order given: creation time is how Istio breaks ties between entries.
  for (const o of objects) await k8s.apply(o);
  const keep = new Set(objects.map(keyOf));
  const stale = (opts.live ?? (await listRunObjects(k8s, runId))).filter((o) => !keep.has(keyOf(o)));
  await Promise.all(stale.map((o) => deleteQuietly(k8s, o)));
  return stale.map(keyOf);
}

/** The run's scenario objects on the cluster. The lists need no order among themselves: asked at once. */
async function listRunObjects(k8s: K8sOps, runId: string): Promise<K8sObject[]> {
  const listed = await Promise.all(SCENARIO_KINDS.map((kind) => k8s.list(ISTIO_GROUP_VERSION, kind, undefined, `${RUN_LABEL}=${runId}`)));
  return listed.flat();
}

/** Whole seconds of the declared creationTimestamp; 0 (older than any) where none was declared, as the model reads it. */
function declaredSeconds(o: K8sObject): number {
  const t = Date.parse(o.metadata.annotations?.[DECLARED_CREATION_ANNOTATION] ?? '');
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/**
 * The objects in creation groups, each to be created in a later second than the one before, each group in the
 * order given. Only the order between objects whose order Istio can read is kept: two of one kind, and for
 * ServiceEntries only when they share a host or a port (the service order that picks a host's entry and a
 * port's listener, push_context.go SortServicesByCreationTime); so a dump of many objects made at different
 * times costs a second per step of its longest such chain, not one per object.
 */
export function declaredCreationGroups(objects: K8sObject[]): K8sObject[][] {
  const sorted = objects.map((o, i) => ({ o, i, at: declaredSeconds(o) })).sort((a, b) => a.at - b.at || a.i - b.i);
  const level = new Map<K8sObject, number>();
  for (const [n, x] of sorted.entries()) {
    let l = 0;
    for (const y of sorted.slice(0, n)) {
      if (!orderMatters(x.o, y.o)) continue;
      l = Math.max(l, (level.get(y.o) ?? 0) + (y.at < x.at ? 1 : 0));
    }
    level.set(x.o, l);
  }
  const groups: K8sObject[][] = [];
  for (const o of objects) {
    const l = level.get(o) ?? 0;
    groups[l] = [...(groups[l] ?? []), o];
  }
  return groups.filter((g) => g !== undefined);
}

function orderMatters(a: K8sObject, b: K8sObject): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind !== 'ServiceEntry') return true;
  const spec = (o: K8sObject) => (o.spec ?? {}) as { hosts?: string[]; ports?: { number?: number }[] };
  const hosts = new Set(spec(a).hosts ?? []);
  const ports = new Set((spec(a).ports ?? []).map((p) => p.number));
  return (spec(b).hosts ?? []).some((h) => hosts.has(h)) || (spec(b).ports ?? []).some((p) => ports.has(p.number));
}

/**
 * Istio orders configs by creationTimestamp in whole seconds, then by name (push_context.go
 * configCompareByCreationTime), and some ties it leaves to map order: a declared order is made real on the
 * API server, not stood in for by names. Everything of this run is removed first (an object kept from the
 * last scenario would keep its older time), then each group is created in a later second than the one
 * before, read back from the server's own creationTimestamp.
 */
async function createInDeclaredOrder(k8s: K8sOps, groups: K8sObject[][], runId: string, live?: K8sObject[]): Promise<string[]> {
  const keep = new Set(groups.flat().map(keyOf));
  const existing = live ?? (await listRunObjects(k8s, runId));
  await Promise.all(existing.map((o) => deleteQuietly(k8s, o)));
  let last: number | undefined;
  for (const group of groups) {
    if (last !== undefined) await sleepFor(Math.max(0, (last + 1) * 1000 + 20 - Date.now()));
    for (const o of group) await k8s.apply(o);
    const made = await k8s.get(refOf(group[0]!));
    const at = Date.parse(String(made?.metadata.creationTimestamp ?? '')) / 1000;
    if (last !== undefined && !(at > last))
      throw new EnvironmentError(
        `the API server gave ${keyOf(group[0]!)} creation time ${made?.metadata.creationTimestamp}, not later than the group before it: ` +
          "its clock is behind this machine's, so the declared creation order cannot be made",
      );
    last = at;
  }
  return existing.filter((o) => !keep.has(keyOf(o))).map(keyOf);
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
