// The services a sidecar scope keeps per host name, and which of their ports get a cluster.
// Facts (pilot/pkg/model/sidecar.go at the pinned build): listeners are built from each egress listener's
// services (selectServices: one namespace per host name), clusters from SidecarScope.Services(), which
// appendSidecarServices fills in processing order, keeping the first service of a host and merging a later
// one into it only when canMergeServices says so (same namespace, resolution, labels, workloadSelector and
// exportTo); an unmergeable later service is dropped from the scope, so its ports get no cluster while the
// listener still names them.
import type { ProbeSource, ServiceEntry } from '../model/types.ts';
import { compareRank, type ServicePort } from './listeners.ts';
import { creationSeconds } from './order.ts';
import { podLabels, selects } from './policy.ts';

export interface HostOwner {
  host: string;
  namespace: string;
  se: ServiceEntry;
  rank: (string | number)[];
  /** The Sidecar egress listeners (indices; -1 for a workload without Sidecar egress) that import this host. */
  listeners?: number[];
}

/**
 * One host declared by entries in several namespaces: a sidecar keeps a single service per host name,
 * the one in its own namespace, otherwise the first in processing order, and drops the others' ports
 * too (checked on the real istiod: fixtures/rules/same-host-two-namespaces.yaml). An entry without ports
 * owns its host name all the same (sidecar.go appendSidecarServices works on services, not ports; found by
 * fuzzing, seed 12 path 300). Returns the namespace kept per host.
 */
export function keptNamespaces(owners: HostOwner[], ns: string): Map<string, string> {
  const keepNs = new Map<string, string>();
  for (const o of [...owners].sort(compareRank)) {
    const cur = keepNs.get(o.host);
    if (cur === undefined || (cur !== ns && o.namespace === ns)) keepNs.set(o.host, o.namespace);
  }
  return keepNs;
}

const labelsOf = (se: ServiceEntry) => (se.manifest.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/** sidecar.go canMergeServices (the host, and here the namespace, are already equal). */
export function canMerge(a: ServiceEntry, b: ServiceEntry): boolean {
  return (
    a.resolution === b.resolution &&
    sameMap(labelsOf(a), labelsOf(b)) &&
    sameMap(a.workloadSelector ?? {}, b.workloadSelector ?? {}) &&
    sameSet(a.exportTo, b.exportTo)
  );
}

type PortKey = { name: string; number: number; protocol: string };
const samePorts = (a: PortKey[], b: PortKey[]) =>
  a.length === b.length && a.every((p, i) => p.name === b[i]?.name && p.number === b[i]?.number && p.protocol === b[i]?.protocol);

/**
 * Walks each host's services of the kept namespace in processing order as appendSidecarServices does and
 * marks the ports of a later service that end up without a TCP port of the kept (merged) service: those of a
 * dropped (unmergeable) one that it lacks, and any whose number it holds as UDP (cluster.go
 * buildOutboundClusters skips UDP ports; fixtures/rules/fuzz-s1-146.yaml). Entries created in the same
 * second come in istiod's collection order, which is a Go map's (krt manyCollection.List): arbitrary. The
 * oracle takes them in load order and says so. Found by fuzzing: fixtures/rules/pending/fuzz-s2-501.yaml.
 */
export function markUnmerged(ports: ServicePort[], owners: HostOwner[], keepNs: Map<string, string>): void {
  const byHost = new Map<string, HostOwner[]>();
  for (const o of owners) if (keepNs.get(o.host) === o.namespace) byHost.set(o.host, [...(byHost.get(o.host) ?? []), o]);
  for (const [host, list] of byHost) {
    const [first, ...rest] = [...list].sort(compareRank);
    if (!first) continue;
    const merged: PortKey[] = first.se.ports.map((p) => ({ ...p }));
    const dropped = new Set<ServiceEntry>();
    for (const o of rest) {
      if (samePorts(merged, o.se.ports)) continue;
      if (canMerge(first.se, o.se)) {
        // A port number the kept service already has is not added again, whatever its protocol.
        for (const p of o.se.ports) if (!merged.some((m) => m.number === p.number)) merged.push({ ...p });
        continue;
      }
      dropped.add(o.se);
    }
    for (const sp of ports) {
      if (sp.host !== host || !list.some((o) => o.se === sp.se)) continue;
      const kept = merged.find((m) => m.number === sp.port);
      if (sp.se === first.se) {
        // Its own UDP port has a listener only because a Sidecar egress port gave it another protocol.
        if (kept?.protocol === 'UDP')
          sp.unbuilt = {
            rule: 'listener.sidecar-port-protocol',
            why: `the Sidecar egress port builds ${first.se.namespace}/${first.se.name}'s UDP port ${sp.port} as ${sp.sidecarPortProtocol || 'unset'}, but UDP ports get no cluster`,
          };
        continue;
      }
      // cluster.go buildOutboundClusters skips UDP ports: a port number the kept service holds as UDP has no
      // cluster, though the later entry's listener names one (fuzz-s1-146).
      if (kept && kept.protocol !== 'UDP') continue;
      const tie = creationSeconds(first.se.manifest) === creationSeconds(sp.se.manifest);
      const order = tie ? '; both were created in the same second, an order istiod leaves arbitrary' : '';
      if (kept)
        sp.unbuilt = {
          rule: 'se.unmerged-no-cluster',
          why: `istiod keeps ${first.se.namespace}/${first.se.name} for ${host}, whose port ${sp.port} is UDP, and ${dropped.has(sp.se) ? `drops ${sp.se.name}, which it cannot merge` : `merges ${sp.se.name} into it without its port ${sp.port}`}: UDP ports get no cluster${order}`,
        };
      else if (dropped.has(sp.se))
        sp.unbuilt = {
          rule: 'se.unmerged-no-cluster',
          why: `istiod keeps ${first.se.namespace}/${first.se.name} for ${host} and drops ${sp.se.name}, which it cannot merge (resolution, labels, workloadSelector or exportTo differ)${order}`,
        };
    }
  }
}

/**
 * A DNS cluster needs endpoints: the entry's own, else its host name when it has no workloadSelector
 * (serviceentry/conversion.go convertServiceEntryToInstances); with a selector, the Pods of its namespace that
 * the selector matches. istiod skips a DNS cluster without endpoints (cluster_builder.go buildCluster) while
 * listeners and routes still name it, so Envoy fails the call. Found by fuzzing: fixtures/rules/pending/
 * fuzz-s1-239.yaml (no Pod matches) and fuzz-s1-367.yaml (a client Pod matches, so the cluster is built).
 */
export function clusterNotBuilt(se: ServiceEntry, pods: ProbeSource[]): boolean {
  if (se.resolution !== 'DNS' && se.resolution !== 'DNS_ROUND_ROBIN') return false;
  if (se.endpoints.length > 0 || se.workloadSelector === undefined) return false;
  const sel = se.workloadSelector;
  return !pods.some((p) => p.namespace === se.namespace && selects(sel, podLabels(p)));
}
