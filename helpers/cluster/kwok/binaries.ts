// The pinned programs a kwok cluster runs, found in the cache or (when asked) built: kwokctl, the kwok
// controller, etcd's tools and the Kubernetes components.
import { ensureKubeBinary } from '../../tools/kube-builds.ts';
import { ensureKwokBinary } from '../../tools/kwok-builds.ts';
import type { KwokBinaries } from './config.ts';

export async function kwokClusterBinaries(opts: { build?: boolean; onProgress?: (l: string) => void; env?: NodeJS.ProcessEnv }) {
  const o = { build: !!opts.build, onProgress: opts.onProgress, env: opts.env };
  const kube = async (p: 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl') => ensureKubeBinary(p, o);
  const kwokctl = await ensureKwokBinary('kwokctl', o);
  const binaries: KwokBinaries = {
    kwok: await ensureKwokBinary('kwok', o),
    etcdctl: await ensureKwokBinary('etcdctl', o),
    etcdutl: await ensureKwokBinary('etcdutl', o),
    etcd: await kube('etcd'),
    kubeApiserver: await kube('kube-apiserver'),
    kubeControllerManager: await kube('kube-controller-manager'),
    kubeScheduler: await kube('kube-scheduler'),
    kubectl: await kube('kubectl'),
  };
  return { kwokctl, binaries };
}
