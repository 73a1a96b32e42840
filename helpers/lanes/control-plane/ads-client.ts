// A small state-of-the-world ADS client that connects to istiod as a sidecar and fetches what Envoy would get.
//
// Protos come from @grpc/grpc-js-xds (it ships the Envoy API). proto-loader is told `json: true`, which makes
// protobufjs expand every google.protobuf.Any whose type it knows into a plain object with an `@type` key —
// recursively, so the typed_config of listener filters, HCM, TcpProxy and HTTP filters arrive decoded as long
// as their .proto is loaded into the same root (that is why EXTRA_PROTOS lists them). Istio-private types
// (e.g. istio.mixer / stats plugin configs) stay `{type_url, value}`; the evaluator never needs them.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  /** Istio's DNS name table (pilot/pkg/xds/nds.go), sent to proxies with DNS capture. */
  nameTable: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
} as const;

/** Plain decoded Envoy resources (snake_case field names, enums as strings). */
export type XdsResource = Record<string, any>;

export interface XdsSnapshot {
  clusters: XdsResource[];
  listeners: XdsResource[];
  routes: XdsResource[];
  /** Hostname → addresses from NDS, present when the proxy asked for DNS capture. */
  nameTable?: Record<string, { ips: string[]; registry?: string; namespace?: string }>;
  /** version_info per type, as istiod sent it (istiod uses the push version). */
  versions: Record<string, string>;
}

export interface SidecarIdentity {
  namespace: string;
  /** Pod IP sent as metadata only; nothing is ever sent to it. */
  ip: string;
  podName: string;
  labels: Record<string, string>;
  istioVersion: string;
  clusterId?: string;
  /** Extra ISTIO_META_* style metadata (e.g. DNS_CAPTURE), as the agent would derive from proxyMetadata. */
  extraMetadata?: Record<string, string>;
}

/** Node id `sidecar~IP~POD.NS~NS.svc.cluster.local` (pilot/pkg/model/context.go ParseServiceNodeWithMetadata). */
export function nodeId(id: SidecarIdentity): string {
  return `sidecar~${id.ip}~${id.podName}.${id.namespace}~${id.namespace}.svc.cluster.local`;
}

/**
 * Node metadata as pilot-agent would send it (fields of NodeMetadata in pkg/model/proxy.go; all strings,
 * LABELS a string map). istiod falls back to LABELS when no pod with the proxy's IP is known
 * (pilot/pkg/model/context.go SetWorkloadLabels), which is always the case here: that is what makes
 * Sidecar workloadSelector match.
 */
export function nodeMetadata(id: SidecarIdentity): Record<string, string | Record<string, string>> {
  return {
    NAMESPACE: id.namespace,
    ISTIO_VERSION: id.istioVersion,
    INSTANCE_IPS: id.ip,
    LABELS: id.labels,
    CLUSTER_ID: id.clusterId ?? 'Kubernetes',
    INTERCEPTION_MODE: 'REDIRECT',
    NAME: id.podName,
    WORKLOAD_NAME: id.podName,
    SERVICE_ACCOUNT: 'default',
    MESH_ID: 'cluster.local',
    ...(id.extraMetadata ?? {}),
  };
}

// google.protobuf.* come from protobufjs' bundled descriptors, whose field names are camelCase even with keepCase.
type StructValue = { stringValue: string } | { structValue: { fields: Record<string, StructValue> } };

function toStruct(obj: Record<string, string | Record<string, string>>): { fields: Record<string, StructValue> } {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(obj)) {
    fields[k] = typeof v === 'string' ? { stringValue: v } : { structValue: toStruct(v) };
  }
  return { fields };
}

const EXTRA_PROTOS = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/direct_response/v3/config.proto',
  'envoy/extensions/filters/network/sni_cluster/v3/sni_cluster.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/grpc_stats/v3/config.proto',
  'envoy/extensions/filters/http/grpc_web/v3/grpc_web.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
];

