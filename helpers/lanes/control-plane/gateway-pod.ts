// The gateway Pods of the install (istio-egressgateway in istio-system): found on the API as Pods whose
// istio-proxy runs `proxy router` (the gateway Deployment istioctl renders), Running with an IP.
// Where no controller turns the Deployment into a Pod (an API server without kube-controller-manager and a
// kubelet stand-in), `ensureGatewayPods` creates one from the Deployment's template and writes what a
// kubelet would through the status subresource, exactly as the lane's client Pods were made before the
// cluster had controllers.
import type { K8sObject, K8sOps } from '../../k8s/client.ts';
import { RUN_LABEL } from '../../k8s/manifests.ts';

export interface GatewayPod {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  /** `NAMESPACE/APP`, the name a hop and a case pin use (the app label, else the Pod name). */
  workload: string;
}

interface PodSpecLike {
  containers?: { name?: string; args?: string[] }[];
}

/** A proxy of node type `router`: pilot-agent started as `proxy router` (istioctl's gateway Deployment). */
export function runsRouter(spec: PodSpecLike | undefined): boolean {
  return (spec?.containers ?? []).some((c) => {
    const args = c.args ?? [];
    const i = args.indexOf('proxy');
    return i >= 0 && args[i + 1] === 'router';
  });
}

function readyIp(pod: K8sObject): string | undefined {
  const st = pod.status as { podIP?: string; phase?: string; conditions?: { type: string; status: string }[] } | undefined;
  const ready = st?.phase === 'Running' && !!st.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return ready && st?.podIP && !(pod.metadata as { deletionTimestamp?: string }).deletionTimestamp ? st.podIP : undefined;
}

export function gatewayPodOf(pod: K8sObject): GatewayPod | undefined {
  const ip = readyIp(pod);
  if (!ip || !runsRouter(pod.spec as PodSpecLike)) return undefined;
  const labels = { ...(pod.metadata.labels ?? {}) };
  const ns = pod.metadata.namespace ?? 'default';
  return { namespace: ns, name: pod.metadata.name, ip, labels, workload: `${ns}/${labels.app ?? pod.metadata.name}` };
}

export async function gatewayPods(k8s: K8sOps): Promise<GatewayPod[]> {
  const pods = await k8s.list('v1', 'Pod');
  return pods.flatMap((p) => gatewayPodOf(p) ?? []);
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * For every gateway Deployment with no Ready Pod: a Pod from its template, Running and Ready with an address
 * from 10.244.250.0/24 (outside the range client Pods take). Returns the gateway Pods afterwards.
 */
export async function ensureGatewayPods(k8s: K8sOps, runId: string): Promise<GatewayPod[]> {
  const have = await gatewayPods(k8s);
  const deployments = (await k8s.list('apps/v1', 'Deployment')).filter((d) =>
    runsRouter((d.spec as { template?: { spec?: PodSpecLike } }).template?.spec),
  );
  let n = 2;
  for (const d of deployments) {
    const template = (d.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: Record<string, unknown> } }).template;
    const labels = template.metadata?.labels ?? {};
    if (have.some((g) => g.namespace === d.metadata.namespace && matches(labels, g.labels))) continue;
    const ns = d.metadata.namespace ?? 'default';
    const name = `${d.metadata.name}-lane`;
    const existing = await k8s.get({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name });
    if (!existing)
      await k8s.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns, labels: { ...labels, [RUN_LABEL]: runId } },
        spec: template.spec,
      });
    const ip = `10.244.250.${n++}`;
    const now = new Date().toISOString();
    await k8s.setPodStatus(ns, name, {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '127.0.0.1',
      startTime: now,
      conditions: ['Initialized', 'ContainersReady', 'PodScheduled', 'Ready'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: now,
      })),
    });
  }
  return gatewayPods(k8s);
}
