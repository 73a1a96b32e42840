// Istio per policy: `istioctl install -f` an IstioOperator (the policy's fixture with the scenario's own
// meshConfig merged in, written to the run's dir so the dry run shows it), then istiod available, its
// validating webhook answering, and the effective mode read back from ConfigMap istio-system/istio (no
// installed-state IstioOperator exists since 1.24).
import { join } from 'node:path';
import { modeOf, readMeshConfig } from '../../../k8s/istio.ts';
import { istioOperatorFor, shortHash } from '../../../k8s/manifests.ts';
import { StepError } from '../../../model/errors.ts';
import type { MeshSettings, PolicyMode } from '../../../model/types.ts';
import type { RunContext } from '../context.ts';
import { canonical, toYaml } from '../context.ts';
import { failure, type K8sObject, type Runner } from '../runner.ts';
import { waitDeployment } from './cluster.ts';
import { CONTROL_NAMESPACE } from '../../../k8s/manifests.ts';

export interface InstallSpec {
  policy: PolicyMode;
  iop: K8sObject;
  /** Where the IstioOperator is written for istioctl. */
  path: string;
  /** Same key, same install: consecutive scenarios do not reinstall. */
  key: string;
  /** meshConfig.defaultConfig is read at injection: when it changes the clients are recreated. */
  proxyKey: string;
}

export function installSpec(ctx: RunContext, policy: PolicyMode, mesh?: MeshSettings): InstallSpec {
  const iop = istioOperatorFor(policy, (mesh?.meshConfig ?? {}) as Record<string, unknown>);
  const meshConfig = ((iop.spec as Record<string, unknown>).meshConfig ?? {}) as Record<string, unknown>;
  const key = JSON.stringify(canonical(meshConfig));
  return {
    policy,
    iop,
    path: join(ctx.workDir, `istio-${policy}-${shortHash(key).slice(0, 6)}.yaml`),
    key,
    proxyKey: JSON.stringify(canonical(meshConfig.defaultConfig ?? {})),
  };
}


/** ServiceEntries applied before the validating webhook answers are rejected: it is probed with a server-side dry run. */
export function webhookProbeObject(): K8sObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'egress-conformance-webhook-probe', namespace: CONTROL_NAMESPACE },
    spec: { hosts: ['webhook-probe.egress-conformance.invalid'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' },
  };
}

export async function installIstio(r: Runner, ctx: RunContext, spec: InstallSpec): Promise<void> {
  await r.step(`istio ${ctx.istioVersion}: install with outboundTrafficPolicy ${spec.policy}`, async () => {
    await r.writeFile(spec.path, toYaml(spec.iop));
    const argv = ['istioctl', 'install', '-y', '-f', spec.path, '--kubeconfig', ctx.kubeconfig, '--readiness-timeout', `${Math.round((ctx.timeouts.istioInstall * 0.7) / 1000)}s`];
    const res = await r.exec(argv, { timeoutMs: ctx.timeouts.istioInstall });
    if (res.exitCode !== 0 || res.timedOut) throw new StepError(failure(argv, res));
    await waitDeployment(r, 'istio-system', 'istiod', ctx.timeouts.deployment);
    const probe = webhookProbeObject();
    let lastError = '';
    await r.waitFor(`validating webhook answers (server-side dry-run create of ServiceEntry ${probe.metadata.namespace}/${probe.metadata.name})`, ctx.timeouts.webhook, async (k) => {
      try {
        await k.create(probe, { dryRun: true });
        return true;
      } catch (err) {
        lastError = errorText(err);
        return undefined;
      }
    }, { assumed: true, state: () => lastError });
    const effective = await r.read('ConfigMap istio-system/istio key mesh: outboundTrafficPolicy.mode', async (k) => {
      const mesh = await readMeshConfig(k);
      if (!mesh) throw new StepError('ConfigMap istio-system/istio has no `mesh` key: Istio did not install as expected');
      return modeOf(mesh);
    }, spec.policy, spec.policy);
    if (effective !== spec.policy) {
      throw new StepError(`after istioctl install the mesh config says outboundTrafficPolicy ${effective}, expected ${spec.policy}`);
    }
    r.note(`mesh outboundTrafficPolicy: ${effective}`);
  });
}

export function errorText(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') return body.trim().split('\n').slice(-3).join(' ');
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return (err as Error).message ?? String(err);
}
