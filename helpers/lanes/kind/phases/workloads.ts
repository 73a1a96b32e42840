// Namespaces (injection labels set before any client exists) and the client Pods: curl and psql in one
// Pod per namespace and label set, sidecar-injected except in the control namespace.
import { clientPodManifest, CONTROL_NAMESPACE, namespaceObjects, shortHash, type ClientSpec } from '../../../k8s/manifests.ts';
import { waitInjectorAnswers } from '../../../k8s/injector.ts';
import { ensureNamespaces } from '../../../k8s/workloads.ts';
import { StepError } from '../../../model/errors.ts';
import type { RunContext } from '../context.ts';
import { canonical } from '../context.ts';
import type { K8sObject, Runner } from '../runner.ts';

export { clientFor, type ClientSpec } from '../../../k8s/manifests.ts';

export const INJECTED_NAMESPACES = ['frontend', 'default'];

export function isInjected(c: ClientSpec): boolean {
  return c.namespace !== CONTROL_NAMESPACE;
}

export function controlClient(): ClientSpec {
  return { namespace: CONTROL_NAMESPACE, name: 'egress-client', labels: {} };
}

export function clientKey(c: { namespace: string; name: string }): string {
  return `${c.namespace}/${c.name}`;
}

/** The namespaces of fixtures/workloads/namespaces.yaml, plus these others (injected). */
export function namespaceManifests(ctx: RunContext, extra: string[]): K8sObject[] {
  return namespaceObjects(extra, { inject: true, runId: ctx.runId });
}

export async function applyNamespaces(r: Runner, namespaces: K8sObject[]): Promise<void> {
  await r.step(
    `namespaces: ${namespaces.map((n) => n.metadata.name).join(', ')} (injection labels set before any client exists)`,
    async () => {
      // kind's controller manager makes each namespace's default ServiceAccount.
      await ensureNamespaces(r.kube, namespaces, { serviceAccount: false });
    },
  );
}

/**
 * Istio's injector answers before a client exists: a client created while it does not would come up
 * without its sidecar (or be refused). Proved by a dry-run Pod in an injected namespace coming back with
 * istio-proxy (helpers/k8s/injector.ts); a dry run of an Istio object would pass with no webhook called.
 */
export async function ensureInjector(r: Runner, ctx: RunContext, signal?: AbortSignal): Promise<void> {
  const namespace = INJECTED_NAMESPACES[0]!;
  await r.opaque(
    {
      op: 'wait',
      what: `sidecar injector answers (server-side dry-run create of a Pod in ${namespace}: it comes back with istio-proxy)`,
      timeoutMs: ctx.timeouts.webhook,
    },
    async (k) => {
      const a = await waitInjectorAnswers(k, { namespace, timeoutMs: ctx.timeouts.webhook, signal });
      r.note(`sidecar injector answers: istio-proxy injected as a ${a.placement}`);
    },
    undefined,
  );
}

/** Annotation holding a hash of what a client was made from (its manifest and the proxy defaults). */
export const CLIENT_HASH_ANNOTATION = 'egress-conformance.io/client-hash';

export function clientManifest(ctx: RunContext, client: ClientSpec, proxyKey: string): K8sObject {
  const pod = clientPodManifest(client, { curl: ctx.versions.images.curl, postgres: ctx.versions.images.postgres }, ctx.runId);
  // The run label changes every run: it is left out of the hash, so a reused cluster keeps a client that
  // was made the same way (same images, same proxy defaults at injection) and recreates any other.
  const { metadata, ...rest } = pod;
  const { labels, ...meta } = metadata;
  const hash = shortHash(JSON.stringify(canonical({ ...rest, metadata: meta })) + proxyKey).slice(0, 6);
  pod.metadata.annotations = { ...pod.metadata.annotations, [CLIENT_HASH_ANNOTATION]: hash };
  return pod;
}

