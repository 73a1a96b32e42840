// Istio on the lane's cluster, as users install it: `istioctl install -f <IstioOperator> -y` with the
// pinned build's istioctl (HOME a folder of the run, so nothing of the user's is read or written). Its
// output is kept in a log and never parsed. The installed cluster is saved as an etcd snapshot per
// (Istio build, IstioOperator text), which later runs restore instead of installing again.
//
// A scenario's own meshConfig is not re-installed (that costs seconds per scenario): its IstioOperator is
// rendered by the same istioctl (`manifest generate -o FILE`, cached) and only the mesh of ConfigMap
// istio, which is what istiod reads, is written, with the lane's generation marker.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import type { K8sOps } from '../../k8s/client.ts';
import { ISTIO_NAMESPACE, MESH_CONFIGMAP, modeOf, readMeshConfig, renderMeshConfigMap, writeMeshConfig } from '../../k8s/istio.ts';
import { istioOperatorFor } from '../../k8s/manifests.ts';
import { markerTimeout } from '../../k8s/marker.ts';
import { EnvironmentError } from '../../model/errors.ts';
import type { PolicyMode } from '../../model/types.ts';
import { pollUntil } from '../../process/poll.ts';

/** The IstioOperator the stack installs: the policy's fixture (fixtures/istio/), egress gateway included. */
export function installOperator(policy: PolicyMode = 'ALLOW_ANY'): { text: string; name: string } {
  return { text: stringify(istioOperatorFor(policy)), name: `fixtures/istio/${policy}.yaml` };
}

/** What names a snapshot of an installed cluster: the istioctl build and the IstioOperator's text. */
export function snapshotParts(goModuleVersion: string, operatorText: string): string[] {
  return [`istio ${goModuleVersion}`, `operator ${createHash('sha256').update(operatorText).digest('hex')}`];
}

/** `istioctl install -f FILE -y` against the cluster; its output goes to istioctl-install.log in `dir`. */
export async function istioctlInstall(istioctl: string, kubeconfig: string, operatorText: string, dir: string): Promise<void> {
  const home = join(dir, 'istioctl-home');
  mkdirSync(home, { recursive: true });
  const file = join(dir, 'istio-operator.yaml');
  writeFileSync(file, operatorText);
  const r = await execa(istioctl, ['install', '-f', file, '-y', '--kubeconfig', kubeconfig], {
    env: { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin' },
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 300_000,
    stdin: 'ignore',
  });
  const log = join(dir, 'istioctl-install.log');
  writeFileSync(log, String(r.all ?? ''));
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? r.message)
      .trim()
      .split('\n')
      .slice(-6)
      .join('\n');
    throw new EnvironmentError(
      `istioctl install -f ${file} failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}); log ${log}:\n${tail}`,
    );
  }
}

/** Waits until every Deployment in istio-system has all its replicas Ready (istiod's and the gateways' Pods). */
export async function waitIstioPods(k8s: K8sOps, timeoutMs: number): Promise<void> {
  let notReady: string[] = [];
  const ok = await pollUntil(
    async () => {
      const deps = await k8s.list('apps/v1', 'Deployment', ISTIO_NAMESPACE);
      notReady = deps
        .filter((d) => {
          const want = (d.spec as { replicas?: number } | undefined)?.replicas ?? 1;
          return ((d.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0) < want;
        })
        .map((d) => d.metadata.name);
      return deps.length > 0 && notReady.length === 0;
    },
    { timeoutMs, intervalMs: 20, maxIntervalMs: 100, factor: 1.4 },
  );
  if (!ok) throw new EnvironmentError(`Istio's Deployments not Ready within ${timeoutMs} ms: ${notReady.join(', ') || 'none found'}`);
}

/** Writes the mesh a policy and a scenario's meshConfig make into ConfigMap istio, with the generation marker. */
export class MeshWriter {
  private readonly meshes = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly k8s: K8sOps,
    private readonly istioctl: string,
    private readonly dir: string,
  ) {}

  async write(policy: PolicyMode, meshConfig: Record<string, unknown>, generation: number): Promise<Record<string, unknown>> {
    const mesh = structuredClone(await this.render(policy, meshConfig));
    mesh.connectTimeout = markerTimeout(generation);
    await writeMeshConfig(this.k8s, mesh);
    const back = await readMeshConfig(this.k8s);
    if (!back || modeOf(back) !== policy)
      throw new EnvironmentError(
        `ConfigMap ${ISTIO_NAMESPACE}/${MESH_CONFIGMAP} reads back outboundTrafficPolicy ${back ? modeOf(back) : '(missing)'}, not ${policy}`,
      );
    return back;
  }

  /** The mesh istioctl renders for a policy and meshConfig, once per pair (a render hit copies every object). */
  private async render(policy: PolicyMode, meshConfig: Record<string, unknown>): Promise<Record<string, unknown>> {
    const key = `${policy}\n${JSON.stringify(meshConfig)}`;
    const hit = this.meshes.get(key);
    if (hit) return hit;
    const meshCm = await renderMeshConfigMap(this.istioctl, istioOperatorFor(policy, meshConfig), join(this.dir, 'istio'));
    if (!meshCm) throw new EnvironmentError(`istioctl manifest generate rendered no ConfigMap ${ISTIO_NAMESPACE}/${MESH_CONFIGMAP}`);
    const mesh = (parse(String((meshCm.data as Record<string, string>).mesh ?? '')) ?? {}) as Record<string, unknown>;
    this.meshes.set(key, mesh);
    return mesh;
  }
}
