// The sidecar-injector check on the real stack: a kwok cluster with Istio installed by the real `istioctl
// install`, the pinned istiod as a local process, and the injector's mutating webhooks pointed at its /inject.
// The stack's own start already ran the check (webhook.ts INJECTOR_CHECK); here it is asked again as each
// lane asks it, a real Pod is injected, and then the injector is broken twice (pointed nowhere, deleted)
// and the check must fail with its message. Skipped, with the reason, when a pinned binary is not built.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { K8sObject, K8sOps } from '../../k8s/client.ts';
import { waitInjectorAnswers } from '../../k8s/injector.ts';
import { EnvironmentError, StepError } from '../../model/errors.ts';
import { pollUntil } from '../../process/poll.ts';
import { PINNED_PILOT } from '../../tools/pilot-discovery.ts';
import { runContext } from '../kind/context.ts';
import { LiveRunner } from '../kind/live-runner.ts';
import { applyNamespaces, ensureInjector, namespaceManifests } from '../kind/phases/workloads.ts';
import { controlPlaneMissing } from './requirements.ts';
import { ControlPlaneStack } from './stack.ts';
import { INJECTOR_CHECK } from './webhook.ts';

const missing = controlPlaneMissing() ?? '';
const GV = 'admissionregistration.k8s.io/v1';

describe.skipIf(!!missing)(`sidecar injector check on the real kwok stack${missing ? ` — skipped: ${missing}` : ''}`, () => {
  let stack: ControlPlaneStack;
  let k8s: K8sOps;
  const progress: string[] = [];

  beforeAll(async () => {
    stack = await ControlPlaneStack.start({ pin: PINNED_PILOT, onProgress: (l) => progress.push(l) });
    k8s = stack.k8s;
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("the stack's injector configurations call the local istiod's /inject, and its own check passes", async () => {
    expect(progress.at(-1)).toMatch(/sidecar injector answering/);
    const configs = await k8s.list(GV, 'MutatingWebhookConfiguration');
    expect(configs.map((c) => c.metadata.name)).toContain('istio-sidecar-injector');
    const urls = configs.flatMap((c) => (c.webhooks as { clientConfig: { url?: string } }[]).map((w) => w.clientConfig.url));
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u).toBe(`https://${stack.istiod.addresses.https}/inject`);
    const a = await waitInjectorAnswers(k8s, INJECTOR_CHECK);
    expect([...a.containers, ...a.initContainers]).toContain('istio-proxy');
  });

  it("the kind lane's check, through its runner, in the namespaces it labels for injection; a real Pod there is injected and kwok runs it", async () => {
    const ctx = runContext({ runId: 'inj-1', workDir: stack.runDir, timeouts: { webhook: 20_000 } });
    const notes: string[] = [];
    const runner = new LiveRunner({ ctx, k8s: () => k8s, log: (l) => notes.push(l) });
    await applyNamespaces(runner, namespaceManifests(ctx, []));
    await ensureInjector(runner, ctx);
    expect(notes.join('\n')).toMatch(/sidecar injector answers: istio-proxy injected as a (container|native sidecar)/);
    const pod: K8sObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'injected', namespace: 'frontend' },
      spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
    };
    await k8s.create(pod);
    let last: K8sObject | undefined;
    const ready = await pollUntil(
      async () => {
        last = await k8s.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'frontend', name: 'injected' });
        const st = last?.status as { conditions?: { type: string; status: string }[] } | undefined;
        return !!st?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    expect(ready, JSON.stringify(last?.status)).toBe(true);
    const spec = last!.spec as { containers: { name: string }[]; initContainers?: { name: string }[] };
    expect([...spec.containers, ...(spec.initContainers ?? [])].map((c) => c.name)).toContain('istio-proxy');
    await k8s.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'frontend', name: 'injected' }, { force: true });
  });

  it('fails with the configurations named and the refusal when the injector points nowhere', async () => {
    // Every configuration re-made with its webhooks calling loopback port 1, where nothing listens: the API
    // server's call is refused (failurePolicy Fail). Both, since istioctl's default revision tag deactivated
    // the webhooks of istio-sidecar-injector and injects itself.
    for (const c of await k8s.list(GV, 'MutatingWebhookConfiguration')) {
      const webhooks = (c.webhooks as { clientConfig: Record<string, unknown> }[]).map((w) => ({
        ...w,
        clientConfig: { ...w.clientConfig, url: 'https://127.0.0.1:1/inject' },
      }));
      await k8s.delete({ apiVersion: GV, kind: 'MutatingWebhookConfiguration', name: c.metadata.name });
      await k8s.create({
        apiVersion: GV,
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: c.metadata.name, labels: c.metadata.labels },
        webhooks,
      });
    }
    // A namespace of its own, labelled as the kind lane labels its client namespaces.
    await k8s.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'nowhere', labels: { 'istio-injection': 'enabled' } } });
    const err = await waitInjectorAnswers(k8s, { namespace: 'nowhere', timeoutMs: 1_500 }).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(
      /^Istio's sidecar injector did not answer within 1\.5 s: a server-side dry-run create \(dryRun=All\) of Pod nowhere\/egress-conformance-injector-probe was refused: .*failed calling webhook .*sidecar-injector\.istio\.io.*127\.0\.0\.1:1/,
    );
    expect(err.message).toMatch(
      /MutatingWebhookConfigurations present: .*istio-revision-tag-default \[[^\]]*→ https:\/\/127\.0\.0\.1:1\/inject \(Fail\)/,
    );
    expect(err.message).toMatch(/istio-sidecar-injector \[4 deactivated \(istio\.io\/deactivated=never-match\)\]/);
  });

  it('fails naming no configuration when the injector is deleted: the Pod comes back without istio-proxy', async () => {
    for (const c of await k8s.list(GV, 'MutatingWebhookConfiguration'))
      await k8s.delete({ apiVersion: GV, kind: 'MutatingWebhookConfiguration', name: c.metadata.name });
    const err = await waitInjectorAnswers(k8s, { ...INJECTOR_CHECK, timeoutMs: 1_500 }).catch((e) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect(err.message).toBe(
      "Istio's sidecar injector did not answer within 1.5 s: a server-side dry-run create (dryRun=All) of Pod " +
        'default/egress-conformance-injector-probe labelled sidecar.istio.io/inject=true returned the Pod without istio-proxy: ' +
        'containers probe; init containers none; no sidecar.istio.io/status annotation. ' +
        'MutatingWebhookConfigurations present: none (no sidecar injector is installed: Pods are created without istio-proxy)',
    );
  });
});