// Istio's NDS payload is not part of the Envoy API; its shape (istio.io/istio pkg/dns/proto/nds.proto,
// istio.networking.nds.v1) is small enough to declare here as data.
const NDS_JSON = {
  nested: {
    istio: { nested: { networking: { nested: { nds: { nested: { v1: { nested: {
      NameTable: {
        fields: { table: { keyType: 'string', type: 'NameInfo', id: 1 } },
        nested: {
          NameInfo: {
            fields: {
              ips: { rule: 'repeated', type: 'string', id: 1 },
              registry: { type: 'string', id: 2 },
              shortname: { type: 'string', id: 3 },
              namespace: { type: 'string', id: 4 },
              alt_hosts: { rule: 'repeated', type: 'string', id: 5 },
            },
          },
        },
      },
    } } } } } } } },
  },
};

const LOADER_OPTS: protoLoader.Options = {
  keepCase: true, // protobufjs' Any expansion looks for `type_url`, so field names must stay snake_case
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  json: true,
};

function protoIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const base = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(base, d));
}

interface Loaded {
  Ads: grpc.ServiceClientConstructor;
  decodeNameTable: (buf: Uint8Array) => XdsSnapshot['nameTable'];
}

let loaded: Loaded | undefined;

/** Parses the protos once per process (they take a few hundred ms). */
export function loadAdsProtos(): Loaded {
  if (loaded) return loaded;
  const def = protoLoader.loadSync(EXTRA_PROTOS, { ...LOADER_OPTS, includeDirs: protoIncludeDirs() });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const Ads = pkg.envoy.service.discovery.v3.AggregatedDiscoveryService as grpc.ServiceClientConstructor;
  // NDS is decoded separately: it is not in the Envoy root, and a separate tiny root keeps that root untouched.
  const ndsDef = protoLoader.fromJSON(NDS_JSON, LOADER_OPTS);
  const nameTableType = ndsDef['istio.networking.nds.v1.NameTable'] as protoLoader.MessageTypeDefinition<object, object>;
  const decodeNameTable = (buf: Uint8Array) => {
    const decoded = nameTableType.deserialize(Buffer.from(buf)) as any;
    return decoded.table ?? {};
  };
  loaded = { Ads, decodeNameTable };
  return loaded;
}

export class AdsError extends Error {}

interface Pending {
  typeUrl: string;
  resolve: (r: any) => void;
  reject: (e: Error) => void;
}

/**
 * One ADS stream. `fetch()` walks CDS → LDS → RDS like Envoy does and ACKs each response with its
 * version_info and response_nonce, so istiod treats us as an up-to-date proxy.
 */
export class AdsClient {
  private readonly client: grpc.Client;
  private call?: grpc.ClientDuplexStream<any, any>;
  private readonly waiting: Pending[] = [];
  private readonly latest = new Map<string, any>();
  private closed = false;
  private streamError?: Error;
  private sentNode = false;

