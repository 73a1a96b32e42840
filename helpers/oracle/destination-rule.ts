// The DestinationRule a proxy applies to a route's destination: whether the destination's cluster exists, and
// the TLS the proxy originates to it. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - The DestinationRule of a host for a proxy: its own namespace's, else the service namespace's exported ones,
//   else the root namespace's (pilot/pkg/model/push_context.go destinationRule), rules of one host and namespace
//   merged where their exportTo allows and otherwise the later one alone (see destinationRuleFor); a subset it
//   does not define has no cluster (the route's 503 NC, a closed connection on TCP).
// - A subset of a DNS or DNS_ROUND_ROBIN entry keeps the entry's endpoints its labels select, inline in the
//   cluster, and a STRICT_DNS/LOGICAL_DNS cluster without endpoints is not built (cluster_builder.go
//   buildSubsetCluster, buildCluster "locality endpoints missing"); an entry without endpoints has one endpoint,
//   its host, without labels (serviceentry/conversion.go convertServiceEntryToInstances), so a subset with labels
//   has no cluster there.
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
  /** The namespace of its first rule, whose workloadSelector (spec.workloadSelector) the entry keeps. */
  namespace: string;
}

const selectorOf = (spec: Obj): Record<string, string> | undefined =>
  spec.workloadSelector ? (((spec.workloadSelector as Obj).matchLabels ?? {}) as Record<string, string>) : undefined;
const sameLabels = (a: Record<string, string> = {}, b: Record<string, string> = {}) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

type Pool = 'local' | 'exported' | 'rootLocal';

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/**
 * push_context.go setDestinationRules / destination_rule.go mergeDestinationRule: the rules of one namespace, oldest
 * first (then by name), go into a pool (the namespace's own, its exported ones, the root namespace's private ones);
 * a rule of a host already there merges into an entry whose exportTo equals its own or is a non-empty subset of it
 * (its new subset names appended, the first top-level traffic policy kept), and otherwise stands beside it as an
 * entry of its own; rules whose workload selectors differ stay apart.
 */
