// The gateway Pods of the install (istio-egressgateway in istio-system): found on the API as Pods whose
// istio-proxy runs `proxy router` (the gateway Deployment istioctl renders), Running with an IP (the kwok
// cluster's controllers make them from the Deployment).
import type { K8sObject, K8sOps } from '../../k8s/client.ts';

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

function _matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
