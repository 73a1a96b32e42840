// Istio per policy, as both lanes install it (helpers/k8s/istio.ts): the IstioOperator (the policy's fixture
// with the scenario's own meshConfig merged in, written to the run's dir so the dry run shows it) rendered
// by `istioctl manifest generate`, every object server-side applied (CRDs first), then what `istioctl
// install` would have waited for: istiod available, its validating webhook answering; and the effective
// mode read back from ConfigMap istio-system/istio (no installed-state IstioOperator exists since 1.24).
// A second policy re-applies the same objects with the other mesh config: the ConfigMap changes in place.
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyIstioObjects, modeOf, readMeshConfig } from '../../../k8s/istio.ts';
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
  /** Its spec.meshConfig. */
  meshConfig: Record<string, unknown>;
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
    meshConfig,
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
    spec: {
      hosts: ['webhook-probe.egress-conformance.invalid'],
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      resolution: 'DNS',
    },
  };
}

export async function installIstio(r: Runner, ctx: RunContext, spec: InstallSpec): Promise<void> {
  // The title names the IstioOperator actually installed: the run's own file (the policy's fixture with the
  // scenario's meshConfig merged in), which is what `istioctl manifest generate -f` reads below.
  const fixtureMesh = (istioOperatorFor(spec.policy, {}).spec as Record<string, unknown>).meshConfig ?? {};
  const custom = JSON.stringify(canonical(fixtureMesh)) !== spec.key;
  const from = `fixtures/istio/${spec.policy}.yaml${custom ? " + the scenario's meshConfig" : ''}`;
  await r.step(`istio ${ctx.istioVersion}: install ${spec.path} (${from}; outboundTrafficPolicy ${spec.policy})`, async () => {
    await r.writeFile(spec.path, toYaml(spec.iop));
    const argv = ['istioctl', 'manifest', 'generate', '-f', spec.path];
    // HOME: istioctl keeps its own state under $HOME/.istioctl; the run's dir, never the user's.
    const res = await r.exec(argv, {
      timeoutMs: ctx.timeouts.istioInstall,
      env: { HOME: ctx.workDir },
      assume: 'the Istio objects (CRDs, istiod, webhooks, ConfigMap istio)',
    });
    if (res.exitCode !== 0 || res.timedOut) throw new StepError(failure(argv, res));
    const objects = parseAllDocuments(res.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => !!o && !!o.kind);
    if (!r.dryRun && !objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'istiod')) {
      throw new StepError(`\`istioctl manifest generate -f ${spec.path}\` rendered no istiod Deployment (${objects.length} objects)`);
    }
    await r.opaque(
      {
        op: 'apply-rendered',
        from: 'istioctl manifest generate',
        how: 'server-side apply, Namespace and CRDs first, each CRD Established before the rest',
      },
      (k) => applyIstioObjects(k, objects),
      undefined,
    );
    await waitDeployment(r, 'istio-system', 'istiod', ctx.timeouts.deployment);
    // The gateways the IstioOperator asks for (istio-egressgateway) too, as `istioctl install` waits for
    // them: a probe routed through a gateway whose Pod is not up yet would read as blocked.
    for (const d of objects.filter((o) => o.kind === 'Deployment' && o.metadata.name !== 'istiod'))
      await waitDeployment(r, d.metadata.namespace ?? 'istio-system', d.metadata.name, ctx.timeouts.deployment);
    const probe = webhookProbeObject();
    let lastError = '';
    await r.waitFor(
      `validating webhook answers (server-side dry-run create of ServiceEntry ${probe.metadata.namespace}/${probe.metadata.name})`,
      ctx.timeouts.webhook,
      async (k) => {
        try {
          await k.create(probe, { dryRun: true });
          return true;
        } catch (err) {
          lastError = errorText(err);
          return undefined;
        }
      },
      { assumed: true, state: () => lastError },
    );
    const effective = await r.read(
      'ConfigMap istio-system/istio key mesh: outboundTrafficPolicy.mode',
      async (k) => {
        const mesh = await readMeshConfig(k);
        if (!mesh) throw new StepError('ConfigMap istio-system/istio has no `mesh` key: Istio did not install as expected');
        return modeOf(mesh);
      },
      spec.policy,
      spec.policy,
    );
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
