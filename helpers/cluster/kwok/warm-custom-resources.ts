// A freshly started kube-apiserver builds what it needs to serve a custom resource (its schema, converters and
// storage) only at the first request for it, one CRD at a time under one lock (apiextensions-apiserver
// pkg/apiserver/customresource_handler.go getOrCreateServingInfoFor). Istio's CRDs have large schemas: on this
// machine that is 0.4-1.1 s of work before the last of them answers, and istiod, which lists every one of them before
// it calls itself ready, started it only once its own start-up (0.3-0.5 s) was done. Asking once for each, as soon
// as the API server answers, starts that work at once; istiod's lists then find it done or under way.
import { setMaxListeners } from 'node:events';
import type { ClientNodeK8s } from '../../k8s/client.ts';
import { pollUntil } from '../../process/poll.ts';

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
}

/**
 * Lists one object of every served custom resource, again while the API server answers 503 (its CRD informer
 * not synced yet), until `signal` ends it (the cluster is deleted). Never fails: it only moves work earlier, and
 * what it could not warm is served later anyway.
 */
export async function warmCustomResources(k8s: ClientNodeK8s, signal: AbortSignal, timeoutMs = 10_000): Promise<void> {
  let crds: Awaited<ReturnType<ClientNodeK8s['list']>>;
  try {
    crds = await k8s.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
  } catch {
    return;
  }
  // One wait per CRD, each listening on the same signal (Node warns past 10 listeners).
  setMaxListeners(crds.length + 10, signal);
  await Promise.all(
    crds.map((crd) => {
      const spec = crd.spec as { group?: string; names?: { kind?: string }; versions?: CrdVersion[] } | undefined;
      const version = spec?.versions?.find((v) => v.storage && v.served) ?? spec?.versions?.find((v) => v.served);
      if (!spec?.group || !spec.names?.kind || !version) return undefined;
      const apiVersion = `${spec.group}/${version.name}`;
      const kind = spec.names.kind;
      return pollUntil(
        () =>
          k8s.listFirst(apiVersion, kind).then(
            () => true,
            () => false,
          ),
        { timeoutMs, intervalMs: 20, maxIntervalMs: 50, signal },
      ).catch(() => false);
    }),
  );
}
