// The namespaces a set of resources (and the lanes' workloads) talk about. A probe from any other namespace is legal (it gets the
// mesh defaults), but more often a typo, so the CLI notes it.
import type { ResourceSet } from '../model/types.ts';

/** The namespaces the lanes run their client workloads in (INJECTED_NAMESPACES of the kind lane's plan). */
const WORKLOAD_NAMESPACES = ['frontend', 'default'];

/** Names in exportTo lists and Sidecar hosts that are not namespaces. */
const NOT_A_NAMESPACE = new Set(['.', '*', '~']);

export function mentionedNamespaces(r: ResourceSet): Set<string> {
  const out = new Set<string>([...WORKLOAD_NAMESPACES, r.mesh.rootNamespace ?? 'istio-system']);
  const add = (ns: string | undefined) => {
    if (ns && !NOT_A_NAMESPACE.has(ns)) out.add(ns);
  };
  for (const ns of r.mesh.defaultServiceExportTo ?? []) add(ns);
  for (const se of r.serviceEntries) {
    add(se.namespace);
    for (const ns of se.exportTo) add(ns);
  }
  for (const sc of r.sidecars) {
    add(sc.namespace);
    // Sidecar egress hosts are written NAMESPACE/HOST.
    for (const e of sc.egress) for (const h of e.hosts) add(h.split('/')[0]);
  }
  return out;
}

/** A note for each probe source that neither a resource nor a lane workload mentions. */
export function unknownSourceNotes(r: ResourceSet, sources: { namespace: string; flag: string }[]): string[] {
  const known = mentionedNamespaces(r);
  return sources
    .filter((s) => !known.has(s.namespace))
    .map(
      (s) =>
        `${s.flag}: no resource mentions namespace "${s.namespace}"; it gets the mesh defaults, as any namespace without its own Sidecar or ServiceEntries (known: ${[...known].sort().join(', ')})`,
    );
}
