// `lab install -f FILE`: what `istioctl install -f` does in a lab. The IstioOperator is checked as a
// cluster would check it, rendered by the real istioctl of the pinned build and applied to the lab's API
// server (helpers/k8s/istio.ts explains why istioctl install itself cannot run there: it waits for
// istiod Pods, and a lab has no kubelet). The mesh config read back is what istiod now runs with.
import { join } from 'node:path';
import type { K8sObject, K8sOps } from '../k8s/client.ts';
import { applyIstioObjects, readMeshConfig, modeOf, renderIstioOperator } from '../k8s/istio.ts';
import { loadResourceFiles } from '../istio/load.ts';
import { UserError } from '../model/errors.ts';
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

export async function installOperator(k8s: K8sOps, istioctl: string, file: string, workDir: string): Promise<InstallResult> {
  const { operator, notes } = readOperator(file);
  const objects = await renderIstioOperator(istioctl, operator, join(workDir, 'istio'));
  await applyIstioObjects(k8s, objects);
  const mesh = await readMeshConfig(k8s);
  return { mode: mesh ? String(modeOf(mesh)) : '(no mesh config)', notes };
}
