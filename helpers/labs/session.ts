// A live lab's life: `lab start` (a cluster with the lab's starting state, and the lines to paste into a
// shell), `lab install -f` (what `istioctl install -f` does there) and `lab stop`.
import { join } from 'node:path';
import { EnvironmentError, UserError } from '../model/errors.ts';
import { findIstioctlBuildSync } from '../tools/pilot-locate.ts';
import { gradable } from './check.ts';
import { backendOf, type LabDeps } from './deps.ts';
import { chooseKubectl } from './kubectl.ts';
import { attachCurrent, startLab, stopCurrent } from './live.ts';
import { findLab } from './load.ts';
import { stateDir } from './progress.ts';

/** The lines the candidate pastes into a shell: KUBECONFIG, and PATH when the kubectl on it is too far from the server. */
export async function kubectlExports(kubeconfig: string, d: LabDeps, say: (l: string) => void = d.io.err): Promise<string[]> {
  const exports = [`export KUBECONFIG=${kubeconfig}`];
  try {
    const k = await chooseKubectl(join(stateDir(d.env), 'bin'), { env: d.env ?? process.env });
    if (k.pathDir) exports.push(`export PATH=${k.pathDir}:$PATH`);
    say(k.why);
  } catch (e) {
    if (!(e instanceof EnvironmentError)) throw e;
    say(`kubectl: ${e.message}`);
  }
  return exports;
}

export async function labStart(name: string, d: LabDeps): Promise<number> {
  const lab = findLab(name);
  gradable(lab);
  const live = await startLab(lab, await backendOf(d), d.io.err, d.env);
  d.io.out(`# ${lab.title}  (${lab.name})\n\n${lab.task}\n`);
  const exports = await kubectlExports(live.kubeconfig, d);
  d.io.out(`Work with kubectl (apply, edit, delete) against the lab's API server:\n\n${exports.map((l) => `  ${l}`).join('\n')}\n`);
  d.io.out('An IstioOperator is installed with: egress-conformance lab install -f FILE   (what istioctl install -f does)');
  d.io.out(`Then: egress-conformance lab check ${lab.name}    (graded by the real istiod; lab stop when done)`);
  return 0;
}

/** `istioctl install -f` for the running lab (it cannot run there itself: see helpers/labs/install.ts). */
export async function labInstall(flags: { file?: string[] }, d: LabDeps): Promise<number> {
  const [file, ...more] = flags.file ?? [];
  if (file === undefined || more.length) throw new UserError('-f: give one IstioOperator file, as to istioctl install -f');
  const { checkOperator, installOperator } = await import('./install.ts');
  const istioctl = findIstioctlBuildSync(undefined, d.env);
  if (!istioctl)
    throw new EnvironmentError(
      'istioctl of the pinned build is not built; run `egress-conformance tools install istioctl-build` (needs Go)',
    );
  // The file is checked by the pinned istioctl before anything else, so a wrong field is named even when no lab runs.
  await checkOperator(istioctl, file, join(stateDir(d.env), 'install'));
  const { current } = await attachCurrent(await backendOf(d), d.env);
  const { ClientNodeK8s } = await import('../k8s/client.ts');
  const r = await installOperator(new ClientNodeK8s(current.kubeconfig), istioctl, file, join(stateDir(d.env), 'install'));
  for (const n of r.notes) d.io.err(`note: ${n}`);
  d.io.out(
    `Istio installed from ${file} in lab ${current.lab}: ConfigMap istio-system/istio now says outboundTrafficPolicy ${r.mode}; istiod pushes it to the sidecars without a restart`,
  );
  return 0;
}

export async function labStop(d: LabDeps): Promise<number> {
  const stopped = await stopCurrent(await backendOf(d), d.io.err, d.env);
  d.io.out(stopped ? `lab ${stopped} stopped; its processes and files are gone` : 'no lab was running');
  return 0;
}
