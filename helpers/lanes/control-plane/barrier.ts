// Waits until istiod has taken in a change, by facts istiod itself reports, never by sleeping:
// - the allocation barrier: a sentinel ServiceEntry applied after the scenario's, which the IP allocator
//   addresses only once it has worked through every entry before it;
// - istiod's config store (/debug/configz) holds exactly the scenario's objects at its generation, with
//   the status the API has;
// - the ServiceEntry registry (/debug/registryz) lists exactly the scenario's hosts;
// - the generation marker: the mesh written with a marker connectTimeout reaches a fresh ADS fetch
//   (a full push, built from the store checked above; see helpers/k8s/marker.ts).
import type { K8sObject, K8sOps } from '../../k8s/client.ts';
import { ISTIO_NAMESPACE } from '../../k8s/istio.ts';
import { GENERATION_ANNOTATION, RUN_LABEL } from '../../k8s/manifests.ts';
import { markerMillis, markerOf } from '../../k8s/marker.ts';
import { keyOf } from '../../k8s/workloads.ts';
import { pollUntil } from '../../process/poll.ts';
import { type Istiod, PROBE_IDENTITY } from './istiod.ts';

interface ConfigzItem {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; resourceVersion?: string };
  status?: { addresses?: unknown[] } | null;
}

interface RegistryzItem {
  hostname?: string;
  Attributes?: { Name?: string; Namespace?: string; ServiceRegistry?: string };
}

export const SENTINEL_HOST = (gen: number) => `allocation-barrier-${gen}.egress-conformance.invalid`;

/**
 * Exported to no namespace (`~`), so no proxy sees it; DNS resolution and a non-wildcard host make it one
 * the IP allocator addresses (pilot/pkg/networking/serviceentry autoallocate ShouldV2AutoAllocateIP).
 */
export function sentinel(generation: number, runId: string): K8sObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: {
      name: 'egress-conformance-allocation-barrier',
      namespace: ISTIO_NAMESPACE,
      labels: { [RUN_LABEL]: runId },
      annotations: { [GENERATION_ANNOTATION]: String(generation) },
    },
    spec: { hosts: [SENTINEL_HOST(generation)], ports: [{ number: 9, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS', exportTo: ['~'] },
  };
}

export class Barrier {
  constructor(
    private readonly k8s: K8sOps,
    private readonly istiod: Istiod,
    private readonly istioVersion: string,
  ) {}

  /**
   * The allocator works through one queue in order (pilot/pkg/controllers/ipallocate), so once the barrier
   * entry, applied after the scenario's, carries its address for this generation's host, every entry
   * before it has been addressed (or left alone) too. No model of which entries get addresses is needed.
   */
  allocator(s: K8sObject, timeout: number): Promise<number> {
    const host = (s.spec as { hosts: string[] }).hosts[0];
    return this.poll('the IP allocator to reach the barrier entry', timeout, async () => {
      const live = await this.k8s.get({ apiVersion: s.apiVersion, kind: s.kind, namespace: s.metadata.namespace, name: s.metadata.name });
      const addrs = (live?.status as { addresses?: { host?: string }[] } | undefined)?.addresses ?? [];
      return addrs.some((a) => a.host === host);
    });
  }

  /** istiod's store holds exactly these objects (at this generation, or at their live resourceVersion), with the API's status. */
  async store(objects: K8sObject[], generation: number | undefined, timeout: number): Promise<number> {
    const want = new Map<string, string>();
    const versions = new Map<string, string>();
    const lives = await Promise.all(
      objects.map((o) => this.k8s.get({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name })),
    );
    objects.forEach((o, i) => {
      versions.set(keyOf(o), String(lives[i]?.metadata.resourceVersion ?? ''));
      want.set(keyOf(o), canonicalJson((lives[i]?.status as { addresses?: unknown[] } | undefined)?.addresses ?? []));
    });
    // ServiceEntries and Sidecars always (none may be left over), and any other kind the scenario has.
    const kinds = new Set(['ServiceEntry', 'Sidecar', ...objects.map((o) => o.kind)]);
    const what = generation === undefined ? "istiod's config store" : `istiod's config store at generation ${generation}`;
    return this.poll(what, timeout, async () => {
      const items = (await this.istiod.debug<ConfigzItem[]>('/debug/configz')).filter((c) => kinds.has(c.kind));
      if (items.length !== want.size) return false;
      return items.every((c) => {
        const k = `${c.kind}/${c.metadata.namespace ?? ''}/${c.metadata.name}`;
        const fresh =
          generation === undefined
            ? c.metadata.resourceVersion === versions.get(k)
            : c.metadata.annotations?.[GENERATION_ANNOTATION] === String(generation);
        return want.get(k) === canonicalJson(c.status?.addresses ?? []) && fresh;
      });
    });
  }

  /** The ServiceEntry registry lists exactly these `namespace/host` names. */
  registry(wantHosts: Set<string>, timeout: number): Promise<number> {
    return this.poll('ServiceEntry services in the registry', timeout, async () => {
      const items = await this.istiod.debug<RegistryzItem[]>('/debug/registryz');
      const have = new Set(
        items
          .filter((s) => s.Attributes?.ServiceRegistry === 'External')
          .map((s) => `${s.Attributes?.Namespace}/${s.hostname ?? s.Attributes?.Name}`),
      );
      return have.size === wantHosts.size && [...have].every((h) => wantHosts.has(h));
    });
  }

  /**
   * The mesh change forces a full push, whose push context is built from the store checked above. A fresh
   * stream's CDS is built from istiod's current push context, as its LDS and RDS would be: CDS alone shows it.
   */
  marker(generation: number, timeout: number): Promise<number> {
    return this.poll('mesh config pushed over ADS', timeout, async () => {
      const clusters = await this.istiod.clusters(PROBE_IDENTITY(this.istioVersion), { timeoutMs: 5000 });
      return markerOf(clusters.find((c) => c.name === 'PassthroughCluster')) === markerMillis(generation);
    });
  }

  async poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
    let attempts = 0;
    const seen = await pollUntil(
      async () => {
        attempts++;
        return check().catch(() => false);
      },
      { timeoutMs, intervalMs: 5, maxIntervalMs: 40, factor: 1.5 },
    );
    if (!seen) {
      // istiod keeps the last good mesh when a new one does not validate; say so instead of just timing out.
      const rejected = this.istiod
        .log()
        .split('\n')
        .filter((l) => l.includes('invalid mesh config') || l.includes('failed to read mesh'))
        .at(-1);
      throw new Error(
        `istiod did not reflect ${what} within ${timeoutMs} ms (${attempts} checks)` +
          `${rejected ? `; istiod rejected the mesh config: ${rejected.trim()}` : ''}; log: ${this.istiod.logFile}`,
      );
    }
    return attempts;
  }
}

/** JSON with object keys sorted: the API server and istiod's debug dump order fields differently. */
export function canonicalJson(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sort)
      : x && typeof x === 'object'
        ? Object.fromEntries(
            Object.entries(x)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, y]) => [k, sort(y)]),
          )
        : x;
  return JSON.stringify(sort(v));
}
