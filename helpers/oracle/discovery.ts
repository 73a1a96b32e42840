// How a proxy's cluster finds its upstream address, as istiod types the cluster. Pure.
// Facts, at the pinned build (istio.io/istio v0.0.0-20260827124520-eed52ebb66ad):
// - pilot/pkg/networking/core/cluster.go convertResolution: resolution STATIC is EDS, DNS STRICT_DNS,
//   DNS_ROUND_ROBIN LOGICAL_DNS, NONE ORIGINAL_DST ("Gateways cannot use passthrough clusters. So fallback to
//   EDS"); a Kubernetes Service is EDS.
// - cluster.go buildOutboundClusters: a wildcard DYNAMIC_DNS entry's HTTP, TLS, GRPC and HTTP2 ports get a
//   dynamic forward proxy cluster (cluster_builder.go buildDFPCluster), which resolves each request's own Host
//   or SNI; its other ports get none.
// - PassthroughCluster is ORIGINAL_DST, BlackHoleCluster STATIC, AllowAnyDynamicDNSCluster a dynamic forward
//   proxy (cluster_builder.go), as the real istiod's CDS shows.
import type { ClusterDiscovery, Hop, ResourceSet } from '../model/types.ts';
import { gatewayServiceFor } from './gateway.ts';
import { isWildcard } from './hosts.ts';
import { DFP_CLUSTER } from './landing.ts';

const DFP_PROTOCOLS = new Set(['HTTP', 'TLS', 'GRPC', 'HTTP2']);

export function clusterDiscovery(resources: ResourceSet, cluster: string, proxy: Hop['kind']): ClusterDiscovery | undefined {
  if (cluster === 'PassthroughCluster') return 'ORIGINAL_DST';
  if (cluster === 'BlackHoleCluster') return 'STATIC';
  if (cluster === DFP_CLUSTER) return 'DYNAMIC_FORWARD_PROXY';
  const m = /^outbound\|(\d+)\|[^|]*\|(.+)$/.exec(cluster);
  if (!m) return undefined;
  const port = Number(m[1]);
  const host = m[2]!;
  if (gatewayServiceFor(host)) return 'EDS';
  const se = resources.serviceEntries.find((s) => s.hosts.includes(host) && s.ports.some((p) => p.number === port));
  if (!se) return undefined;
  switch (se.resolution) {
    case 'NONE':
      return proxy === 'gateway' ? 'EDS' : 'ORIGINAL_DST';
    case 'STATIC':
      return 'EDS';
    case 'DNS':
      return 'STRICT_DNS';
    case 'DNS_ROUND_ROBIN':
      return 'LOGICAL_DNS';
    case 'DYNAMIC_DNS': {
      const protocol = se.ports.find((p) => p.number === port)?.protocol ?? '';
      return isWildcard(host) && DFP_PROTOCOLS.has(protocol) ? 'DYNAMIC_FORWARD_PROXY' : undefined;
    }
  }
}

/** The hop with its cluster's discovery, when the model knows it. */
export function withDiscovery(resources: ResourceSet, hop: Hop): Hop {
  if (hop.discovery) return hop;
  const discovery = clusterDiscovery(resources, hop.cluster, hop.kind);
  return discovery ? { ...hop, discovery } : hop;
}
