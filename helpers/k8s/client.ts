// The only door to the Kubernetes API, for both lanes: a small interface (so tests use a recording fake) and its
// @kubernetes/client-node implementation. The kubeconfig is always the run's own file, never the user's
// current context.
import { Agent as HttpsAgent } from 'node:https';
import { Writable } from 'node:stream';
import type * as k8s from '@kubernetes/client-node';
import { retryWhile } from '../process/poll.ts';

/** A Kubernetes object as applied (a catalogue object as written, a fixture, or one istioctl rendered). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface K8sOps {
  get(ref: ObjectRef): Promise<K8sObject | undefined>;
  /**
   * Returns the object as the API server stored it, after admission (mutating webhooks included). `dryRun`:
   * server-side dry run (dryRun=All: admission webhooks run, nothing is stored; what would be stored is returned).
   */
  create(obj: K8sObject, opts?: { dryRun?: boolean }): Promise<K8sObject>;
  /** Server-side apply, field manager `egress-conformance`, forced (we own what we write). */
  apply(obj: K8sObject): Promise<void>;
  /** false when it was already absent. `force`: grace period 0 (a Pod goes at once, as `kubectl delete --force`). */
  delete(ref: ObjectRef, opts?: { force?: boolean }): Promise<boolean>;
  /**
   * Pods of a namespace (every namespace when undefined). `cached`: what the API server's watch cache holds
   * now (resourceVersion 0), without waiting for it to catch up with etcd as a consistent list does; for a
   * caller that made the last change to these Pods itself and has seen it in a list since.
   */
  listPods(namespace: string | undefined, labelSelector?: string, opts?: { cached?: boolean }): Promise<K8sObject[]>;
  /** Objects of one kind (in a namespace, or in all when it is undefined), optionally by label selector. */
  list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<K8sObject[]>;
  /** Writes a Pod's status through the status subresource: what a kubelet does, for API servers without one. */
  setPodStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void>;
  /** Runs argv in a named container (client pods also hold istio-proxy). */
  exec(namespace: string, pod: string, container: string, argv: string[], timeoutMs: number): Promise<ExecResult>;
  logs(namespace: string, pod: string, container: string, tailLines?: number): Promise<string>;
}

export const FIELD_MANAGER = 'egress-conformance';

export function refOf(obj: K8sObject): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
}

export function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

/**
 * The API server's "try again" (429: a CRD's storage still (re)initializing right after it is Established,
 * or priority-and-fairness shedding; it says Retry-After 1 s): asked again for up to ~10 s, then the error
 * stands. Anything else is the caller's to handle.
 */
function whenBusy<T>(call: () => Promise<T>): Promise<T> {
  return retryWhile(call, isBusy, RETRY);
}

/**
 * As whenBusy, and also when the connection was reset before an answer came: a kept-alive socket to an API
 * server that has just restarted (a snapshot restore restarts it on the same port) hangs up on its first
 * reuse. Only for calls that may safely be made twice (read, list, delete, server-side apply).
 */
function whenBusyOrReset<T>(call: () => Promise<T>): Promise<T> {
  return retryWhile(call, (e) => isBusy(e) || isConnectionReset(e), RETRY);
}

const RETRY = { retries: 8, intervalMs: 250, maxIntervalMs: 1500, factor: 1.6 };

function isBusy(e: unknown): boolean {
  return (e as { code?: unknown }).code === 429 || isServiceAccountPending(e);
}

/**
 * A Pod created in a namespace made a moment ago, before the service account controller has made its `default`
 * ServiceAccount: the ServiceAccount admission plugin refuses it (403 "error looking up service account
 * <ns>/default: serviceaccount \"default\" not found") until it exists, a second or so later. Seen on the kwok
 * cluster in CI (2026-12-03); a real cluster has the same race.
 */
function isServiceAccountPending(e: unknown): boolean {
  const { code, body, message } = e as { code?: unknown; body?: unknown; message?: unknown };
  const text = `${typeof body === 'string' ? body : JSON.stringify(body ?? '')} ${typeof message === 'string' ? message : ''}`;
  return code === 403 && /error looking up service account [^ ]+: serviceaccount .{0,4}default.{0,4} not found/.test(text);
}

/** node-fetch's FetchError for a socket closed under a request (ECONNRESET, "socket hang up"). */
export function isConnectionReset(e: unknown): boolean {
  const { code, errno } = e as { code?: unknown; errno?: unknown };
  return code === 'ECONNRESET' || errno === 'ECONNRESET';
}

