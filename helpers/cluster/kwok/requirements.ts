// What a kwok cluster needs built, checked without starting anything (tests report themselves skipped
// with the command that fixes it).
import { findKubeBinarySync, type KubeProgram } from '../../tools/kube-builds.ts';
import { findKwokBinarySync, type KwokProgram } from '../../tools/kwok-builds.ts';

export const KWOK_CLUSTER_PROGRAMS: readonly (KubeProgram | KwokProgram)[] = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwokctl',
  'kwok',
  'etcdctl',
  'etcdutl',
];

/** The programs of a kwok cluster that are not built (or whose override is not executable). */
export function kwokClusterMissing(env: NodeJS.ProcessEnv = process.env): string[] {
  const kwok = new Set<string>(['kwokctl', 'kwok', 'etcdctl', 'etcdutl']);
  return KWOK_CLUSTER_PROGRAMS.filter((p) => {
    try {
      return kwok.has(p) ? !findKwokBinarySync(p as KwokProgram, env) : !findKubeBinarySync(p as KubeProgram, env);
    } catch {
      return true;
    }
  });
}

/** undefined when everything is built; otherwise one line naming what is missing and how to build it. */
export function kwokClusterMissingMessage(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const m = kwokClusterMissing(env);
  if (m.length === 0) return undefined;
  return `a kwok cluster needs ${m.join(', ')} built: run ${m.map((p) => `\`egress-conformance tools install ${p}\``).join(', ')} (needs Go)`;
}
