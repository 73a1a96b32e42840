// Istio's webhooks, answered by the local istiod: a resource Istio refuses is refused at `kubectl apply`,
// and a Pod that asks for a sidecar gets one, as on a cluster.
//
// How istiod does it (istio.io/istio at the pinned commit):
// - With --tlsCertFile, --tlsKeyFile and --caCertFile, istiod serves its webhooks (/validate, /inject) on
//   --httpsAddr with that certificate, and that CA is the bundle it publishes
//   (pilot/pkg/bootstrap/server.go initIstiodCerts → initFileCertificateWatches).
// - Its validation controller (pkg/webhooks/validation/controller) watches the ValidatingWebhookConfigurations
//   labelled istio.io/rev=<revision>, writes that CA into each webhook's caBundle, and switches
//   failurePolicy from Ignore to Fail only once a dry-run create of an invalid Gateway is refused through
//   the API server: proof that the API server reaches it.
// The installed configuration names istiod's Service, whose ClusterIP nothing answers here (istiod is a
// local process, and there is no kube-proxy); kube-apiserver runs on this machine, so each webhook's
// clientConfig becomes a URL on istiod's loopback port. The certificate carries IP:127.0.0.1 for it.
// The sidecar injector's MutatingWebhookConfigurations are pointed the same way, at istiod's /inject
// (pkg/kube/inject/webhook.go registers it on the same HTTPS mux; failurePolicy stays as installed, Fail,
// and istiod's injection patcher writes the same CA into caBundle, pkg/webhooks/webhookpatch.go), so a Pod
// that asks for injection is injected, as on a cluster: kwok runs its istio-proxy like any container. They
// select only namespaces or Pods labelled for injection; the lane's client namespaces are not labelled
// (helpers/k8s/manifests.ts, inject: false), so its Pods stay as they were, and the stack proves the
// injector answers with a dry-run Pod that opts in (helpers/k8s/injector.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { K8sObject, K8sOps } from '../../k8s/client.ts';
import type { InjectorCheck } from '../../k8s/injector.ts';
import { ISTIO_NAMESPACE } from '../../k8s/istio.ts';
import { EnvironmentError } from '../../model/errors.ts';
import { pollUntil } from '../../process/poll.ts';

export interface WebhookCerts {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** The pilot-discovery flags that make it serve its webhooks with these certificates. */
export function istiodCertArgs(c: WebhookCerts): string[] {
  return [`--tlsCertFile=${c.certFile}`, `--tlsKeyFile=${c.keyFile}`, `--caCertFile=${c.caFile}`];
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await execa('openssl', args, { reject: false, cwd, stdin: 'ignore' });
  if (r.failed)
    throw new EnvironmentError(
      (r as { code?: string }).code === 'ENOENT'
        ? "openssl not found on PATH; the lane needs it for istiod's webhook certificate (apt-get install openssl)"
        : `openssl could not make istiod's webhook certificate: ${String(r.stderr).trim().split('\n').pop()}`,
    );
}

/** Where makeWebhookCerts(dir) writes its files. */
export function webhookCertsIn(dir: string): WebhookCerts {
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
}

/** A CA and a serving certificate for 127.0.0.1 and istiod's Service names, signed by it. */
export async function makeWebhookCerts(dir: string): Promise<WebhookCerts> {
  mkdirSync(dir, { recursive: true });
  const c = webhookCertsIn(dir);
  const caKey = join(dir, 'ca.key');
  const csr = join(dir, 'tls.csr');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    ['req', '-x509', ...ec, '-keyout', caKey, '-out', c.caFile, '-days', '7', '-subj', '/O=egress-conformance/CN=webhook-ca'],
    dir,
  );
  await openssl(['req', ...ec, '-keyout', c.keyFile, '-out', csr, '-subj', '/CN=istiod.istio-system.svc'], dir);
  // Extensions from a file: portable across openssl versions (-copy_extensions is 3.0+ only).
  const ext = join(dir, 'san.ext');
  writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:istiod.istio-system.svc,DNS:istiod.istio-system.svc.cluster.local\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(
    ['x509', '-req', '-in', csr, '-CA', c.caFile, '-CAkey', caKey, '-CAcreateserial', '-out', c.certFile, '-days', '7', '-extfile', ext],
    dir,
  );
  return c;
}

interface Webhook {
  name: string;
  clientConfig: { service?: { name: string; namespace: string; path?: string; port?: number }; url?: string; caBundle?: string };
  failurePolicy?: string;
}

const GV = 'admissionregistration.k8s.io/v1';

/** Whether a webhook calls istiod (its Service, or a URL this module wrote). */
function callsIstiod(w: Webhook): boolean {
  const s = w.clientConfig.service;
  return (!!s && s.namespace === ISTIO_NAMESPACE && /^istiod(-|$)/.test(s.name)) || !!w.clientConfig.url?.startsWith('https://127.0.0.1:');
}

type WebhookKind = 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration';

