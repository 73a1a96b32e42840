// The cluster type the model gives a hop, against what the real istiod's CDS carries (the control-plane lane
// reads `type` / `cluster_type` from it; helpers/lanes/control-plane/testdata shows STRICT_DNS, EDS and
// ORIGINAL_DST clusters as captured): pilot/pkg/networking/core/cluster.go convertResolution and
// buildOutboundClusters.
import { describe, expect, it } from 'vitest';
import type { ResourceSet, ServiceEntry } from '../model/types.ts';
import { clusterDiscovery } from './discovery.ts';

const se = (over: Partial<ServiceEntry>): ServiceEntry => ({
  kind: 'ServiceEntry',
  name: 'e',
  namespace: 'default',
  order: 0,
  hosts: ['api.example.com'],
  addresses: [],
  ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
  location: 'MESH_EXTERNAL',
  resolution: 'DNS',
  endpoints: [],
  exportTo: [],
  source: { file: 't', doc: 1 },
  manifest: {},
  ...over,
});
const with1 = (e: ServiceEntry): ResourceSet => ({ mesh: { meshConfig: {} }, serviceEntries: [e], sidecars: [] });

describe('clusterDiscovery', () => {
  it('follows the entry’s resolution; NONE is the dialled address on a sidecar, EDS on a gateway', () => {
    const c = 'outbound|443||api.example.com';
    expect(clusterDiscovery(with1(se({ resolution: 'DNS' })), c, 'sidecar')).toBe('STRICT_DNS');
    expect(clusterDiscovery(with1(se({ resolution: 'DNS_ROUND_ROBIN' })), c, 'sidecar')).toBe('LOGICAL_DNS');
    expect(clusterDiscovery(with1(se({ resolution: 'STATIC' })), c, 'sidecar')).toBe('EDS');
    expect(clusterDiscovery(with1(se({ resolution: 'NONE' })), c, 'sidecar')).toBe('ORIGINAL_DST');
    expect(clusterDiscovery(with1(se({ resolution: 'NONE' })), c, 'gateway')).toBe('EDS');
  });

  it('a wildcard DYNAMIC_DNS entry: a dynamic forward proxy on HTTP, TLS, GRPC and HTTP2 ports only', () => {
    const wild = se({
      hosts: ['*.example.com'],
      resolution: 'DYNAMIC_DNS',
      ports: [
        { number: 443, name: 'tls', protocol: 'TLS' },
        { number: 5432, name: 'pg', protocol: 'TCP' },
      ],
    });
    expect(clusterDiscovery(with1(wild), 'outbound|443||*.example.com', 'sidecar')).toBe('DYNAMIC_FORWARD_PROXY');
    expect(clusterDiscovery(with1(wild), 'outbound|5432||*.example.com', 'sidecar')).toBeUndefined();
  });

  it('the catch-alls and the install’s gateway Service; nothing for a cluster no service has', () => {
    const r = with1(se({}));
    expect(clusterDiscovery(r, 'PassthroughCluster', 'sidecar')).toBe('ORIGINAL_DST');
    expect(clusterDiscovery(r, 'BlackHoleCluster', 'sidecar')).toBe('STATIC');
    expect(clusterDiscovery(r, 'AllowAnyDynamicDNSCluster', 'sidecar')).toBe('DYNAMIC_FORWARD_PROXY');
    expect(clusterDiscovery(r, 'outbound|80|api|istio-egressgateway.istio-system.svc.cluster.local', 'sidecar')).toBe('EDS');
    expect(clusterDiscovery(r, 'outbound|80||api.example.org', 'sidecar')).toBeUndefined();
  });
});
