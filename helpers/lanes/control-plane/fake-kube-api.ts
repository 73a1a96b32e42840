// A tiny in-memory Kubernetes API server on loopback, just enough for pilot-discovery to start.
//
// Why it exists: at the pinned master build, istiod cannot run with file config alone. The
// ServiceEntry registry reads namespaces from the multicluster controller
// (pilot/pkg/serviceregistry/serviceentry/controller.go: `multiclusterController.ConfigCluster().Namespaces()`,
// added by "krt: serviceentry controller" #58951), and that controller is only created when istiod has a
// kube client (pilot/pkg/bootstrap/server.go `initMulticluster` returns early when kubeClient is nil).
// With `--registries=` (no Kubernetes) istiod therefore panics with a nil pointer at startup.
// A kube client is only created for the Kubernetes registry (server.go `initKubeClient`), so the lane runs
// `--registries=Kubernetes --kubeconfig=<this server>`; config still comes from `--configDir` files.
//
// What it serves: discovery (/version, /api, /apis), list and watch of any resource (stored objects,
// seeded with the namespaces the lane needs), create/replace/patch/delete so leader election and any
// bookkeeping writes succeed. Everything lives in memory; nothing leaves 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

type KubeObject = Record<string, any>;

interface ParsedPath {
  /** `api/v1` or `apis/GROUP/VERSION`. */
  groupVersion: string;
  apiVersion: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

interface Watcher {
  groupVersion: string;
  resource: string;
  namespace?: string;
  res: ServerResponse;
}

// Typed client-go decoders reject a list whose `kind` is unknown ("no kind IngresseList is registered"),
// but fill in the kind from the target type when it is absent, so unknown resources get no kind at all.
const KIND_BY_RESOURCE: Record<string, string> = {
  namespaces: 'Namespace', pods: 'Pod', services: 'Service', endpoints: 'Endpoints', nodes: 'Node',
  configmaps: 'ConfigMap', secrets: 'Secret', serviceaccounts: 'ServiceAccount', events: 'Event',
  endpointslices: 'EndpointSlice', leases: 'Lease', ingresses: 'Ingress', ingressclasses: 'IngressClass',
  deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet', replicasets: 'ReplicaSet',
  customresourcedefinitions: 'CustomResourceDefinition',
  mutatingwebhookconfigurations: 'MutatingWebhookConfiguration',
  validatingwebhookconfigurations: 'ValidatingWebhookConfiguration',
  serviceentries: 'ServiceEntry', workloadentries: 'WorkloadEntry', workloadgroups: 'WorkloadGroup',
  sidecars: 'Sidecar', destinationrules: 'DestinationRule', virtualservices: 'VirtualService',
  gateways: 'Gateway', envoyfilters: 'EnvoyFilter', peerauthentications: 'PeerAuthentication',
  requestauthentications: 'RequestAuthentication', authorizationpolicies: 'AuthorizationPolicy',
  telemetries: 'Telemetry', wasmplugins: 'WasmPlugin', proxyconfigs: 'ProxyConfig',
  httproutes: 'HTTPRoute', grpcroutes: 'GRPCRoute', tcproutes: 'TCPRoute', tlsroutes: 'TLSRoute',
  gatewayclasses: 'GatewayClass', referencegrants: 'ReferenceGrant', backendtlspolicies: 'BackendTLSPolicy',
};

function kindOf(resource: string): string | undefined {
  return KIND_BY_RESOURCE[resource];
}

export function parseKubePath(pathname: string): ParsedPath | undefined {
  const segs = pathname.split('/').filter(Boolean);
  let gv: string[];
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    gv = segs.slice(0, 2);
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    gv = segs.slice(0, 3);
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  // The old-style `/watch/` path prefix is treated like `?watch=true`.
  if (rest[0] === 'watch') rest = rest.slice(1);
  if (rest.length === 0) return undefined;
  const groupVersion = gv.join('/');
  const apiVersion = gv[0] === 'api' ? gv[1] : `${gv[1]}/${gv[2]}`;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    return { groupVersion, apiVersion, namespace: rest[1], resource: rest[2], name: rest[3], subresource: rest[4] };
  }
  return { groupVersion, apiVersion, resource: rest[0], name: rest[1], subresource: rest[2] };
}

