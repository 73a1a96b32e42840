// Hand-made ResourceSets shared by the control-plane lane tests, the fixture capture and the benchmark.
// `manifest: {}` on purpose: the lane must render these from the typed fields.
import type { MeshSettings, ResourceSet, SePort, ServiceEntry, Sidecar } from '../../../model/types.ts';

const src = { file: 'testdata/resources.ts', doc: 1 };

export function se(name: string, namespace: string, hosts: string[], ports: SePort[], extra: Partial<ServiceEntry> = {}): ServiceEntry {
  return {
    kind: 'ServiceEntry',
    name,
    namespace,
    order: 0,
    hosts,
    addresses: [],
    ports,
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    endpoints: [],
    exportTo: [],
    source: src,
    manifest: {},
    ...extra,
  };
}

export function sidecar(name: string, namespace: string, hosts: string[], extra: Partial<Sidecar> = {}): Sidecar {
  return { kind: 'Sidecar', name, namespace, order: 0, egress: [{ hosts }], source: src, manifest: {}, ...extra };
}

export function resources(serviceEntries: ServiceEntry[] = [], sidecars: Sidecar[] = [], mesh: Partial<MeshSettings> = {}): ResourceSet {
  return { mesh: { meshConfig: {}, ...mesh }, serviceEntries, sidecars };
}

export const DB_TCP = se('external-db', 'frontend', ['db.example.com'], [{ number: 5432, name: 'tcp-postgres', protocol: 'TCP' }]);
export const API_HTTP = se(
  'api',
  'frontend',
  ['api.example.com'],
  [
    { number: 80, name: 'http', protocol: 'HTTP' },
    { number: 443, name: 'https', protocol: 'HTTPS' },
  ],
);
export const WILDCARD_TLS = se('wild', 'default', ['*.wild.example.com'], [{ number: 443, name: 'tls', protocol: 'TLS' }], {
  resolution: 'NONE',
});
export const DB_WITH_ADDRESS = se('pinned-db', 'frontend', ['pinned-db.example.com'], [{ number: 5433, name: 'tcp-pg', protocol: 'TCP' }], {
  addresses: ['192.0.2.10'],
  resolution: 'STATIC',
  endpoints: [{ address: '192.0.2.10' }],
});
