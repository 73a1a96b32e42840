// The Pods a generated scenario has on the control-plane lane, told to the model (OracleOptions.workloads):
// a ServiceEntry workloadSelector's instances are the Pods of its namespace it matches, so which Pods exist
// decides whether a DNS entry with a selector has endpoints (istiod builds its cluster) and where a NONE
// entry that selects workloads binds. The lane makes them all before the scenario is applied.
import { sourcesFor } from '../lanes/control-plane/pods.ts';
import type { ProbeSource, ResourceSet } from '../model/types.ts';
import { type FuzzProbe, toProbe } from './scenario.ts';

/** The plain client of each client namespace, one Pod per workload selector, one per probe source. */
export function scenarioPods(resources: ResourceSet, probes: readonly FuzzProbe[]): ProbeSource[] {
  return sourcesFor(
    resources,
    probes.map((p) => toProbe(p).from),
  );
}
