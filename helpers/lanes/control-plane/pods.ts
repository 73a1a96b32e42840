// The client Pods of a scenario, as real Pods on the kwok cluster: created through the API, scheduled by
// kube-scheduler, made Running and Ready with an IP from the fake Node's podCIDR by the kwok controller.
// Nothing here writes a Pod's status. Each scenario gets exactly its Pods: the plain client of each client
// namespace (the same for every scenario, so it stays), plus one Pod per label set the scenario's
// workload selectors or the caller's probe sources name, created before the scenario is applied and
// deleted when the next one does not need it.
import type { K8sOps } from '../../k8s/client.ts';
import { CONTROL_NAMESPACE, clientFor, clientPodManifest, namespaceObjects } from '../../k8s/manifests.ts';
import { ensureDefaultServiceAccount, ensureNamespaces } from '../../k8s/workloads.ts';
import type { ProbeSource, ResourceSet } from '../../model/types.ts';
import { pollUntil } from '../../process/poll.ts';
import { PINNED } from '../../tools/versions.ts';

export interface ClientPod {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
}

/** The namespaces every run probes from (fixtures/workloads/namespaces.yaml). */
export const CLIENT_NAMESPACES = ['frontend', 'default', CONTROL_NAMESPACE];

const CLIENT_SELECTOR = 'egress-conformance.io/client=true';

/** A scenario with nothing in it: its Pods are the plain clients alone. */
export const NO_RESOURCES: ResourceSet = { mesh: { meshConfig: {} }, serviceEntries: [], sidecars: [] };

/**
 * The sources a scenario needs Pods for: the plain client of every client namespace, one Pod per
 * workload selector of its Sidecars and ServiceEntries (in their namespace: a selector matches there
 * only), and the caller's own probe sources.
 */
export function sourcesFor(resources: ResourceSet, extra: ProbeSource[] = []): ProbeSource[] {
  const out = new Map<string, ProbeSource>();
  const add = (s: ProbeSource) => {
    const c = clientFor(s);
    out.set(`${c.namespace}/${c.name}`, s);
  };
  for (const ns of CLIENT_NAMESPACES) add({ namespace: ns });
  for (const r of [...resources.sidecars, ...resources.serviceEntries])
    if (r.workloadSelector && Object.keys(r.workloadSelector).length > 0) add({ namespace: r.namespace, labels: r.workloadSelector });
  for (const s of extra) add(s);
  return [...out.values()];
}

export class ClientPods {
  private readonly known = new Map<string, ClientPod>();
  private readonly namespaces = new Set<string>();
  private wantedSources: ProbeSource[] = [];
  /**
   * Pods are read from the API server's watch cache (a consistent list right after a write waits 50–80 ms
   * here for the cache to catch up with etcd). The cache can only be behind in two ways, both covered: a
   * Pod this object deleted may still show (its uid is remembered and skipped), and anything before this
   * object existed (its first list is consistent). A Pod it created is seen in the cache before sync returns.
   */
  private readonly deletedUids = new Set<string>();
  private listedOnce = false;

  constructor(
    private readonly k8s: K8sOps,
    private readonly runId: string,
  ) {}

  /** The sources of the last sync. */
  wanted(): ProbeSource[] {
    return [...this.wantedSources];
  }

  /** The Pod of a source when it exists and has its IP. */
  get(source: ProbeSource): ClientPod | undefined {
    const c = clientFor(source);
    return this.known.get(`${c.namespace}/${c.name}`);
  }

  /**
   * Makes the run's client Pods exactly those of `sources`: creates the missing ones, deletes the others,
   * and waits until every wanted Pod is Running and Ready with an IP on the API.
   */
  async sync(sources: ProbeSource[], timeoutMs: number): Promise<ClientPod[]> {
    this.wantedSources = [...sources];
    const specs = sources.map(clientFor);
    const want = new Set(specs.map((s) => `${s.namespace}/${s.name}`));
    const live = await this.listClients();
    const have = new Set(live.map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
    const stale = live.filter((p) => !want.has(`${p.metadata.namespace}/${p.metadata.name}`));
    await Promise.all(
      stale.map(async (p) => {
        await this.k8s.delete({ apiVersion: 'v1', kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name }, { force: true });
        this.deletedUids.add(String(p.metadata.uid));
      }),
    );
    for (const p of stale) this.known.delete(`${p.metadata.namespace}/${p.metadata.name}`);
    const missing = specs.filter((s) => !have.has(`${s.namespace}/${s.name}`));
    await this.ensureNamespaces([...new Set(missing.map((s) => s.namespace))]);
    const images = { curl: PINNED.images.curl, postgres: PINNED.images.postgres };
    await Promise.all(missing.map((s) => this.k8s.create(clientPodManifest(s, images, this.runId))));
    return this.waitRunning(specs, timeoutMs);
  }

  /** Deletes every client Pod of the run (forced: kwok removes nothing gracefully). */
  async clear(): Promise<void> {
    await this.sync([], 0);
  }

  private async ensureNamespaces(names: string[]): Promise<void> {
    const todo = names.filter((n) => !this.namespaces.has(n));
    if (todo.length === 0) return;
    await ensureNamespaces(
      this.k8s,
      namespaceObjects(todo, { inject: false, runId: this.runId }).filter((n) => todo.includes(n.metadata.name)),
      { serviceAccount: false },
    );
    // The ServiceAccount admission plugin refuses a Pod until its namespace's `default` ServiceAccount
    // exists; the controller-manager makes it, but not before this request (also istio-system).
    await Promise.all(todo.map((n) => ensureDefaultServiceAccount(this.k8s, n)));
    for (const n of todo) this.namespaces.add(n);
  }

  private async listClients() {
    const cached = this.listedOnce;
    this.listedOnce = true;
    const pods = await this.k8s.listPods(undefined, CLIENT_SELECTOR, { cached });
    return pods.filter((p) => !this.deletedUids.has(String(p.metadata.uid)));
  }

  private async waitRunning(specs: { namespace: string; name: string; labels: Record<string, string> }[], timeoutMs: number) {
    if (specs.length === 0) return [];
    let pending = specs.map((s) => `${s.namespace}/${s.name}`);
    const ok = await pollUntil(
      async () => {
        const pods = await this.listClients();
        for (const p of pods) {
          const st = p.status as { podIP?: string; phase?: string; conditions?: { type: string; status: string }[] } | undefined;
          const ready = st?.phase === 'Running' && !!st.podIP && !!st.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          const key = `${p.metadata.namespace}/${p.metadata.name}`;
          if (ready && !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp)
            this.known.set(key, {
              namespace: p.metadata.namespace!,
              name: p.metadata.name,
              ip: st.podIP!,
              labels: { ...(p.metadata.labels ?? {}) },
            });
        }
        pending = pending.filter((k) => !this.known.has(k));
        return pending.length === 0;
      },
      { timeoutMs, intervalMs: 10, maxIntervalMs: 100, factor: 1.5 },
    );
    if (!ok) throw new Error(`client Pods not Running and Ready with an IP within ${timeoutMs} ms: ${pending.join(', ')}`);
    return specs.map((s) => this.known.get(`${s.namespace}/${s.name}`)!);
  }
}
