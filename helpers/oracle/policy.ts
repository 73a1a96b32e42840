// Which Sidecar applies to a workload, and which outbound policy follows from it.
// Facts: pilot/pkg/model/push_context.go (getSidecarScope: selector match in the workload's namespace,
// oldest first; then the namespace's selector-less Sidecar; then the root namespace's selector-less
// Sidecar), pilot/pkg/model/sidecar.go (ConvertToSidecarScope: a Sidecar's outboundTrafficPolicy
// replaces the mesh value whole; absent, the mesh value applies), mesh.go (default ALLOW_ANY).
import type { PolicyMode, ProbeSource, ResourceSet, Sidecar } from '../model/types.ts';
import { creationSeconds } from './order.ts';
import type { RuleId } from './rules.ts';
import { gateOpen, type IstioVersion } from './version.ts';

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';

export function rootNamespace(resources: ResourceSet): string {
  return resources.mesh.rootNamespace || DEFAULT_ROOT_NAMESPACE;
}

export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Labels every client Pod carries (fixtures/workloads/client.yaml), under the probe source's own. */
export const CLIENT_POD_LABELS: Readonly<Record<string, string>> = { app: 'egress-client', 'egress-conformance.io/client': 'true' };

export function podLabels(source: ProbeSource): Record<string, string> {
  return { ...CLIENT_POD_LABELS, ...source.labels };
}

/**
 * A Sidecar has a selector when the field is present, even without labels: istiod tests
 * `WorkloadSelector != nil` (push_context.go initSidecarScopes, doGetSidecarScope). An empty selector then
 * matches every workload of its namespace (admission only warns), and in the root namespace it is not the
 * mesh-wide default. Found by fuzzing: fixtures/rules/fuzz-s1-1.yaml.
 */
function hasSelector(s: Sidecar): boolean {
  return s.workloadSelector !== undefined;
}

const byAge = (a: Sidecar, b: Sidecar) =>
  creationSeconds(a.manifest) - creationSeconds(b.manifest) || a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace);

export interface SidecarChoice {
  sidecar?: Sidecar;
  why: string;
  rule?: RuleId;
}

export function selectSidecar(resources: ResourceSet, from: ProbeSource): SidecarChoice {
  const labels = podLabels(from);
  const inNs = resources.sidecars.filter((s) => s.namespace === from.namespace).sort(byAge);
  const selected = inNs.find((s) => hasSelector(s) && selects(s.workloadSelector!, labels));
  if (selected)
    return { sidecar: selected, rule: 'sidecar.selector', why: `Sidecar ${selected.namespace}/${selected.name} selects the workload` };
  const nsWide = inNs.find((s) => !hasSelector(s));
  if (nsWide)
    return {
      sidecar: nsWide,
      rule: 'sidecar.namespace',
      why: `Sidecar ${nsWide.namespace}/${nsWide.name} applies to namespace ${from.namespace}`,
    };
  const root = rootNamespace(resources);
  const rootWide = resources.sidecars.filter((s) => s.namespace === root && !hasSelector(s)).sort(byAge)[0];
  if (rootWide)
    return {
      sidecar: rootWide,
      rule: 'sidecar.root-namespace',
      why: `root-namespace Sidecar ${rootWide.namespace}/${rootWide.name} applies (no Sidecar in ${from.namespace})`,
    };
  return { why: 'no Sidecar applies' };
}

export interface PolicyDecision {
  mode: PolicyMode;
  why: string;
  /** Who set the mode: the Sidecar's outboundTrafficPolicy or the mesh. */
  source: 'mesh' | 'sidecar';
  /** Where ALLOW_ANY sends unknown traffic: PassthroughCluster, or a Sidecar's egressProxy cluster. */
  passthrough: string;
  /** The Sidecar's egressProxy, when `passthrough` is its cluster (which may not exist: see expect.ts). */
  egressProxy?: { host: string; port: number; subset?: string };
  /** Set when that cluster does not exist for the workload: why. */
  missingEgressCluster?: string;
}

/** `meshMode` is the mesh-wide mode in force (already resolved from flags, IstioOperator or default). */
export function effectivePolicy(choice: SidecarChoice, meshMode: PolicyMode, v?: IstioVersion): PolicyDecision {
  const sc = choice.sidecar;
  if (sc?.outboundTrafficPolicy) {
    const ep = sc.outboundTrafficPolicy === 'ALLOW_ANY' ? sc.egressProxy : undefined;
    return {
      mode: sc.outboundTrafficPolicy,
      source: 'sidecar',
      why: `Sidecar ${sc.namespace}/${sc.name} sets outboundTrafficPolicy ${sc.outboundTrafficPolicy}${ep ? ` with egressProxy ${ep.host}:${ep.port}${ep.subset ? ` subset ${ep.subset}` : ''}` : ''}`,
      // listener_builder.go / httproute.go: the catch-alls use the egress proxy's cluster when one is set,
      // named by route.GetDestinationCluster: outbound|port|subset|host (found by fuzzing: an egressProxy subset).
      passthrough: ep ? `outbound|${ep.port}|${ep.subset ?? ''}|${ep.host}` : 'PassthroughCluster',
      ...(ep ? { egressProxy: ep } : {}),
    };
  }
  if (meshMode === 'ALLOW_ANY_DYNAMIC_DNS' && v && !gateOpen(v, 'allow-any-dynamic-dns')) {
    // A build before the gate reads the enum value but compares the mode with ALLOW_ANY only (util.go
    // IsAllowAnyOutbound): the catch-alls are block_all and BlackHoleCluster, as under REGISTRY_ONLY.
    return {
      mode: 'REGISTRY_ONLY',
      source: 'mesh',
      why: `mesh outboundTrafficPolicy ALLOW_ANY_DYNAMIC_DNS, which Istio ${v.raw} does not implement (version gate allow-any-dynamic-dns): it blocks as REGISTRY_ONLY`,
      passthrough: 'PassthroughCluster',
    };
  }
  return { mode: meshMode, source: 'mesh', why: `mesh outboundTrafficPolicy ${meshMode}`, passthrough: 'PassthroughCluster' };
}

export function meshMode(resources: ResourceSet, override?: PolicyMode): PolicyMode {
  return override ?? resources.mesh.outboundTrafficPolicy ?? 'ALLOW_ANY';
}