/** Equality-based label selectors only (`a=b`, `a==b`, `a!=b`, `a`, `!a`); anything else matches. */
export function matchesLabelSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const term of selector.split(',').map((t) => t.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(term))) {
      if (l[m[1]] === m[2]) return false;
    } else if ((m = /^([^!=]+)==?(.*)$/.exec(term))) {
      if (l[m[1]] !== m[2]) return false;
    } else if ((m = /^!(.+)$/.exec(term))) {
      if (m[1] in l) return false;
    } else if (/^[A-Za-z0-9._/-]+$/.test(term)) {
      if (!(term in l)) return false;
    }
  }
  return true;
}

export class FakeKubeApi {
  private server?: Server;
  private rv = 1;
  /** key: `groupVersion|resource|namespace|name` */
  private readonly objects = new Map<string, KubeObject>();
  private readonly watchers = new Set<Watcher>();
  /**
   * Recent events with the resourceVersion they produced, so a watch that starts from a list's
   * resourceVersion gets what happened in between (client-go lists, then watches from that version;
   * without the replay an event landing in that gap is lost and an informer never sees it).
   */
  private readonly history: { rv: number; gv: string; resource: string; ns: string | undefined; line: string }[] = [];
  /** Request lines seen, for evidence when istiod misbehaves. */
  readonly requestLog: string[] = [];
  url = '';

  async start(): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A kubeconfig pointing at this server, without credentials (plain HTTP on loopback). */
  kubeconfig(): string {
    return [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      'clusters:', '- name: fake', '  cluster:', `    server: ${this.url}`,
      'contexts:', '- name: fake', '  context:', '    cluster: fake', '    user: fake',
      'users:', '- name: fake', '  user: {}', '',
    ].join('\n');
  }

  ensureNamespace(name: string, labels: Record<string, string> = {}): void {
    const key = this.key('api/v1', 'namespaces', undefined, name);
    if (this.objects.has(key)) return;
    this.put('api/v1', 'namespaces', undefined, {
      apiVersion: 'v1', kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
      spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
    }, 'ADDED');
  }

