// Which mesh VirtualServices a sidecar imports on one port. Pure.
//
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - A Sidecar egress listener selects VirtualServices by its hosts (pilot/pkg/model/virtualservice.go
//   SelectVirtualServices): a VirtualService is taken when one of its hosts is imported by the listener's
//   `<its namespace>/…` hosts or by its `*/…` hosts, and that host is not excluded by a `~<its namespace>/…` or a
//   `~*/…` (`~/…`) host (sidecar.go hostClassification.Excluded, from 1.31).
// - Host matching (sidecar.go hostClassification.VSMatches, non-Gateway-API VirtualServices): exact names by
//   equality; where either side is a wildcard, either one may cover the other (host.Name.Matches).
// - A port of its own egress listener takes that listener's hosts, any other port the catch-all listener's; a
//   sidecar without a Sidecar, or with no egress section, imports every VirtualService exported to it.
import type { IstioConfig, ProbeSource, ResourceSet, Sidecar } from '../model/types.ts';
import { isWildcard, subsetOf } from './hosts.ts';
import { selectSidecar } from './policy.ts';
import { gateOpen, type IstioVersion } from './version.ts';

interface Imports {
  names: string[];
  excluded: string[];
}

function importsByNamespace(hosts: string[], sidecarNs: string, exclusions: boolean): Map<string, Imports> {
  const out = new Map<string, Imports>();
  for (const entry of hosts) {
    const parts = entry.split('/');
    // istiod logs and skips a host not of the form namespace/dnsName.
    if (parts.length !== 2) continue;
    let [ns, name] = parts as [string, string];
    const excluded = exclusions && ns.startsWith('~');
    if (excluded) ns = ns.slice(1) || '*';
    if (ns === '.') ns = sidecarNs;
    const at = out.get(ns) ?? { names: [], excluded: [] };
    (excluded ? at.excluded : at.names).push(name);
    out.set(ns, at);
  }
  return out;
}

function vsHostMatches(vsHost: string, imported: string[]): boolean {
  return imported.some((i) => (isWildcard(vsHost) || isWildcard(i) ? subsetOf(vsHost, i) || subsetOf(i, vsHost) : vsHost === i));
}

/** Does the sidecar's egress listener for `port` import this VirtualService? */
export function sidecarImportsVirtualService(
  sidecar: Sidecar | undefined,
  vs: IstioConfig,
  port: number,
  workloadNs: string,
  v: IstioVersion,
): boolean {
  if (!sidecar || sidecar.egress.length === 0) return true;
  const forPort = sidecar.egress.filter((e) => e.port?.number === port);
  const listeners = forPort.length > 0 ? forPort : sidecar.egress.filter((e) => !e.port);
  const byNs = importsByNamespace(
    listeners.flatMap((e) => e.hosts),
    workloadNs,
    gateOpen(v, 'sidecar-egress-exclusions'),
  );
  const own = byNs.get(vs.namespace);
  const any = byNs.get('*');
  const excluded = (h: string) => [...(own?.excluded ?? []), ...(any?.excluded ?? [])].some((e) => subsetOf(h, e));
  return ((vs.spec.hosts as string[] | undefined) ?? []).some(
    (h) => (vsHostMatches(h, own?.names ?? []) || vsHostMatches(h, any?.names ?? [])) && !excluded(h),
  );
}

/**
 * The scenario's routing objects as the calling sidecar sees them on one port: VirtualServices its egress
 * listener does not import left out, everything else kept.
 */
export function routingSeenBy(resources: ResourceSet, from: ProbeSource, port: number, v: IstioVersion): IstioConfig[] {
  const sidecar = selectSidecar(resources, from).sidecar;
  return (resources.routing ?? []).filter(
    (r) => r.kind !== 'VirtualService' || sidecarImportsVirtualService(sidecar, r, port, from.namespace, v),
  );
}
