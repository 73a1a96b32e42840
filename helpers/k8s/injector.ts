// Whether Istio's sidecar injector answers, asked the one way that proves it: a server-side dry-run create
// (dryRun=All: admission runs, mutating webhooks included, and nothing is stored) of a Pod where injection
// is on, and the Pod the API server hands back must carry Istio's proxy. A dry run of a valid Istio object
// proves nothing here: it passes whether or not any webhook was called.
//
// Where the proxy is (istio.io/istio, the injection template manifests/charts/istio-control/istio-discovery/
// files/injection-template.yaml, 1.30.3 and the control-plane build alike): `istio-proxy` is a container,
// or, in native-sidecar mode, an init container with restartPolicy Always beside `istio-init`. The mode is
// pkg/kube/inject DetectNativeSidecar: ENABLE_NATIVE_SIDECARS (default auto) turns it on when every Node's
// kubelet is 1.33 or later, which kind's v1.35 node is. Either placement counts.
import { StepError } from '../model/errors.ts';
import { pollUntil } from '../process/poll.ts';
import type { K8sObject, K8sOps } from './client.ts';

const PROXY = 'istio-proxy';
const PROBE_NAME = 'egress-conformance-injector-probe';
const GV = 'admissionregistration.k8s.io/v1';

export interface InjectorCheck {
  /** A namespace where injection is on (labelled istio-injection=enabled), or any with `podLabels` opting in. */
  namespace: string;
  /** Labels of the probe Pod (sidecar.istio.io/inject=true opts a Pod in where its namespace is unlabelled). */
  podLabels?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The error a timeout raises (default StepError: a step of a run failed). */
  fail?: (message: string) => Error;
}

export interface InjectorAnswer {
  /** Where the returned Pod carries istio-proxy: a container, or a native-sidecar init container. */
  placement: 'container' | 'native sidecar (init container)';
  containers: string[];
  initContainers: string[];
}

/** The Pod that is only ever dry-run created: never pulled, never stored. */
function injectorProbePod(namespace: string, labels: Record<string, string> = {}): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: PROBE_NAME, namespace, labels: { app: PROBE_NAME, ...labels } },
    spec: { containers: [{ name: 'probe', image: 'registry.k8s.io/pause:3.10' }] },
  };
}

/** Where a Pod as admission returned it carries istio-proxy, if it does. */
function proxyOf(pod: K8sObject): InjectorAnswer | undefined {
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  const containers = (spec.containers ?? []).map((c) => c.name);
  const initContainers = (spec.initContainers ?? []).map((c) => c.name);
  if (containers.includes(PROXY)) return { placement: 'container', containers, initContainers };
  if (initContainers.includes(PROXY)) return { placement: 'native sidecar (init container)', containers, initContainers };
  return undefined;
}

/**
 * Dry-run creates the probe Pod until the returned Pod carries istio-proxy, or `timeoutMs` passes; then one
 * error naming the mutating webhook configurations present and what the last dry run returned.
 */
export async function waitInjectorAnswers(k8s: K8sOps, check: InjectorCheck): Promise<InjectorAnswer> {
  const pod = injectorProbePod(check.namespace, check.podLabels);
  let answer: InjectorAnswer | undefined;
  let last = 'no dry run finished';
  const ok = await pollUntil(
    async () => {
      let back: K8sObject;
      try {
        back = await k8s.create(pod, { dryRun: true });
      } catch (err) {
        // A refusal (the webhook unreachable, failurePolicy Fail) is what "not yet" looks like.
        if (check.signal?.aborted) throw err;
        last = `was refused: ${apiErrorText(err)}`;
        return false;
      }
      answer = proxyOf(back);
      if (!answer) last = `returned the Pod without ${PROXY}: ${podShape(back)}`;
      return !!answer;
    },
    { timeoutMs: check.timeoutMs, intervalMs: 100, maxIntervalMs: 2_000, factor: 1.5, ...(check.signal ? { signal: check.signal } : {}) },
  );
  if (ok && answer) return answer;
  const labels = Object.entries(check.podLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const configs = await describeInjectorConfigs(k8s).catch((e: Error) => `(could not list them: ${apiErrorText(e)})`);
  const message =
    `Istio's sidecar injector did not answer within ${+(check.timeoutMs / 1000).toFixed(1)} s: a server-side dry-run create ` +
    `(dryRun=All) of Pod ${check.namespace}/${PROBE_NAME}${labels.length ? ` labelled ${labels.join(',')}` : ''} ${last}. ` +
    `MutatingWebhookConfigurations present: ${configs}`;
  throw (check.fail ?? ((m: string) => new StepError(m)))(message);
}

interface Webhook {
  name: string;
  clientConfig?: { service?: { name: string; namespace: string; path?: string; port?: number }; url?: string };
  failurePolicy?: string;
  namespaceSelector?: { matchLabels?: Record<string, string> };
  objectSelector?: { matchLabels?: Record<string, string> };
}

/**
 * A webhook istioctl switched off: when it makes the default revision tag (istio-revision-tag-default), it
 * gives the revision's own injector webhooks selectors no object has (istioctl/pkg/tag/util.go, NeverMatch).
 */
function deactivated(w: Webhook): boolean {
  const never = (s?: { matchLabels?: Record<string, string> }) => s?.matchLabels?.['istio.io/deactivated'] === 'never-match';
  return never(w.namespaceSelector) && never(w.objectSelector);
}

/** Each MutatingWebhookConfiguration with its webhooks and where they call, for the failure message. */
async function describeInjectorConfigs(k8s: K8sOps): Promise<string> {
  const configs = await k8s.list(GV, 'MutatingWebhookConfiguration');
  if (configs.length === 0) return 'none (no sidecar injector is installed: Pods are created without istio-proxy)';
  return configs
    .map((c) => {
      const all = (c.webhooks as Webhook[] | undefined) ?? [];
      const off = all.filter(deactivated).length;
      const hooks = all
        .filter((w) => !deactivated(w))
        .map((w) => `${w.name} → ${target(w)}${w.failurePolicy ? ` (${w.failurePolicy})` : ''}`);
      if (off) hooks.push(`${off} deactivated (istio.io/deactivated=never-match)`);
      return `${c.metadata.name} [${hooks.join('; ') || 'no webhooks'}]`;
    })
    .join(', ');
}

function target(w: Webhook): string {
  const s = w.clientConfig?.service;
  if (s) return `service ${s.namespace}/${s.name}:${s.port ?? 443}${s.path ?? ''}`;
  return w.clientConfig?.url ?? '(no clientConfig)';
}

function podShape(pod: K8sObject): string {
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  const names = (l?: { name: string }[]) => (l?.length ? l.map((c) => c.name).join(', ') : 'none');
  const status = pod.metadata.annotations?.['sidecar.istio.io/status'];
  return `containers ${names(spec.containers)}; init containers ${names(spec.initContainers)}${status ? '' : '; no sidecar.istio.io/status annotation'}`;
}

/** The API server's own words (a webhook refusal is in the Status body), else the error's message. */
function apiErrorText(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  const text =
    typeof body === 'string'
      ? (tryMessage(body) ?? body)
      : body && typeof body === 'object' && 'message' in body
        ? String((body as { message: unknown }).message)
        : ((err as Error).message ?? String(err));
  return text.trim().replace(/\s+/g, ' ').slice(0, 600);
}

function tryMessage(body: string): string | undefined {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}