  /** Registers a CRD so istiod's CRD watcher starts informers for it (kclient.NewDelayedInformer). */
  ensureCrd(group: string, version: string, plural: string, kind: string): void {
    const name = `${plural}.${group}`;
    if (this.objects.has(this.key('apis/apiextensions.k8s.io/v1', 'customresourcedefinitions', undefined, name))) return;
    this.put('apis/apiextensions.k8s.io/v1', 'customresourcedefinitions', undefined, {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
      metadata: { name },
      spec: { group, scope: 'Namespaced', names: { plural, kind, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [{ name: version, served: true, storage: true, subresources: { status: {} } }] },
      status: { conditions: [{ type: 'Established', status: 'True' }], acceptedNames: { plural, kind } },
    }, 'ADDED');
  }

  /** Creates or replaces an object (ADDED/MODIFIED events go to watchers). */
  upsert(groupVersion: string, resource: string, namespace: string | undefined, obj: KubeObject): KubeObject {
    const existing = this.objects.get(this.key(groupVersion, resource, namespace, obj.metadata.name));
    const next = structuredClone(obj);
    if (existing) {
      next.metadata = { ...existing.metadata, ...next.metadata };
      if (existing.status && !next.status) next.status = existing.status;
    }
    return this.put(groupVersion, resource, namespace, next, existing ? 'MODIFIED' : 'ADDED');
  }

  get(groupVersion: string, resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(this.key(groupVersion, resource, namespace, name));
  }

  listAll(groupVersion: string, resource: string): KubeObject[] {
    return this.list({ groupVersion, apiVersion: '', resource }, null);
  }

  remove(groupVersion: string, resource: string, namespace: string | undefined, name: string): void {
    const key = this.key(groupVersion, resource, namespace, name);
    const existing = this.objects.get(key);
    if (!existing) return;
    this.objects.delete(key);
    this.notify(groupVersion, resource, namespace, { type: 'DELETED', object: existing });
  }

  private key(gv: string, resource: string, ns: string | undefined, name: string): string {
    return `${gv}|${resource}|${ns ?? ''}|${name}`;
  }

  private put(gv: string, resource: string, ns: string | undefined, obj: KubeObject, event: 'ADDED' | 'MODIFIED'): KubeObject {
    const meta = (obj.metadata ??= {});
    meta.resourceVersion = String(++this.rv);
    meta.uid ??= randomUUID();
    meta.creationTimestamp ??= new Date().toISOString();
    if (ns) meta.namespace = ns;
    this.objects.set(this.key(gv, resource, ns, meta.name), obj);
    this.notify(gv, resource, ns, { type: event, object: obj });
    return obj;
  }

  private notify(gv: string, resource: string, ns: string | undefined, ev: { type: string; object: KubeObject }): void {
    if (ev.type === 'DELETED') ev = { ...ev, object: { ...ev.object, metadata: { ...ev.object.metadata, resourceVersion: String(++this.rv) } } };
    const line = JSON.stringify(ev) + '\n';
    this.history.push({ rv: this.rv, gv, resource, ns, line });
    if (this.history.length > 5000) this.history.splice(0, this.history.length - 5000);
    for (const w of this.watchers) {
      if (w.groupVersion === gv && w.resource === resource && (!w.namespace || w.namespace === ns)) w.res.write(line);
    }
  }

  private list(p: ParsedPath, labelSelector: string | null): KubeObject[] {
    const out: KubeObject[] = [];
    for (const [k, obj] of this.objects) {
      const [gv, resource, ns] = k.split('|');
      if (gv !== p.groupVersion || resource !== p.resource) continue;
      if (p.namespace && ns !== p.namespace) continue;
      if (!matchesLabelSelector(obj.metadata?.labels, labelSelector)) continue;
      out.push(obj);
    }
    return out;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.route(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        send(res, 500, status(500, 'InternalError', String(err)));
      }
    });
  }

  private route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    if (this.requestLog.length < 2000) this.requestLog.push(`${method} ${url.pathname}${url.search}`);
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/version') {
      return send(res, 200, { major: '1', minor: '35', gitVersion: 'v1.35.0', platform: 'linux/amd64' });
    }
    if (path === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return sendText(res, 200, 'ok');
    const p = parseKubePath(path);
    if (!p) return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource (${path})`));
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' || /\/watch\//.test(path);

    if (method === 'GET' && !p.name) {
      const items = this.list(p, url.searchParams.get('labelSelector'));
      if (isWatch) return this.watch(p, res, url, items);
      return send(res, 200, {
        ...(kindOf(p.resource) ? { apiVersion: p.apiVersion, kind: `${kindOf(p.resource)}List` } : {}),
        metadata: { resourceVersion: String(this.rv) }, items,
      });
    }
    const key = p.name ? this.key(p.groupVersion, p.resource, p.namespace, p.name) : '';
    const existing = key ? this.objects.get(key) : undefined;
    switch (method) {
      case 'GET':
        return existing ? send(res, 200, existing) : send(res, 404, notFound(p));
      case 'POST': {
        const obj = parseJson(body);
        if (!obj?.metadata?.name && obj?.metadata?.generateName) obj.metadata.name = obj.metadata.generateName + randomUUID().slice(0, 5);
        if (!obj?.metadata?.name) return send(res, 422, status(422, 'Invalid', 'metadata.name is required'));
        if (this.objects.has(this.key(p.groupVersion, p.resource, p.namespace, obj.metadata.name))) {
          return send(res, 409, status(409, 'AlreadyExists', `${p.resource} "${obj.metadata.name}" already exists`));
        }
        obj.apiVersion ??= p.apiVersion;
        if (kindOf(p.resource)) obj.kind ??= kindOf(p.resource);
        return send(res, 201, this.put(p.groupVersion, p.resource, p.namespace, obj, 'ADDED'));
      }
      case 'PUT': {
        const obj = parseJson(body);
        if (!obj) return send(res, 400, status(400, 'BadRequest', 'body is not JSON'));
        obj.metadata = { ...(existing?.metadata ?? {}), ...(obj.metadata ?? {}), name: p.name };
        return send(res, existing ? 200 : 201, this.put(p.groupVersion, p.resource, p.namespace, obj, existing ? 'MODIFIED' : 'ADDED'));
      }
      case 'PATCH': {
        if (!existing && (req.headers['content-type'] ?? '').includes('json-patch')) return send(res, 404, notFound(p));
        if ((req.headers['content-type'] ?? '').includes('application/json-patch+json')) {
          // RFC 6902, as istiod's IP autoallocator sends for ServiceEntry status (test/add/replace).
          const ops = parseJson(body);
          const next = structuredClone(existing!);
          if (!Array.isArray(ops) || !applyJsonPatch(next, ops)) {
            return send(res, 422, status(422, 'Invalid', 'json patch test failed or malformed'));
          }
          return send(res, 200, this.put(p.groupVersion, p.resource, p.namespace, next, 'MODIFIED'));
        }
        const patch = parseJson(body);
        // Server-side apply bodies are YAML and may create the object; merge JSON patches shallowly-deep.
        const base = existing ?? { apiVersion: p.apiVersion, ...(kindOf(p.resource) ? { kind: kindOf(p.resource) } : {}), metadata: { name: p.name } };
        const merged = patch && !Array.isArray(patch) ? deepMerge(structuredClone(base), patch) : base;
        return send(res, 200, this.put(p.groupVersion, p.resource, p.namespace, merged, existing ? 'MODIFIED' : 'ADDED'));
      }
      case 'DELETE': {
        if (!existing) return send(res, 404, notFound(p));
        this.objects.delete(key);
        this.notify(p.groupVersion, p.resource, p.namespace, { type: 'DELETED', object: existing });
        return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', metadata: {} });
      }
      default:
        return send(res, 405, status(405, 'MethodNotAllowed', method));
    }
  }

  private watch(p: ParsedPath, res: ServerResponse, url: URL, items: KubeObject[]): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // client-go's WatchList mode (sendInitialEvents=true) waits for the initial objects and a
    // bookmark annotated `k8s.io/initial-events-end` before it considers the informer synced.
    if (url.searchParams.get('sendInitialEvents') === 'true') {
      for (const object of items) res.write(JSON.stringify({ type: 'ADDED', object }) + '\n');
      res.write(JSON.stringify({
        type: 'BOOKMARK',
        object: {
          apiVersion: p.apiVersion, ...(kindOf(p.resource) ? { kind: kindOf(p.resource) } : {}),
          metadata: { resourceVersion: String(this.rv), annotations: { 'k8s.io/initial-events-end': 'true' } },
        },
      }) + '\n');
    }
    else {
      const from = Number(url.searchParams.get('resourceVersion') ?? NaN);
      if (Number.isFinite(from) && from > 0) {
        for (const h of this.history) {
          if (h.rv > from && h.gv === p.groupVersion && h.resource === p.resource && (!p.namespace || p.namespace === h.ns)) res.write(h.line);
        }
      }
    }
    const w: Watcher = { groupVersion: p.groupVersion, resource: p.resource, namespace: p.namespace, res };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }
}

function parseJson(body: string): KubeObject | undefined {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function decodePointer(path: string): string[] {
  return path.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Minimal RFC 6902: test, add, replace, remove on objects and arrays. False when a test fails. */
export function applyJsonPatch(doc: KubeObject, ops: Array<{ op: string; path: string; value?: unknown }>): boolean {
  for (const op of ops) {
    const parts = decodePointer(op.path);
    const last = parts.pop();
    if (last === undefined) return false;
    let parent: any = doc;
    for (const part of parts) {
      if (parent === null || typeof parent !== 'object') return false;
      parent = parent[part];
    }
    if (op.op === 'test') {
      const cur = parent === undefined || parent === null ? undefined : parent[last];
      if (JSON.stringify(cur ?? null) !== JSON.stringify(op.value ?? null)) return false;
      continue;
    }
    if (parent === null || typeof parent !== 'object') return false;
    if (op.op === 'add' || op.op === 'replace') {
      if (Array.isArray(parent)) {
        if (last === '-') parent.push(op.value);
        else if (op.op === 'add') parent.splice(Number(last), 0, op.value);
        else parent[Number(last)] = op.value;
      } else {
        if (op.op === 'replace' && !(last in parent)) return false;
        parent[last] = op.value;
      }
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else {
      return false;
    }
  }
  return true;
}

function deepMerge(target: KubeObject, patch: KubeObject): KubeObject {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] && !Array.isArray(target[k])) {
      deepMerge(target[k], v);
    } else target[k] = v;
  }
  return target;
}

function status(code: number, reason: string, message: string): KubeObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function notFound(p: ParsedPath): KubeObject {
  return status(404, 'NotFound', `${p.resource} "${p.name}" not found`);
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
