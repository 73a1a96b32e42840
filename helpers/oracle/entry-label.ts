// How an answer names a registry entry: a ServiceEntry, or the Kubernetes Service the install created
// (sidecars see both alike; a reader must not go looking for a ServiceEntry that nobody wrote).
import type { ServiceEntry } from '../model/types.ts';

export function entryLabel(se: Pick<ServiceEntry, 'namespace' | 'name' | 'kubernetesService'>): string {
  return `${se.kubernetesService ? 'Service' : 'ServiceEntry'} ${se.namespace}/${se.name}`;
}
