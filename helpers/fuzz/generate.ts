// A whole generated scenario: mesh settings, ServiceEntries and Sidecars, in some scenarios routing on a host
// they declare (routing-arbitraries.ts), each resource repaired or dropped alone (repair.ts), then probes aimed
// at what the surviving resources declare (probes.ts) and at what the routing routes (routing-probes.ts).
import fc from 'fast-check';
import {
  meshArb,
  meshConfigOf,
  rawServiceEntryArb,
  type RawSidecar,
  rawSidecarArb,
  serviceEntryManifest,
  sidecarManifest,
  uniqueByName,
} from './arbitraries.ts';
import { withCreationOrder } from './creation-order.ts';
import { type MeshExport, probesArb } from './probes.ts';
import { repair } from './repair.ts';
import { routingArb } from './routing-arbitraries.ts';
import { routedProbesArb } from './routing-probes.ts';
import type { FuzzScenario } from './scenario.ts';

type Obj = Record<string, unknown>;

export interface ScenarioArbOptions {
  maxServiceEntries?: number;
  maxSidecars?: number;
  maxProbes?: number;
  /** At least this many probes aimed by the scenario's own declarations (1 unless told; the corpus asks more). */
  minProbes?: number;
  /** The share of scenarios with routing kinds (routing-arbitraries.ts); 1/4 unless told. */
  routingShare?: number;
}

/** Repairs each manifest alone; drops (and names) the ones that cannot be; one object per namespace/name. */
export function repairAll(manifests: Obj[]): { manifests: Obj[]; dropped: string[]; repairs: string[] } {
  const kept: Obj[] = [];
  const dropped: string[] = [];
  const repairs: string[] = [];
  const seen = new Set<string>();
  for (const m of manifests) {
    const md = m.metadata as { name: string; namespace: string };
    const key = `${String(m.kind)}/${md.namespace}/${md.name}`;
    // Two Sidecars drawn for `root` and for the namespace the mesh names root collapse onto one name: keep the first.
    if (seen.has(key)) continue;
    seen.add(key);
    const r = repair(m);
    if (r.ok) {
      kept.push(r.manifest);
      repairs.push(...r.repairs);
    } else dropped.push(r.why);
  }
  return { manifests: kept, dropped, repairs };
}

export function scenarioArb(opts: ScenarioArbOptions = {}): fc.Arbitrary<FuzzScenario> {
  return fc
    .record({
      mesh: meshArb,
      serviceEntries: uniqueByName(rawServiceEntryArb, opts.maxServiceEntries ?? 3).filter((x) => x.length > 0),
      // Two scenarios in three without a Sidecar: a Sidecar narrows what every probe of its scope sees.
      sidecars: fc.oneof(
        { weight: 2, arbitrary: fc.constant<RawSidecar[]>([]) },
        { weight: 1, arbitrary: uniqueByName(rawSidecarArb, opts.maxSidecars ?? 2) },
      ),
    })
    .chain(({ mesh, serviceEntries, sidecars }) => {
      const root = mesh.rootNamespace ?? 'istio-system';
      const base = repairAll([...serviceEntries.map(serviceEntryManifest), ...sidecars.map((s) => sidecarManifest(s, root))]);
      const meshExport: MeshExport = {
        defaultServiceExportTo: mesh.defaultServiceExportTo,
        serviceEntryVisibility: mesh.serviceEntryVisibility as MeshExport['serviceEntryVisibility'],
      };
      // Routing (Gateway, VirtualService, DestinationRule) on a host the surviving entries declare, in some scenarios.
      return routingArb(base.manifests, opts.routingShare).chain((drawn) => {
        const routing = repairAll(drawn);
        const manifests = withCreationOrder([...base.manifests, ...routing.manifests]);
        const dropped = [...base.dropped, ...routing.dropped];
        return fc
          .tuple(
            probesArb(base.manifests, opts.maxProbes ?? 8, meshExport, opts.minProbes),
            routedProbesArb(routing.manifests, base.manifests, meshExport),
          )
          .map(
            ([probes, routed]): FuzzScenario => ({
              policy: mesh.policy,
              meshConfig: meshConfigOf(mesh),
              manifests,
              probes: [...probes, ...routed],
              ...(dropped.length ? { dropped } : {}),
            }),
          );
      });
    });
}