/**
 * Creates each client unless one made the same way exists (`recreate`: always anew, after the proxy
 * defaults changed), then waits until every named container, istio-proxy included, is ready.
 */
export async function ensureClients(r: Runner, ctx: RunContext, clients: ClientSpec[], recreate: boolean, proxyKey: string): Promise<void> {
  await r.step(`clients: ${recreate ? 'recreate' : 'deploy if absent'} ${clients.map(clientKey).join(', ')}`, async () => {
    for (const c of clients) {
      const manifest = clientManifest(ctx, c, proxyKey);
      const ref = { apiVersion: 'v1', kind: 'Pod', namespace: c.namespace, name: c.name };
      const want = manifest.metadata.annotations![CLIENT_HASH_ANNOTATION];
      const existing = await r.read(
        `Pod ${clientKey(c)}: present, and made the same way (annotation ${CLIENT_HASH_ANNOTATION})?`,
        async (k) => {
          const pod = await k.get(ref);
          return pod ? (pod.metadata.annotations?.[CLIENT_HASH_ANNOTATION] ?? '') : null;
        },
        recreate ? 'earlier' : null,
        recreate ? 'present, made with the earlier proxy defaults' : 'absent',
      );
      if (existing === want && !recreate) continue;
      if (existing !== null) {
        r.note(`Pod ${clientKey(c)} was made differently (earlier run or other proxy defaults): recreating`);
        await r.delete(ref);
        await r.waitFor(`Pod ${clientKey(c)} deleted`, ctx.timeouts.pods, async (k) => ((await k.get(ref)) ? undefined : true), {
          assumed: true,
        });
      }
      await r.apply(manifest);
    }
    for (const c of clients) {
      const containers = isInjected(c) ? ['curl', 'psql', 'istio-proxy'] : ['curl', 'psql'];
      const ref = { apiVersion: 'v1', kind: 'Pod', namespace: c.namespace, name: c.name };
      let state = 'not found';
      await r.waitFor(
        `Pod ${clientKey(c)} ready (${containers.join(', ')})`,
        ctx.timeouts.pods,
        async (k) => {
          const res = podReadiness(await k.get(ref), containers);
          state = res.state;
          if (res.fatal) throw new StepError(`Pod ${clientKey(c)}: ${res.state}`);
          return res.ready ? true : undefined;
        },
        { assumed: true, state: () => state },
      );
    }
  });
}

interface ContainerStatus {
  name: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string } };
}

/** Ready when the pod is Ready and each named container (istio-proxy may be a native sidecar init container) is. */
export function podReadiness(pod: K8sObject | undefined, containers: string[]): { ready: boolean; fatal: boolean; state: string } {
  if (!pod) return { ready: false, fatal: false, state: 'not found' };
  const status = (pod.status ?? {}) as { phase?: string; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  const declared = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name);
  if (containers.includes('istio-proxy') && declared.length > 0 && !declared.includes('istio-proxy')) {
    return {
      ready: false,
      fatal: true,
      state: 'no istio-proxy container: the sidecar was not injected (namespace label or injector not ready when the pod was created)',
    };
  }
  const statuses = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])];
  const missing: string[] = [];
  for (const name of containers) {
    const s = statuses.find((c) => c.name === name);
    if (!s?.ready) {
      const waiting = s?.state?.waiting;
      if (waiting?.reason && /ImagePullBackOff|ErrImagePull|InvalidImageName|CreateContainerConfigError/.test(waiting.reason)) {
        return { ready: false, fatal: true, state: `${name}: ${waiting.reason} ${waiting.message ?? ''}`.trim() };
      }
      missing.push(`${name}${waiting?.reason ? ` (${waiting.reason})` : ''}`);
    }
  }
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  const podReady = conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  if (missing.length === 0 && podReady) return { ready: true, fatal: false, state: 'ready' };
  return { ready: false, fatal: false, state: `phase ${status.phase ?? '?'}; not ready: ${missing.join(', ') || 'pod condition'}` };
}
