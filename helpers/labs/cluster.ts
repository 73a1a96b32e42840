// A live lab's cluster read back as the oracle sees resources: its ServiceEntries and Sidecars and the
// mesh config istiod runs with (ConfigMap istio-system/istio), each checked as Istio would check it.
// Istio kinds that grading does not model are named, so a VirtualService is never silently ignored.
import { stringify } from 'yaml';
import { isNotFound, type K8sObject, type K8sOps } from '../k8s/client.ts';
import { readMeshConfig } from '../k8s/istio.ts';
import { RUN_LABEL } from '../k8s/manifests.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { UserError } from '../model/errors.ts';
import type { ResourceSet } from '../model/types.ts';

const NETWORKING = 'networking.istio.io/v1';

/** Routing and endpoint kinds istiod applies but the oracle's reasons leave out. */
const UNMODELLED = ['VirtualService', 'DestinationRule', 'Gateway', 'WorkloadEntry'] as const;

/** The object as a user would have written it: server-managed metadata dropped, creationTimestamp kept (it orders configs). */
function asWritten(o: K8sObject): K8sObject {
  const { metadata, status: _s, ...rest } = o as K8sObject & { status?: unknown };
  const { name, namespace, labels, annotations, creationTimestamp } = metadata as K8sObject['metadata'] & { creationTimestamp?: string };
  const keep = Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration'),
  );
  return {
    ...rest,
    metadata: {
      name,
      namespace,
      ...(labels ? { labels } : {}),
      ...(Object.keys(keep).length ? { annotations: keep } : {}),
      ...(creationTimestamp ? { creationTimestamp } : {}),
    },
  } as K8sObject;
}

const byAge = (a: K8sObject, b: K8sObject) =>
  String((a.metadata as { creationTimestamp?: string }).creationTimestamp ?? '').localeCompare(
    String((b.metadata as { creationTimestamp?: string }).creationTimestamp ?? ''),
  ) || a.metadata.name.localeCompare(b.metadata.name);

export async function readClusterResources(k8s: K8sOps): Promise<{ resources: ResourceSet; notes: string[] }> {
  const notes: string[] = [];
  const set = emptyResources();
  const mesh = await readMeshConfig(k8s);
  if (mesh) {
    const iop = {
      apiVersion: 'install.istio.io/v1alpha1',
      kind: 'IstioOperator',
      metadata: { name: 'installed', namespace: 'istio-system' },
      spec: { meshConfig: mesh },
    };
    loadYamlText(stringify(iop), 'ConfigMap istio-system/istio', set, notes);
  }
  // The lane's own objects (its allocation barrier entry) carry its run label; the lab's and the candidate's do not.
  const objects = [...(await k8s.list(NETWORKING, 'ServiceEntry')), ...(await k8s.list(NETWORKING, 'Sidecar'))]
    .filter((o) => !o.metadata.labels?.[RUN_LABEL])
    .sort(byAge);
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
    try {
      // One object at a time, so one that Istio's validation would refuse is named and left out, not fatal.
      loadYamlText(stringify(asWritten(o)), where, set, notes);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      notes.push(`${where} is in the cluster but Istio's validation refuses it (${e.message.replace(/^.*?: /, '')}); fix or delete it`);
    }
  }
  for (const kind of UNMODELLED) {
    let found: K8sObject[];
    try {
      found = await k8s.list(NETWORKING, kind);
    } catch (e) {
      if (isNotFound(e)) continue; // that CRD is not installed: nothing of the kind can exist
      throw e;
    }
    for (const o of found.filter((x) => !x.metadata.labels?.[RUN_LABEL]).sort(byAge)) {
      const where = `${kind} ${o.metadata.namespace}/${o.metadata.name}`;
      if (kind === 'WorkloadEntry') {
        notes.push(`${where}: istiod applies it, so the verdicts include its effect, but the model's reasons do not cover WorkloadEntries`);
        continue;
      }
      try {
        // Read into the state (constraints compare them with the start); istiod decides what they do.
        loadYamlText(stringify(asWritten(o)), where, set, notes);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        notes.push(`${where} is in the cluster but Istio's validation refuses it (${e.message.replace(/^.*?: /, '')}); fix or delete it`);
      }
    }
  }
  return { resources: set, notes };
}