/**
 * Points every webhook configuration of this kind that calls istiod at istiod's loopback port (with the CA
 * it serves), re-created so no field of the Service form is left beside the URL. A validating webhook's
 * failurePolicy starts at Ignore: istiod switches it to Fail itself once it has seen its webhook answer.
 */
async function pointAtLocalIstiod(k8s: K8sOps, kind: WebhookKind, httpsAddr: string, caFile: string): Promise<string[]> {
  const caBundle = readFileSync(caFile).toString('base64');
  const configs = await k8s.list(GV, kind);
  const done: string[] = [];
  const fallbackPath = kind === 'ValidatingWebhookConfiguration' ? '/validate' : '/inject';
  for (const cfg of configs) {
    const hooks = (cfg.webhooks as Webhook[] | undefined) ?? [];
    if (!hooks.some(callsIstiod)) continue;
    const webhooks = hooks.map((w) => {
      if (!callsIstiod(w)) return w;
      const path = w.clientConfig.service?.path ?? (w.clientConfig.url ? new URL(w.clientConfig.url).pathname : fallbackPath);
      const failurePolicy = kind === 'ValidatingWebhookConfiguration' ? 'Ignore' : w.failurePolicy;
      return { ...w, failurePolicy, clientConfig: { url: `https://${httpsAddr}${path}`, caBundle } };
    });
    const { name, labels, annotations } = cfg.metadata;
    const fresh: K8sObject = { apiVersion: GV, kind, metadata: { name, labels, annotations }, webhooks };
    await k8s.delete({ apiVersion: GV, kind, name });
    await k8s.create(fresh);
    done.push(name);
  }
  return done;
}

/** Istio's validating webhooks → the local istiod's /validate. */
export function pointValidationAtLocalIstiod(k8s: K8sOps, httpsAddr: string, caFile: string): Promise<string[]> {
  return pointAtLocalIstiod(k8s, 'ValidatingWebhookConfiguration', httpsAddr, caFile);
}

/** The sidecar injector's mutating webhooks → the local istiod's /inject. */
export function pointInjectionAtLocalIstiod(k8s: K8sOps, httpsAddr: string, caFile: string): Promise<string[]> {
  return pointAtLocalIstiod(k8s, 'MutatingWebhookConfiguration', httpsAddr, caFile);
}

/**
 * A Gateway every istiod webhook refuses: istiod's own readiness check sends one with this annotation
 * (pkg/webhooks/validation/controller isDryRunOfInvalidConfigRejected, constants.AlwaysReject). Its server is
 * valid, so only the webhook, never the CRD's schema, can refuse it.
 */
const ALWAYS_REFUSED: K8sObject = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'Gateway',
  metadata: {
    name: 'iec-webhook-check',
    namespace: ISTIO_NAMESPACE,
    labels: { 'istio.io/rev': 'default' },
    annotations: { 'internal.istio.io/webhook-always-reject': 'true' },
  },
  spec: { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
};

/**
 * Waits until the API server sends Istio resources to istiod's webhook and istiod refuses what it must: a
 * server-side dry run of ALWAYS_REFUSED is denied by the webhook. That is what makes a scenario's invalid
 * resource refused at apply. istiod later switches the webhooks' failurePolicy to Fail after the same check
 * of its own, on a backoff that can lag the webhook by a second or more; an answering webhook refuses either way.
 */
export async function waitValidationRefuses(k8s: K8sOps, names: string[], timeoutMs: number): Promise<void> {
  let last = 'no dry run finished';
  const ok = await pollUntil(
    async () => {
      try {
        await k8s.create(ALWAYS_REFUSED, { dryRun: true });
        last = 'was accepted';
        return false;
      } catch (err) {
        last = `was refused, not by the webhook: ${errorText(err)}`;
        return /denied the request/.test(errorText(err));
      }
    },
    { timeoutMs, intervalMs: 20, maxIntervalMs: 100, factor: 1.4 },
  );
  if (!ok)
    throw new EnvironmentError(
      `istiod's validating webhook (${names.join(', ') || 'none found'}) did not refuse an invalid Gateway within ${timeoutMs} ms: ` +
        `a server-side dry run of Gateway ${ISTIO_NAMESPACE}/${ALWAYS_REFUSED.metadata.name} ${last}`,
    );
}

/** The API server's Status message (a webhook's refusal is in it), else the error's own. */
function errorText(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') return body;
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return (err as Error).message ?? String(err);
}

/**
 * How the stack proves the injector answers. No namespace of the lane is labelled for injection, so the
 * dry-run Pod opts in itself, in `default`: the chart's object.sidecar-injector.istio.io webhook selects
 * Pods labelled sidecar.istio.io/inject=true in namespaces with neither istio-injection nor istio.io/rev
 * (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml). Not answering is the
 * environment's fault, as for the validating webhook.
 */
export const INJECTOR_CHECK: InjectorCheck = {
  namespace: 'default',
  podLabels: { 'sidecar.istio.io/inject': 'true' },
  timeoutMs: 30_000,
  fail: (m) => new EnvironmentError(m),
};
