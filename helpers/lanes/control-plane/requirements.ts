// What the control-plane lane needs built before it can run, checked without starting anything
// (tests use it to report themselves skipped, with the command that fixes it).
import { findKubeBinarySync, type KubeProgram } from '../../tools/kube-builds.ts';
import { findKwokBinarySync, type KwokProgram } from '../../tools/kwok-builds.ts';
import { findIstioctlBuildSync, findPilotDiscoverySync, PINNED_PILOT, type PilotDiscoveryPin } from '../../tools/pilot-discovery.ts';

/** undefined when everything is there; otherwise one line naming what is missing and how to build it. */
export function controlPlaneMissing(env: NodeJS.ProcessEnv = process.env, pin: PilotDiscoveryPin = PINNED_PILOT): string | undefined {
  const missing: string[] = [];
  if (!findPilotDiscoverySync(pin, env)) missing.push('pilot-discovery');
  if (!findIstioctlBuildSync(pin, env)) missing.push('istioctl-build');
  // The kwok cluster: kwokctl runs these (helpers/cluster/kwok).
  const kube: KubeProgram[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];
  const kwok: KwokProgram[] = ['kwokctl', 'kwok', 'etcdctl', 'etcdutl'];
  for (const [p, find] of [
    ...kube.map((k) => [k, () => findKubeBinarySync(k, env)] as const),
    ...kwok.map((k) => [k, () => findKwokBinarySync(k, env)] as const),
  ]) {
    try {
      if (!find()) missing.push(p);
    } catch {
      missing.push(p);
    }
  }
  if (missing.length === 0) return undefined;
  return `the control-plane lane needs ${missing.join(', ')} built: run ${missing.map((m) => `\`egress-conformance tools install ${m}\``).join(', ')} (needs Go)`;
}