type ClientNode = typeof k8s;
let clientNode: Promise<ClientNode> | undefined;

/**
 * Starts loading @kubernetes/client-node, once per process, and returns it. Evaluating it takes ~0.5 s (its
 * generated models); a stack calls this before its cluster's processes start, so the load runs while they do
 * instead of before them, and a command that never talks to an API server never pays it.
 */
export function loadClientNode(): Promise<ClientNode> {
  clientNode ??= import('@kubernetes/client-node');
  return clientNode;
}

/** Loads the kubeconfig from this file only: loadFromFile ignores $KUBECONFIG and ~/.kube/config. */
function loadKubeConfig(lib: ClientNode, file: string): k8s.KubeConfig {
  const kc = new lib.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/**
 * Makes every API call of this kubeconfig's clients go through one kept-alive agent. client-node makes a
 * new https.Agent for each request (KubeConfig.applySecurityAuthentication), so each call paid a TCP
 * connection and a TLS handshake with client certificates: 20-40 ms a call on this stack, against a few
 * ms on an open connection. The agent is made from the first request's own (same CA, certificate, key,
 * server name), with keepAlive added; its idle sockets do not keep the process alive (Node unrefs them).
 */
function keepConnectionsAlive(kc: k8s.KubeConfig): void {
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  let shared: HttpsAgent | undefined;
  kc.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    const made = context.getAgent();
    if (!(made instanceof HttpsAgent)) return;
    shared ??= new HttpsAgent({ ...made.options, keepAlive: true });
    context.setAgent(shared);
  };
}

interface Clients {
  lib: ClientNode;
  objects: k8s.KubernetesObjectApi;
  core: k8s.CoreV1Api;
  execApi: k8s.Exec;
}

export class ClientNodeK8s implements K8sOps {
  private made?: Promise<Clients>;

  /** The kubeconfig is read at the first call (client-node is loaded then, if nothing loaded it before). */
  constructor(readonly kubeconfigFile: string) {}

  private clients(): Promise<Clients> {
    this.made ??= loadClientNode().then((lib) => {
      const kc = loadKubeConfig(lib, this.kubeconfigFile);
      keepConnectionsAlive(kc);
      return { lib, objects: lib.KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(lib.CoreV1Api), execApi: new lib.Exec(kc) };
    });
    return this.made;
  }

