// A live cluster (the warm stack, a lab) brought up to date for one command, and put back after it. The
// barrier writes two marks into the cluster: its allocation-barrier ServiceEntry and the generation marker
// in the mesh's connectTimeout. On a cluster a person works in (a lab candidate's), those marks would show
// in `kubectl get` and in the mesh config they edit, so a command takes them out again when it is done.
import type { K8sObject, K8sOps } from '../../k8s/client.ts';
import { readMeshConfig, writeMeshConfig } from '../../k8s/istio.ts';
import { markerTimeout } from '../../k8s/marker.ts';
import { type Barrier, sentinel } from './barrier.ts';

/** What a sync added: the barrier entry, and the connectTimeout the mesh had before the marker. */
export interface LiveMarks {
  entry: K8sObject;
  connectTimeout: unknown;
}

/**
 * Waits until istiod has pushed the cluster's ServiceEntries, Sidecars and mesh config as they are now: the
 * allocation barrier, istiod's store over every object in the cluster, then the mesh marker in a fresh ADS
 * fetch. Returns the live mesh config (without the marker) and the marks to take out afterwards.
 */
export async function syncLiveCluster(
  k8s: K8sOps,
  barrier: Barrier,
  generation: number,
  runId: string,
  timeout: number,
  /** The mesh config to write with the marker (one write, one reload in istiod); default: the live one. */
  meshToWrite?: Record<string, unknown>,
): Promise<{ mesh: Record<string, unknown>; marks: LiveMarks }> {
  const entry = sentinel(generation, runId);
  await k8s.apply(entry);
  await barrier.allocator(entry, timeout);
  const objects = (await Promise.all(['ServiceEntry', 'Sidecar'].map((kind) => k8s.list('networking.istio.io/v1', kind)))).flat();
  await barrier.store(objects, undefined, timeout);
  const mesh = meshToWrite ?? (await readMeshConfig(k8s)) ?? {};
  await writeMeshConfig(k8s, { ...mesh, connectTimeout: markerTimeout(generation) });
  await barrier.marker(generation, timeout);
  return { mesh, marks: { entry, connectTimeout: mesh.connectTimeout } };
}

/** Takes a sync's marks out: the barrier entry deleted, the mesh's own connectTimeout (or none) back. */
export async function removeLiveMarks(k8s: K8sOps, marks: LiveMarks): Promise<void> {
  const { apiVersion, kind, metadata } = marks.entry;
  await k8s.delete({ apiVersion, kind, namespace: metadata.namespace, name: metadata.name });
  const { connectTimeout: _marker, ...mesh } = (await readMeshConfig(k8s)) ?? {};
  await writeMeshConfig(k8s, marks.connectTimeout === undefined ? mesh : { ...mesh, connectTimeout: marks.connectTimeout });
}
