// The Envoy node a proxy presents to istiod on its first ADS request: its id and its metadata, which is
// what istiod selects Sidecars, Gateways and the push context by.

export interface SidecarIdentity {
  namespace: string;
  /** Pod IP sent as metadata only; nothing is ever sent to it. */
  ip: string;
  podName: string;
  labels: Record<string, string>;
  istioVersion: string;
  clusterId?: string;
  /** Extra ISTIO_META_* style metadata (e.g. DNS_CAPTURE), as the agent would derive from proxyMetadata. */
  extraMetadata?: Record<string, string>;
  /** `router` for a gateway (pilot-agent's `proxy router`); a sidecar otherwise. */
  nodeType?: 'sidecar' | 'router';
}

/** Node id `TYPE~IP~POD.NS~NS.svc.cluster.local` (pilot/pkg/model/context.go ParseServiceNodeWithMetadata). */
export function nodeId(id: SidecarIdentity): string {
  return `${id.nodeType ?? 'sidecar'}~${id.ip}~${id.podName}.${id.namespace}~${id.namespace}.svc.cluster.local`;
}

/**
 * Node metadata as pilot-agent would send it (fields of NodeMetadata in pkg/model/proxy.go; all strings,
 * LABELS a string map). istiod falls back to LABELS when no pod with the proxy's IP is known
 * (pilot/pkg/model/context.go SetWorkloadLabels), which is always the case here: that is what makes
 * Sidecar workloadSelector match.
 */
export function nodeMetadata(id: SidecarIdentity): Record<string, string | Record<string, string>> {
  return {
    NAMESPACE: id.namespace,
    ISTIO_VERSION: id.istioVersion,
    INSTANCE_IPS: id.ip,
    LABELS: id.labels,
    CLUSTER_ID: id.clusterId ?? 'Kubernetes',
    INTERCEPTION_MODE: 'REDIRECT',
    NAME: id.podName,
    WORKLOAD_NAME: id.podName,
    SERVICE_ACCOUNT: 'default',
    MESH_ID: 'cluster.local',
    ...(id.extraMetadata ?? {}),
  };
}

// google.protobuf.* come from protobufjs' bundled descriptors, whose field names are camelCase even with keepCase.
type StructValue = { stringValue: string } | { structValue: { fields: Record<string, StructValue> } };

/** The node as the DiscoveryRequest carries it: metadata as a google.protobuf.Struct. */
export function nodeOf(id: SidecarIdentity): { id: string; metadata: { fields: Record<string, StructValue> } } {
  return { id: nodeId(id), metadata: toStruct(nodeMetadata(id)) };
}

function toStruct(obj: Record<string, string | Record<string, string>>): { fields: Record<string, StructValue> } {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(obj)) {
    fields[k] = typeof v === 'string' ? { stringValue: v } : { structValue: toStruct(v) };
  }
  return { fields };
}