  async get(ref: ObjectRef): Promise<K8sObject | undefined> {
    const { objects } = await this.clients();
    try {
      return (await whenBusyOrReset(() =>
        objects.read({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        }),
      )) as unknown as K8sObject;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(obj: K8sObject, opts: { dryRun?: boolean } = {}): Promise<K8sObject> {
    const { lib, objects } = await this.clients();
    return (await whenBusy(() => objects.create(toModel(lib, obj), undefined, opts.dryRun ? 'All' : undefined, FIELD_MANAGER)).catch(
      (e: unknown) => {
        throw refusal(e, obj);
      },
    )) as unknown as K8sObject;
  }

  async apply(obj: K8sObject): Promise<void> {
    const { lib, objects } = await this.clients();
    await whenBusyOrReset(() =>
      objects.patch(toModel(lib, obj), undefined, undefined, FIELD_MANAGER, true, lib.PatchStrategy.ServerSideApply),
    ).catch((e: unknown) => {
      throw refusal(e, obj);
    });
  }

  async delete(ref: ObjectRef, opts: { force?: boolean } = {}): Promise<boolean> {
    const { objects } = await this.clients();
    try {
      await whenBusyOrReset(() =>
        objects.delete(
          { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } },
          undefined,
          undefined,
          opts.force ? 0 : undefined,
        ),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async listPods(namespace: string | undefined, labelSelector?: string, opts: { cached?: boolean } = {}): Promise<K8sObject[]> {
    const { core } = await this.clients();
    const resourceVersion = opts.cached ? '0' : undefined;
    const list = await whenBusyOrReset(() =>
      namespace === undefined
        ? core.listPodForAllNamespaces({ labelSelector, resourceVersion })
        : core.listNamespacedPod({ namespace, labelSelector, resourceVersion }),
    );
    // As list(): the items of a list carry no apiVersion/kind.
    return list.items.map((o) => ({ ...(o as unknown as K8sObject), apiVersion: 'v1', kind: 'Pod' }));
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<K8sObject[]> {
    const { objects } = await this.clients();
    const res = await whenBusyOrReset(() =>
      objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector),
    );
    // A list's items carry no apiVersion/kind; give them back so callers can apply or delete them as they are.
    return res.items.map((o) => ({ ...(o as unknown as K8sObject), apiVersion, kind }));
  }

  /** One object of a kind in every namespace, asked once (no retry): enough to make the API server serve the kind. */
  async listFirst(apiVersion: string, kind: string): Promise<void> {
    const { objects } = await this.clients();
    await objects.list(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, undefined, 1);
  }

  async setPodStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
    const { lib, core } = await this.clients();
    await core.patchNamespacedPodStatus(
      { name, namespace, body: { status } },
      lib.setHeaderOptions('Content-Type', lib.PatchStrategy.MergePatch),
    );
  }

  /** A merge patch of a Node's status (the kwok cluster's fake Node: its kubelet port). */
  async setNodeStatus(name: string, status: Record<string, unknown>): Promise<void> {
    const { lib, core } = await this.clients();
    await core.patchNodeStatus({ name, body: { status } }, lib.setHeaderOptions('Content-Type', lib.PatchStrategy.MergePatch));
  }

  async exec(namespace: string, pod: string, container: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const { execApi } = await this.clients();
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let status: k8s.V1Status | undefined;
      const sink = (append: (s: string) => void) =>
        new Writable({
          write(chunk, _enc, cb) {
            append(chunk.toString());
            cb();
          },
        });
      let socket: { close(): void } | undefined;
      const timer = setTimeout(() => {
        socket?.close();
        reject(new Error(`exec in ${namespace}/${pod} [${container}] timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      execApi
        .exec(
          namespace,
          pod,
          container,
          argv,
          sink((s) => (stdout += s)),
          sink((s) => (stderr += s)),
          null,
          false,
          (s) => {
            status = s;
          },
        )
        .then(
          (ws) => {
            socket = ws;
            // The status arrives on the error channel before close; resolve on close so all output is in.
            ws.on('close', () => {
              clearTimeout(timer);
              resolve({ exitCode: exitCodeOf(status), stdout, stderr });
            });
          },
          (err) => {
            clearTimeout(timer);
            reject(err);
          },
        );
    });
  }

  async logs(namespace: string, pod: string, container: string, tailLines = 500): Promise<string> {
    const { core } = await this.clients();
    return await core.readNamespacedPodLog({ name: pod, namespace, container, tailLines });
  }
}

/**
 * An API error whose message says which object was refused and the API server's own reason (client-node's
 * message is `HTTP-Code: 400` then the raw body on later lines, which a one-line report drops). The code and
 * body stay, so callers still tell a conflict or a webhook's denial apart.
 */
function refusal(err: unknown, obj: K8sObject): unknown {
  const { code, body } = err as { code?: unknown; body?: unknown };
  if (typeof code !== 'number') return err;
  let reason: string | undefined;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | undefined;
    // A webhook's list of errors spans lines (`3 errors occurred:\n\t* …`): one line keeps all of them in a report.
    if (typeof status?.message === 'string') reason = status.message.trim().replace(/\s*\n\s*/g, ' ');
  } catch {
    // not a Status: the message below says what there is
  }
  const at = `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
  const e = new Error(`${at} was refused by the API server (HTTP ${code}): ${reason ?? (err as Error).message?.split('\n')[0]}`);
  return Object.assign(e, { code, body });
}

/**
 * client-node serializes a built-in kind through its typed model, which knows fields by their model names
 * (`xKubernetesIntOrString`) and drops the wire names (`x-kubernetes-int-or-string`) of a plain object:
 * a CRD rendered by istioctl would lose its int-or-string markers and be refused. Reading the plain object
 * into the model first (client-node's loadYaml does that) keeps every field.
 */
function toModel(lib: ClientNode, obj: K8sObject): k8s.KubernetesObject {
  // JSON is YAML; loadYaml is the exported door to the model deserializer.
  return lib.loadYaml<k8s.KubernetesObject>(JSON.stringify(obj));
}

/** The exec status channel: Success → 0; NonZeroExitCode carries the code in details.causes[ExitCode]. */
export function exitCodeOf(status: k8s.V1Status | undefined): number {
  if (!status) return -1;
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : -1;
}
