// A recording, in-memory stand-in for the Kubernetes API (K8sOps), for orchestration tests where no API
// server exists. It answers like a healthy kind cluster: CoreDNS present, applied pods ready (with
// istio-proxy in injected namespaces), istiod ready once installed, the mesh ConfigMap per meshMode().
import { KIND_DEFAULT_COREFILE } from '../phases/servers.ts';
import type { K8sObject } from '../runner.ts';
import type { ExecResult, K8sOps, ObjectRef } from '../../../k8s/client.ts';

export interface FakeCall {
  op: 'get' | 'create' | 'dry-run-create' | 'apply' | 'delete' | 'list' | 'exec' | 'logs';
  kind?: string;
  namespace?: string;
  name?: string;
  argv?: string[];
  container?: string;
}

export interface FakeK8sOptions {
  /** outboundTrafficPolicy.mode istioctl installed last; undefined: Istio not installed. */
  meshMode?: () => string | undefined;
  exec?: (namespace: string, pod: string, container: string, argv: string[]) => ExecResult;
  /** Objects present before the run (e.g. an owner marker on a reused cluster). */
  seed?: K8sObject[];
  /** Pods come up without istio-proxy (injection missing). */
  noInjection?: boolean;
  /** Make a call throw (as the API server would on a conflict or an outage); checked after recording it. */
  failOn?: (call: FakeCall, nth: number) => boolean;
}

const key = (r: { kind: string; namespace?: string; name: string }) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;

export class FakeK8s implements K8sOps {
  readonly calls: FakeCall[] = [];
  readonly store = new Map<string, K8sObject>();

  constructor(private readonly opts: FakeK8sOptions = {}) {
    this.put({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: KIND_DEFAULT_COREFILE },
    });
    this.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system' }, spec: { replicas: 2 } });
    this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    for (const o of opts.seed ?? []) this.put(o);
  }

  async list(apiVersion: string, kind: string, namespace?: string): Promise<K8sObject[]> {
    return [...this.store.values()].filter(
      (o) => o.apiVersion === apiVersion && o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace),
    );
  }

  async setPodStatus(): Promise<void> {
    throw new Error('FakeK8s: setPodStatus is not used by the kind lane (its kubelet writes pod status)');
  }

  private put(o: K8sObject) {
    this.store.set(key({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }), structuredClone(o));
  }

  private injected(ns?: string): boolean {
    const n = this.store.get(key({ kind: 'Namespace', name: ns ?? '' }));
    return n?.metadata.labels?.['istio-injection'] === 'enabled';
  }

  async get(ref: ObjectRef): Promise<K8sObject | undefined> {
    this.calls.push({ op: 'get', kind: ref.kind, namespace: ref.namespace, name: ref.name });
    if (ref.kind === 'ConfigMap' && ref.namespace === 'istio-system' && ref.name === 'istio') {
      const mode = this.opts.meshMode?.();
      if (mode === undefined) return undefined;
      return {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'istio', namespace: 'istio-system' },
        data: { mesh: `accessLogFile: /dev/stdout\noutboundTrafficPolicy:\n  mode: ${mode}\n` },
      };
    }
    if (ref.kind === 'Deployment' && ref.namespace === 'istio-system' && ref.name === 'istiod') {
      if (this.opts.meshMode?.() === undefined) return undefined;
      return this.withStatus({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'istiod', namespace: 'istio-system' },
        spec: { replicas: 1 },
      });
    }
    const o = this.store.get(key(ref));
    return o ? this.withStatus(structuredClone(o)) : undefined;
  }

  /** Every Deployment rolled out, every Pod ready. */
  private withStatus(o: K8sObject): K8sObject {
    if (o.kind === 'Deployment') {
      const replicas = (o.spec as { replicas?: number } | undefined)?.replicas ?? 1;
      return {
        ...o,
        metadata: { ...o.metadata, generation: 2 } as K8sObject['metadata'],
        status: { observedGeneration: 2, replicas, updatedReplicas: replicas, availableReplicas: replicas },
      };
    }
    if (o.kind === 'Pod') {
      const spec = o.spec as { containers: { name: string }[] };
      const names = spec.containers.map((c) => c.name);
      const inject = this.injected(o.metadata.namespace) && !this.opts.noInjection;
      const all = inject ? [...names, 'istio-proxy'] : names;
      return {
        ...o,
        spec: { ...spec, ...(inject ? { initContainers: [{ name: 'istio-init' }, { name: 'istio-proxy' }] } : {}) },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: all.map((name) => ({ name, ready: true })),
        },
      };
    }
    return o;
  }

  /** What admission would store: a Pod in an injected namespace comes back with the sidecar (withStatus). */
  async create(obj: K8sObject, opts: { dryRun?: boolean } = {}): Promise<K8sObject> {
    this.calls.push({
      op: opts.dryRun ? 'dry-run-create' : 'create',
      kind: obj.kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
    });
    if (!opts.dryRun) this.put(obj);
    return this.withStatus(structuredClone(obj));
  }

  private record(call: FakeCall) {
    this.calls.push(call);
    const nth = this.calls.filter((c) => c.op === call.op && c.kind === call.kind && c.name === call.name).length;
    if (this.opts.failOn?.(call, nth))
      throw Object.assign(new Error(`fake API: ${call.op} ${call.kind} ${call.name} failed`), { code: 500 });
  }

  async apply(obj: K8sObject): Promise<void> {
    this.record({ op: 'apply', kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
    const prev = this.store.get(key({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }));
    this.put(prev ? (merge(prev, obj) as K8sObject) : obj);
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    this.record({ op: 'delete', kind: ref.kind, namespace: ref.namespace, name: ref.name });
    return this.store.delete(key(ref));
  }

  async listPods(namespace: string): Promise<K8sObject[]> {
    this.calls.push({ op: 'list', kind: 'Pod', namespace });
    return [...this.store.values()].filter((o) => o.kind === 'Pod' && o.metadata.namespace === namespace);
  }

  async exec(namespace: string, pod: string, container: string, argv: string[]): Promise<ExecResult> {
    this.calls.push({ op: 'exec', namespace, name: pod, container, argv });
    return this.opts.exec?.(namespace, pod, container, argv) ?? { exitCode: 0, stdout: 'ok', stderr: '' };
  }

  async logs(namespace: string, pod: string, container: string): Promise<string> {
    this.calls.push({ op: 'logs', namespace, name: pod, container });
    return `log of ${namespace}/${pod} [${container}]\n`;
  }
}

function merge(a: unknown, b: unknown): unknown {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
    return out;
  }
  return b;
}
