// Creation order as a generated field. Istio orders configs by creationTimestamp (whole seconds), then by
// name (pilot/pkg/model/push_context.go configCompareByCreationTime), and leaves some ties to map order (two
// unmergeable entries of one namespace for one host: sidecar.go appendSidecarServices). A scenario that
// declares creation times has them made real on the API server, a second apart (helpers/k8s/workloads.ts),
// so the order under test is the one istiod sees, never names standing in for it.
//
// Decided from the scenario's own content, not drawn: an extra draw would move every later scenario of a seed.

type Obj = Record<string, unknown>;

/** Declared times start here; only their order matters (whole seconds). */
const BASE = Date.parse('2026-01-01T00:00:00Z');
/** One scenario in this many gets creation times without needing them for a tie. */
const ORDERED_SHARE = 5;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

interface Meta {
  name: string;
  namespace: string;
}

/** Whether two ServiceEntries of one namespace declare a common host: the tie istiod leaves to map order. */
export function sharesHostInNamespace(manifests: Obj[]): boolean {
  const seen = new Set<string>();
  for (const m of manifests) {
    if (m.kind !== 'ServiceEntry') continue;
    const { namespace } = m.metadata as Meta;
    const hosts = new Set(((m.spec as { hosts?: string[] } | undefined)?.hosts ?? []).map((h) => `${namespace}/${h}`));
    for (const k of hosts) {
      if (seen.has(k)) return true;
    }
    for (const k of hosts) seen.add(k);
  }
  return false;
}

/**
 * Gives each ServiceEntry its own creation second, in an order read from the scenario's content (so often
 * against name order), when its entries share a host in a namespace or for one scenario in ORDERED_SHARE.
 * Other kinds get none: the model and the API server both put them first.
 */
export function withCreationOrder(manifests: Obj[]): Obj[] {
  const h = fnv1a(JSON.stringify(manifests));
  const entries = manifests.filter((m) => m.kind === 'ServiceEntry');
  if (entries.length < 2 || (!sharesHostInNamespace(manifests) && h % ORDERED_SHARE !== 0)) return manifests;
  // A permutation of the entries by the hash: entry i gets second rank(i).
  const keyed = entries.map((m, i) => ({ m, key: fnv1a(`${h}/${i}`) }));
  const rank = new Map(keyed.sort((a, b) => a.key - b.key).map(({ m }, r) => [m, r + 1]));
  return manifests.map((m) => {
    const r = rank.get(m);
    if (r === undefined) return m;
    return { ...m, metadata: { ...(m.metadata as Obj), creationTimestamp: new Date(BASE + r * 1000).toISOString().replace('.000Z', 'Z') } };
  });
}