function pool(drs: IstioConfig[], ns: string, kind: Pool, root: string, defaultPrivate: boolean): Map<string, Consolidated[]> {
  const out = new Map<string, Consolidated[]>();
  // push_context.go sortConfigBySelectorAndCreationTime: rules with a workloadSelector come first.
  const bySelector = (a: IstioConfig, b: IstioConfig) => Number(!selectorOf(a.spec)) - Number(!selectorOf(b.spec));
  for (const r of drs.filter((x) => x.namespace === ns).sort((a, b) => bySelector(a, b) || compareByCreation(a, b))) {
    const exportTo = new Set((r.spec.exportTo as string[] | undefined) ?? []);
    const local = exportTo.size === 0 || exportTo.has('*') || exportTo.has('.') || exportTo.has(ns);
    // A rule without exportTo takes meshConfig.defaultDestinationRuleExportTo, of which only `.` counts: it makes
    // the rule private to its namespace, `*` beside it or not (push_context.go setDestinationRules, "We only honor
    // . and *"). Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/default-destination-rule-export.yaml.
    const privateOnly = (exportTo.size === 1 && (exportTo.has('.') || exportTo.has(ns))) || (exportTo.size === 0 && defaultPrivate);
    const into = kind === 'local' ? local : kind === 'exported' ? !privateOnly : privateOnly && ns === root;
    if (!into) continue;
    const host = String(r.spec.host);
    const list = out.get(host);
    const entry = (): Consolidated => ({ spec: { ...r.spec }, exportTo, from: [`${r.namespace}/${r.name}`], namespace: r.namespace });
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
      // destination_rule.go mergeDestinationRule: rules whose workload selectors differ stand apart, and so do a rule
      // with a selector and one without: istiod eed52ebb66ad kept a selector-less rule's subset from the workloads a
      // selector rule of the same host picks, and the selector rule's from the others (2026-12-03,
      // fixtures/rules/destination-rule-selector.yaml).
      const mine = selectorOf(r.spec);
      const theirs = selectorOf(mdr.spec);
      if ((mine || theirs) && !(mine && theirs && sameLabels(mine, theirs))) {
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
function exportedFrom(
  drs: IstioConfig[],
  ns: string,
  host: string,
  clientNs: string,
  root: string,
  defaultPrivate: boolean,
): Consolidated[] {
  return (mostSpecific(pool(drs, ns, 'exported', root, defaultPrivate), host) ?? []).filter(
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
  proxyLabels: Record<string, string> | undefined,
): Consolidated | undefined {
  const drs = (resources.routing ?? []).filter((r) => r.kind === 'DestinationRule');
  const root = rootNamespace(resources);
  const dflt = resources.mesh.meshConfig?.defaultDestinationRuleExportTo;
  const defaultPrivate = Array.isArray(dflt) && dflt.includes('.');
  const first = mostSpecific(
    pool(drs, proxyNs === root ? root : proxyNs, proxyNs === root ? 'rootLocal' : 'local', root, defaultPrivate),
    host,
  );
  const found =
    (first?.length ? first : undefined) ??
    (serviceNs ? nonEmpty(exportedFrom(drs, serviceNs, host, proxyNs, root, defaultPrivate)) : undefined) ??
    nonEmpty(exportedFrom(drs, root, host, proxyNs, root, defaultPrivate));
  // sidecar.go SidecarScope.DestinationRule: the first entry of the proxy's namespace whose workloadSelector the
  // proxy's labels hold, else the last entry without a selector; an entry whose selector does not select the proxy
  // does not apply to it. Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/destination-rule-selector.yaml.
  let catchAll: Consolidated | undefined;
  for (const c of found ?? []) {
    const sel = selectorOf(c.spec);
    if (!sel) catchAll = c;
    else if (c.namespace === proxyNs && proxyLabels && Object.entries(sel).every(([k, v]) => proxyLabels[k] === v)) return c;
  }
  return catchAll;
}

const nonEmpty = <T>(xs: T[]): T[] | undefined => (xs.length ? xs : undefined);

/**
 * A traffic policy's TLS for a port. A port-level setting for the port replaces the policy whole: a field it omits
 * takes its default, not the top level's (networking/util GetPortLevelTrafficPolicy, shadowCopyPortTrafficPolicy),
 * so a port-level setting without `tls` originates none. Checked on istiod eed52ebb66ad (2026-12-03),
 * fixtures/rules/destination-rule-port-level.yaml.
 */
function tlsOfPolicy(policy: Obj | undefined, port: number): { tls?: Obj; portLevel: boolean } {
  const pl = ((policy?.portLevelSettings as Obj[] | undefined) ?? []).find((p) => (p.port as Obj | undefined)?.number === port);
  if (pl) return { tls: pl.tls as Obj | undefined, portLevel: true };
  return { tls: policy?.tls as Obj | undefined, portLevel: false };
}

/** What a proxy in `proxyNs` does for a destination: the cluster exists (subset defined), and the TLS it originates. */
export function clusterFor(
  resources: ResourceSet,
  d: Destination,
  proxyNs: string,
  /** The namespace of the service the proxy keeps for the host (scope.ts keptNamespaces); unset: the first entry's. */
  keptNs?: string,
  /** The proxy's labels, which a DestinationRule's workloadSelector must hold. */
  proxyLabels?: Record<string, string>,
): { exists: boolean; tls?: HopTls; rule?: string; why?: string } {
  const serviceNs =
    gatewayServiceFor(d.host)?.namespace ?? keptNs ?? resources.serviceEntries.find((se) => se.hosts.includes(d.host))?.namespace;
  const dr = destinationRuleFor(resources, d.host, proxyNs, serviceNs, proxyLabels);
  const ref = dr ? `DestinationRule ${dr.from.join(' + ')}` : undefined;
  const subset = d.subset ? ((dr?.spec.subsets as Obj[] | undefined) ?? []).find((s) => s.name === d.subset) : undefined;
  if (d.subset && !subset) return { exists: false, ...(ref ? { rule: ref } : {}) };
  const empty = subset && emptyDnsSubset(resources, d, subset, serviceNs, dr?.spec);
  if (empty) return { exists: false, ...(ref ? { rule: ref } : {}), why: `${ref}: ${empty}` };
  // A subset's policy overrides the rule's TLS when it sets one, or when a port-level setting of its own decides
  // the port (model/destination_rule.go MergeTrafficPolicy, hasPortLevel).
  const own = subset?.trafficPolicy ? tlsOfPolicy(subset.trafficPolicy as Obj, d.port) : undefined;
  const tls =
    own && (own.tls !== undefined || own.portLevel) ? own.tls : tlsOfPolicy(dr?.spec.trafficPolicy as Obj | undefined, d.port).tls;
  const mode = tls?.mode as string | undefined;
  if (!mode || mode === 'DISABLE') return { exists: true, ...(ref ? { rule: ref } : {}) };
  const sni = (tls?.sni as string | undefined) ?? (mode === 'ISTIO_MUTUAL' ? `outbound_.${d.port}_.${d.subset}_.${d.host}` : undefined);
  return { exists: true, tls: { mode: mode as HopTls['mode'], ...(sni ? { sni } : {}) }, ...(ref ? { rule: ref } : {}) };
}

/**
 * Why a subset's cluster is not built for lack of endpoints, or undefined when it is (or may be). cluster_builder.go
 * buildSubsetCluster filters the endpoints of a STRICT_DNS/LOGICAL_DNS cluster (resolution DNS, DNS_ROUND_ROBIN) by
 * the subset's labels (a PASSTHROUGH load balancer makes it ORIGINAL_DST, without endpoints), and buildCluster
 * drops such a cluster when none is left; an entry without endpoints and without workloadSelector has its host as
 * its one endpoint, with no labels (serviceentry/conversion.go convertServiceEntryToInstances). A STATIC entry's
 * cluster is EDS and is built whatever its endpoints; an entry selecting workloads is left to the other rules.
 * Checked on istiod eed52ebb66ad (2026-12-03), fixtures/rules/dns-subset-labels.yaml.
 */
function emptyDnsSubset(
  resources: ResourceSet,
  d: Destination,
  subset: Obj,
  serviceNs: string | undefined,
  ruleSpec: Obj | undefined,
): string | undefined {
  const labels = Object.entries((subset.labels as Record<string, string> | undefined) ?? {});
  if (labels.length === 0) return undefined;
  // The rule's own PASSTHROUGH (top level or for the port) already made the parent cluster ORIGINAL_DST, whose type
  // the subset cluster takes (cluster_builder.go applyDestinationRule applies the rule's policy first).
  const passthrough = (policy: Obj | undefined) => {
    const pl = ((policy?.portLevelSettings as Obj[] | undefined) ?? []).find((p) => (p.port as Obj | undefined)?.number === d.port);
    return ((pl?.loadBalancer ?? policy?.loadBalancer) as Obj | undefined)?.simple === 'PASSTHROUGH';
  };
  const own = ((subset.trafficPolicy as Obj | undefined)?.loadBalancer as Obj | undefined)?.simple;
  if (own === 'PASSTHROUGH' || passthrough(ruleSpec?.trafficPolicy as Obj | undefined)) return undefined;
  const se = resources.serviceEntries.find(
    (e) => (serviceNs === undefined || e.namespace === serviceNs) && e.hosts.includes(d.host) && e.ports.some((p) => p.number === d.port),
  );
  if (!se || (se.resolution !== 'DNS' && se.resolution !== 'DNS_ROUND_ROBIN') || se.workloadSelector !== undefined) return undefined;
  const endpoints = (((se.manifest as Obj).spec as Obj | undefined)?.endpoints as Obj[] | undefined) ?? [];
  const selects = (ep: Obj) => labels.every(([k, v]) => (ep.labels as Record<string, string> | undefined)?.[k] === v);
  if (endpoints.length === 0)
    return `subset ${d.subset} selects labels ${labels.map(([k, v]) => `${k}=${v}`).join(',')}, but ServiceEntry ${se.namespace}/${se.name} (resolution ${se.resolution}, no endpoints) has one endpoint, its host, without labels: istiod builds no DNS cluster without endpoints`;
  if (endpoints.some(selects)) return undefined;
  return `subset ${d.subset} selects labels ${labels.map(([k, v]) => `${k}=${v}`).join(',')}, which no endpoint of ServiceEntry ${se.namespace}/${se.name} (resolution ${se.resolution}) carries: istiod builds no DNS cluster without endpoints`;
}
