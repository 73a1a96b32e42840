// `lab install -f FILE`: what `istioctl install -f` does in a lab. The IstioOperator is checked as a
// cluster would check it, rendered by the real istioctl of the pinned build and applied to the lab's API
// server (helpers/k8s/istio.ts explains why istioctl install itself cannot run there: it waits for
// istiod Pods, and a lab has no kubelet). The mesh config read back is what istiod now runs with.
import { join } from 'node:path';
import type { K8sObject, K8sOps } from '../k8s/client.ts';
import { applyIstioObjects, readMeshConfig, modeOf, renderIstioOperator } from '../k8s/istio.ts';
import { loadResourceFiles } from '../istio/load.ts';
import { EnvironmentError, UserError } from '../model/errors.ts';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ignoredIstioOperatorFields } from './apply.ts';

export interface InstallResult {
  mode: string;
  notes: string[];
}

/** The file's one IstioOperator, checked; anything else in it is bad input (it belongs to kubectl apply). */
export function readOperator(file: string): { operator: K8sObject; notes: string[] } {
  const set = loadResourceFiles([file]);
  if (!set.mesh.source)
    throw new UserError(`${file}: no IstioOperator (install.istio.io/v1alpha1) in it; lab install takes what istioctl install -f takes`);
  if (set.serviceEntries.length || set.sidecars.length) {
    throw new UserError(
      `${file}: holds ServiceEntries or Sidecars besides the IstioOperator; apply those with kubectl apply -f, and give lab install the IstioOperator alone`,
    );
  }
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const doc = docs[set.mesh.source.doc - 1];
  if (!doc) throw new UserError(`${file}: the IstioOperator is document ${set.mesh.source.doc}, but the file has ${docs.length} documents`);
  const operator = doc.toJS() as K8sObject;
  return { operator, notes: ignoredIstioOperatorFields([file], { installed: true }) };
}

/** The IstioOperator as the pinned istioctl reads it; bad input (an unknown field) is a UserError naming `file`. */
export async function checkOperator(istioctl: string, file: string, workDir: string): Promise<K8sObject[]> {
  const { operator } = readOperator(file);
  try {
    return await renderIstioOperator(istioctl, operator, join(workDir, 'istio'));
  } catch (e) {
    throw refusedOperator(e, file);
  }
}

export async function installOperator(k8s: K8sOps, istioctl: string, file: string, workDir: string): Promise<InstallResult> {
  const { operator, notes } = readOperator(file);
  let objects: K8sObject[];
  try {
    objects = await renderIstioOperator(istioctl, operator, join(workDir, 'istio'));
  } catch (e) {
    throw refusedOperator(e, file);
  }
  // The stack's webhooks (validation and injection) were re-pointed at the local istiod's loopback port (the
  // rendered ones name istiod's Service, which nothing answers here); applying them again would take that back.
  await applyIstioObjects(
    k8s,
    objects.filter((o) => o.kind !== 'ValidatingWebhookConfiguration' && o.kind !== 'MutatingWebhookConfiguration'),
  );
  const mesh = await readMeshConfig(k8s);
  return { mode: mesh ? String(modeOf(mesh)) : '(no mesh config)', notes };
}

/**
 * istioctl refusing the IstioOperator is bad input, said about the candidate's file (istioctl read a
 * copy in a work directory): the unknown field by name when istioctl names one. A timeout or a
 * missing binary stays an environment error.
 */
export function refusedOperator(e: unknown, file: string): unknown {
  if (!(e instanceof EnvironmentError) || !/^istioctl manifest generate -f \S+ failed: (?!timed out)/.test(e.message)) return e;
  const why = e.message.replace(/^istioctl manifest generate -f \S+ failed: /, '').replace(/^Error: /, '');
  const field = /unknown field "([^"]+)"/.exec(why)?.[1];
  return new UserError(
    field
      ? `${file}: IstioOperator field "${field}" is not one istioctl knows (${why}); fix or remove it`
      : `${file}: istioctl refuses this IstioOperator: ${why}`,
  );
}