  constructor(readonly address: string, readonly identity: SidecarIdentity) {
    const { Ads } = loadAdsProtos();
    this.client = new Ads(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  private ensureStream(): grpc.ClientDuplexStream<any, any> {
    if (this.call) return this.call;
    if (this.closed) throw new AdsError('ADS client is closed');
    const call = (this.client as any).StreamAggregatedResources() as grpc.ClientDuplexStream<any, any>;
    call.on('data', (resp: any) => this.onResponse(resp));
    call.on('error', (err: Error) => this.fail(err));
    call.on('end', () => this.fail(new AdsError('istiod closed the ADS stream')));
    this.call = call;
    return call;
  }

  private fail(err: Error): void {
    if (this.closed && (err as any).code === grpc.status.CANCELLED) return;
    this.streamError ??= err;
    for (const p of this.waiting.splice(0)) p.reject(err);
  }

  private send(typeUrl: string, names: string[], ack?: { version: string; nonce: string }): void {
    const req: any = {
      type_url: typeUrl,
      resource_names: names,
      version_info: ack?.version ?? '',
      response_nonce: ack?.nonce ?? '',
    };
    if (!this.sentNode) {
      // Only the first request needs the node; istiod keys the connection on it.
      req.node = { id: nodeId(this.identity), metadata: toStruct(nodeMetadata(this.identity)) };
      this.sentNode = true;
    }
    this.ensureStream().write(req);
  }

  private onResponse(resp: any): void {
    const typeUrl: string = resp.type_url;
    // ACK every response (also unsolicited pushes), keeping the names we subscribed to.
    const names = typeUrl === TYPE.route ? this.routeNames : [];
    this.send(typeUrl, names, { version: resp.version_info ?? '', nonce: resp.nonce ?? '' });
    this.latest.set(typeUrl, resp);
    const i = this.waiting.findIndex((p) => p.typeUrl === typeUrl);
    if (i >= 0) this.waiting.splice(i, 1)[0].resolve(resp);
  }

  private routeNames: string[] = [];

  private request(typeUrl: string, names: string[], timeoutMs: number): Promise<any> {
    if (this.streamError) return Promise.reject(this.streamError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(p);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new AdsError(`no ${typeUrl.split('.').pop()} response from istiod at ${this.address} within ${timeoutMs} ms`));
      }, timeoutMs);
      const p: Pending = {
        typeUrl,
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.waiting.push(p);
      const prev = this.latest.get(typeUrl);
      // A new subscription on an open stream carries the last ACKed version/nonce, as Envoy does.
      this.send(typeUrl, names, prev ? { version: prev.version_info ?? '', nonce: prev.nonce ?? '' } : undefined);
    });
  }

  /** CDS, LDS, then RDS for every route name the listeners refer to (plus NDS when DNS capture is on). */
  async fetch(opts: { timeoutMs?: number; nameTable?: boolean } = {}): Promise<XdsSnapshot> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const cds = await this.request(TYPE.cluster, [], timeoutMs);
    const lds = await this.request(TYPE.listener, [], timeoutMs);
    const clusters = decodeResources(cds);
    const listeners = decodeResources(lds);
    this.routeNames = [...new Set(listeners.flatMap(routeNamesOf))].sort();
    let routes: XdsResource[] = [];
    const versions: Record<string, string> = { cds: cds.version_info, lds: lds.version_info };
    if (this.routeNames.length > 0) {
      const rds = await this.request(TYPE.route, this.routeNames, timeoutMs);
      routes = decodeResources(rds);
      versions.rds = rds.version_info;
    }
    const snap: XdsSnapshot = { clusters, listeners, routes, versions };
    if (opts.nameTable) {
      const nds = await this.request(TYPE.nameTable, [], timeoutMs);
      const { decodeNameTable } = loadAdsProtos();
      const table: NonNullable<XdsSnapshot['nameTable']> = {};
      for (const r of nds.resources ?? []) {
        Object.assign(table, decodeNameTable(r.value ?? Buffer.alloc(0)));
      }
      snap.nameTable = table;
      versions.nds = nds.version_info;
    }
    return snap;
  }

  close(): void {
    this.closed = true;
    try {
      this.call?.cancel();
    } catch {
      /* already gone */
    }
    this.client.close();
  }
}

/** One-shot: connect, fetch, close. A fresh stream always gets istiod's current push context. */
export async function fetchSnapshot(address: string, identity: SidecarIdentity, opts: { timeoutMs?: number; nameTable?: boolean } = {}): Promise<XdsSnapshot> {
  const c = new AdsClient(address, identity);
  try {
    return await c.fetch(opts);
  } finally {
    c.close();
  }
}

function decodeResources(resp: any): XdsResource[] {
  return (resp.resources ?? []).map((r: any) => {
    // Istio may wrap resources in envoy.service.discovery.v3.Resource; unwrap to the payload.
    if (r && r['@type'] === 'type.googleapis.com/envoy.service.discovery.v3.Resource' && r.resource) return r.resource;
    return r;
  });
}

/** Route config names referenced by HCM filters (rds.route_config_name) anywhere in a listener. */
export function routeNamesOf(listener: XdsResource): string[] {
  const names: string[] = [];
  for (const chain of [...(listener.filter_chains ?? []), ...(listener.default_filter_chain ? [listener.default_filter_chain] : [])]) {
    for (const f of chain.filters ?? []) {
      const tc = f.typed_config;
      if (tc?.rds?.route_config_name) names.push(tc.rds.route_config_name);
    }
  }
  return names;
}
