// The DestinationRule a proxy applies to a route's destination: whether the destination's cluster exists, and
// the TLS the proxy originates to it. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - The DestinationRule of a host for a proxy: its own namespace's, else the service namespace's exported ones,
//   else the root namespace's (pilot/pkg/model/push_context.go destinationRule), rules of one host and namespace
//   merged where their exportTo allows and otherwise the later one alone (see destinationRuleFor); a subset it
//   does not define has no cluster (the route's 503 NC, a closed connection on TCP).
// - TLS: the subset's traffic policy over the rule's, port-level settings over both (cluster_traffic_policy.go
//   MergeTrafficPolicy); ISTIO_MUTUAL without `sni` sends `outbound_.PORT_.SUBSET_.HOST` (cluster_tls.go).
import type { HopTls, IstioConfig, ResourceSet } from '../model/types.ts';
import { gatewayServiceFor } from './gateway.ts';
import { subsetOf } from './hosts.ts';
import { rootNamespace } from './policy.ts';
import { compareByCreation, type Destination } from './virtual-service.ts';

type Obj = Record<string, unknown>;

/** One entry of istiod's DestinationRule index: rules of one namespace and host merged, with their exportTo. */
interface Consolidated {
  spec: Obj;
  exportTo: Set<string>;
  from: string[];
}

type Pool = 'local' | 'exported' | 'rootLocal';

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/**
 * push_context.go setDestinationRules / destination_rule.go mergeDestinationRule: the rules of one namespace, oldest
 * first (then by name), go into a pool (the namespace's own, its exported ones, the root namespace's private ones);
 * a rule of a host already there merges into an entry whose exportTo equals its own or is a non-empty subset of it
 * (its new subset names appended, the first top-level traffic policy kept), and otherwise stands beside it as an
 * entry of its own. No workloadSelector is modelled.
 */
function pool(drs: IstioConfig[], ns: string, kind: Pool): Map<string, Consolidated[]> {
  const out = new Map<string, Consolidated[]>();
  for (const r of drs.filter((x) => x.namespace === ns).sort(compareByCreation)) {
    const exportTo = new Set((r.spec.exportTo as string[] | undefined) ?? []);
    const local = exportTo.size === 0 || exportTo.has('*') || exportTo.has('.') || exportTo.has(ns);
    // The mesh's defaultDestinationRuleExportTo is taken as `*` (unset in every scenario).
    const privateOnly = exportTo.size === 1 && (exportTo.has('.') || exportTo.has(ns));
    // 'rootLocal' is asked of the root namespace only.
    const into = kind === 'local' ? local : kind === 'exported' ? !privateOnly : privateOnly;
    if (!into) continue;
    const host = String(r.spec.host);
    const list = out.get(host);
    const entry = (): Consolidated => ({ spec: { ...r.spec }, exportTo, from: [`${r.namespace}/${r.name}`] });
    if (!list) {
      out.set(host, [entry()]);
      continue;
    }
    let separate = true;
    for (const mdr of list) {
      if (!sameSet(exportTo, mdr.exportTo) && !(mdr.exportTo.size > 0 && [...mdr.exportTo].every((x) => exportTo.has(x)))) {
        separate = true;
        continue;
      }
      separate = false;
      const names = new Set(((mdr.spec.subsets as Obj[] | undefined) ?? []).map((s) => s.name));
      mdr.spec = {
        ...mdr.spec,
        subsets: [
          ...((mdr.spec.subsets as Obj[] | undefined) ?? []),
          ...((r.spec.subsets as Obj[] | undefined) ?? []).filter((s) => !names.has(s.name)),
        ],
        trafficPolicy: mdr.spec.trafficPolicy ?? r.spec.trafficPolicy,
      };
      mdr.from = [...mdr.from, `${r.namespace}/${r.name}`];
    }
    if (separate) list.push(entry());
  }
  return out;
}

