// The DestinationRule a proxy applies to a route's destination: whether the destination's cluster exists, and
// the TLS the proxy originates to it. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - The DestinationRule of a host for a proxy: its own namespace's, else the service namespace's exported ones,
//   else the root namespace's (pilot/pkg/model/push_context.go destinationRule); a subset it does not define has
//   no cluster (the route's 503 NC, a closed connection on TCP).
// - TLS: the subset's traffic policy over the rule's, port-level settings over both (cluster_traffic_policy.go
//   MergeTrafficPolicy); ISTIO_MUTUAL without `sni` sends `outbound_.PORT_.SUBSET_.HOST` (cluster_tls.go).
import type { HopTls, IstioConfig, ResourceSet } from '../model/types.ts';
import { exportedTo } from './export-to.ts';
import { gatewayServiceFor } from './gateway.ts';
import { subsetOf } from './hosts.ts';
import { rootNamespace } from './policy.ts';
import type { Destination } from './virtual-service.ts';

type Obj = Record<string, unknown>;

/** MostSpecificHostMatch over the rules of one namespace that the viewer sees. */
function mostSpecific(rules: IstioConfig[], host: string): IstioConfig | undefined {
  const exact = rules.find((r) => r.spec.host === host);
  if (exact) return exact;
  return rules
    .filter((r) => subsetOf(host, String(r.spec.host)))
    .sort((a, b) => String(b.spec.host).length - String(a.spec.host).length)[0];
}

function destinationRuleFor(resources: ResourceSet, host: string, proxyNs: string, serviceNs: string | undefined): IstioConfig | undefined {
  const drs = (resources.routing ?? []).filter((r) => r.kind === 'DestinationRule');
  const root = rootNamespace(resources);
  const local = mostSpecific(
    drs.filter((r) => r.namespace === proxyNs && exportedTo(r, proxyNs)),
    host,
  );
  if (local) return local;
  if (serviceNs && serviceNs !== proxyNs) {
    const svc = mostSpecific(
      drs.filter((r) => r.namespace === serviceNs && exportedTo(r, proxyNs)),
      host,
    );
    if (svc) return svc;
  }
  return proxyNs === root
    ? undefined
    : mostSpecific(
        drs.filter((r) => r.namespace === root && exportedTo(r, proxyNs)),
        host,
      );
}

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
  const ref = dr ? `DestinationRule ${dr.namespace}/${dr.name}` : undefined;
  const subset = d.subset ? ((dr?.spec.subsets as Obj[] | undefined) ?? []).find((s) => s.name === d.subset) : undefined;
  if (d.subset && !subset) return { exists: false, ...(ref ? { rule: ref } : {}) };
  const tls =
    tlsOfPolicy(subset?.trafficPolicy as Obj | undefined, d.port) ?? tlsOfPolicy(dr?.spec.trafficPolicy as Obj | undefined, d.port);
  const mode = tls?.mode as string | undefined;
  if (!mode || mode === 'DISABLE') return { exists: true, ...(ref ? { rule: ref } : {}) };
  const sni = (tls?.sni as string | undefined) ?? (mode === 'ISTIO_MUTUAL' ? `outbound_.${d.port}_.${d.subset}_.${d.host}` : undefined);
  return { exists: true, tls: { mode: mode as HopTls['mode'], ...(sni ? { sni } : {}) }, ...(ref ? { rule: ref } : {}) };
}