/** config.go MostSpecificHostMatch: the exact host, else the longest wildcard covering it. */
function mostSpecific(index: Map<string, Consolidated[]>, host: string): Consolidated[] | undefined {
  const exact = index.get(host);
  if (exact) return exact;
  const wild = [...index.keys()].filter((h) => h.startsWith('*') && subsetOf(host, h)).sort((a, b) => b.length - a.length)[0];
  return wild ? index.get(wild) : undefined;
}

/** getExportedDestinationRuleFromNamespace: the matched entries exported to the client's namespace. */
function exportedFrom(drs: IstioConfig[], ns: string, host: string, clientNs: string): Consolidated[] {
  return (mostSpecific(pool(drs, ns, 'exported'), host) ?? []).filter(
    (c) => c.exportTo.size === 0 || c.exportTo.has('*') || c.exportTo.has(clientNs),
  );
}

/**
 * push_context.go destinationRule: the entries of the proxy's own namespace, else those the service's namespace
 * exports to it, else those the root namespace exports to it; sidecar.go SidecarScope.DestinationRule then applies
 * the last entry without a workloadSelector, so where rules of one host and namespace stand apart (their exportTo
 * differ) the later rule is the one applied, whole. Corpus master-2026-08-27 s229-97#2, s233-13#3.
 */
function destinationRuleFor(
  resources: ResourceSet,
  host: string,
  proxyNs: string,
  serviceNs: string | undefined,
): Consolidated | undefined {
  const drs = (resources.routing ?? []).filter((r) => r.kind === 'DestinationRule');
  const root = rootNamespace(resources);
  const first = mostSpecific(pool(drs, proxyNs, proxyNs === root ? 'rootLocal' : 'local'), host);
  const found =
    (first?.length ? first : undefined) ??
    (serviceNs ? nonEmpty(exportedFrom(drs, serviceNs, host, proxyNs)) : undefined) ??
    nonEmpty(exportedFrom(drs, root, host, proxyNs));
  return found?.[found.length - 1];
}

const nonEmpty = <T>(xs: T[]): T[] | undefined => (xs.length ? xs : undefined);

function tlsOfPolicy(policy: Obj | undefined, port: number): Obj | undefined {
  const pl = ((policy?.portLevelSettings as Obj[] | undefined) ?? []).find((p) => (p.port as Obj | undefined)?.number === port);
  return (pl?.tls as Obj | undefined) ?? (policy?.tls as Obj | undefined);
}

/** What a proxy in `proxyNs` does for a destination: the cluster exists (subset defined), and the TLS it originates. */
export function clusterFor(
  resources: ResourceSet,
  d: Destination,
  proxyNs: string,
  /** The namespace of the service the proxy keeps for the host (scope.ts keptNamespaces); unset: the first entry's. */
  keptNs?: string,
): { exists: boolean; tls?: HopTls; rule?: string } {
  const serviceNs =
    gatewayServiceFor(d.host)?.namespace ?? keptNs ?? resources.serviceEntries.find((se) => se.hosts.includes(d.host))?.namespace;
  const dr = destinationRuleFor(resources, d.host, proxyNs, serviceNs);
  const ref = dr ? `DestinationRule ${dr.from.join(' + ')}` : undefined;
  const subset = d.subset ? ((dr?.spec.subsets as Obj[] | undefined) ?? []).find((s) => s.name === d.subset) : undefined;
  if (d.subset && !subset) return { exists: false, ...(ref ? { rule: ref } : {}) };
  const tls =
    tlsOfPolicy(subset?.trafficPolicy as Obj | undefined, d.port) ?? tlsOfPolicy(dr?.spec.trafficPolicy as Obj | undefined, d.port);
  const mode = tls?.mode as string | undefined;
  if (!mode || mode === 'DISABLE') return { exists: true, ...(ref ? { rule: ref } : {}) };
  const sni = (tls?.sni as string | undefined) ?? (mode === 'ISTIO_MUTUAL' ? `outbound_.${d.port}_.${d.subset}_.${d.host}` : undefined);
  return { exists: true, tls: { mode: mode as HopTls['mode'], ...(sni ? { sni } : {}) }, ...(ref ? { rule: ref } : {}) };
}
