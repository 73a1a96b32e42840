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
import type { Filter as EnvoyFilter } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/Filter.js';
import type { ListenerFilter as EnvoyListenerFilter } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/ListenerFilter.js';
import type { FilterChain as EnvoyFilterChain } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/FilterChain.js';
import type { Listener as EnvoyListener } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/Listener.js';
import type { RouteConfiguration as EnvoyRouteConfiguration } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/route/v3/RouteConfiguration.js';
import type { Cluster as EnvoyCluster } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/cluster/v3/Cluster.js';
import type { DiscoveryRequest } from '@grpc/grpc-js-xds/build/src/generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse as EnvoyDiscoveryResponse } from '@grpc/grpc-js-xds/build/src/generated/envoy/service/discovery/v3/DiscoveryResponse.js';
import type { HttpConnectionManager as EnvoyHttpConnectionManager } from '@grpc/grpc-js-xds/build/src/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager.js';

export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  /** Istio's DNS name table (pilot/pkg/xds/nds.go), sent to proxies with DNS capture. */
  nameTable: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
} as const;

// The decoded shapes are the Envoy types @grpc/grpc-js-xds generated with keepCase (snake_case, like what we
// decode). Its *input* variants are used, not `__Output`: with `defaults: false` absent fields stay absent, and
// the input variants make every field optional. Two differences from those types are patched here: an expanded
// google.protobuf.Any is `{'@type', ...fields}` rather than `{type_url, value}`, and TcpProxy is not shipped.

/** A google.protobuf.Any as protobufjs expands it under `json: true`; narrow it with a type guard on `@type`. */
export interface ExpandedAny {
  '@type': string;
  [field: string]: unknown;
}
/** An Any protobufjs could not expand (Istio-private types), left as proto-loader gives it. */
export interface OpaqueAny {
  type_url?: string;
  value?: Uint8Array | string;
}
export type DecodedAny = ExpandedAny | OpaqueAny;

type WithTypedConfig<T> = Omit<T, 'typed_config'> & { typed_config?: DecodedAny | null };
export type XdsFilter = WithTypedConfig<EnvoyFilter>;
export type XdsListenerFilter = WithTypedConfig<EnvoyListenerFilter>;
export type XdsFilterChain = Omit<EnvoyFilterChain, 'filters'> & {
  filters?: XdsFilter[];
};
export type XdsListener = Omit<EnvoyListener, 'filter_chains' | 'default_filter_chain' | 'listener_filters'> & {
  filter_chains?: XdsFilterChain[];
  default_filter_chain?: XdsFilterChain | null;
  listener_filters?: XdsListenerFilter[];
};
export type XdsRouteConfiguration = EnvoyRouteConfiguration;
export type XdsCluster = EnvoyCluster;
export type HttpConnectionManager = EnvoyHttpConnectionManager;
/** The fields of envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy the evaluator reads (tcp_proxy.proto; not in grpc-js-xds). */
export interface TcpProxy {
  stat_prefix?: string;
  cluster?: string;
  weighted_clusters?: { clusters?: Array<{ name?: string; weight?: number }> } | null;
  cluster_specifier?: 'cluster' | 'weighted_clusters' | 'on_demand';
}

/** The message name of a type URL: what follows the last `/` (any host prefix is allowed, as in protobuf). */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
export function isExpandedAny(a: DecodedAny | null | undefined): a is ExpandedAny {
  return !!a && typeof (a as ExpandedAny)['@type'] === 'string';
}
export function isHcm(a: DecodedAny | null | undefined): a is ExpandedAny & HttpConnectionManager {
  return isExpandedAny(a) && typeNameOf(a['@type']) === 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
}
export function isTcpProxy(a: DecodedAny | null | undefined): a is ExpandedAny & TcpProxy {
  return isExpandedAny(a) && typeNameOf(a['@type']) === 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
}

/** A DiscoveryResponse as decoded: its resources are expanded Anys (or opaque ones, e.g. NDS). */
type DiscoveryResponse = Omit<EnvoyDiscoveryResponse, 'resources'> & { resources?: DecodedAny[] };
type AdsStream = grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;

export interface XdsSnapshot {
  clusters: XdsCluster[];
  listeners: XdsListener[];
  routes: XdsRouteConfiguration[];
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
  /** `router` for a gateway (pilot-agent's `proxy router`); a sidecar otherwise. */
  nodeType?: 'sidecar' | 'router';
}

/** Node id `TYPE~IP~POD.NS~NS.svc.cluster.local` (pilot/pkg/model/context.go ParseServiceNodeWithMetadata). */
export function nodeId(id: SidecarIdentity): string {
  return `${id.nodeType ?? 'sidecar'}~${id.ip}~${id.podName}.${id.namespace}~${id.namespace}.svc.cluster.local`;
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
    istio: {
      nested: {
        networking: {
          nested: {
            nds: {
              nested: {
                v1: {
                  nested: {
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
                  },
                },
              },
            },
          },
        },
      },
    },
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
  const Ads = def['envoy.service.discovery.v3.AggregatedDiscoveryService'];
  // Message and enum definitions carry `format`; a service definition is a plain map of methods.
  if (!Ads || 'format' in Ads) throw new AdsError('the grpc-js-xds protos define no envoy.service.discovery.v3.AggregatedDiscoveryService');
  // What grpc.loadPackageDefinition would do for this one service.
  const AdsClientCtor = grpc.makeClientConstructor(Ads, 'AggregatedDiscoveryService');
  // NDS is decoded separately: it is not in the Envoy root, and a separate tiny root keeps that root untouched.
  const ndsDef = protoLoader.fromJSON(NDS_JSON, LOADER_OPTS);
  const nameTableType = ndsDef['istio.networking.nds.v1.NameTable'] as protoLoader.MessageTypeDefinition<object, object>;
  const decodeNameTable = (buf: Uint8Array) => {
    const decoded = nameTableType.deserialize(Buffer.from(buf)) as { table?: XdsSnapshot['nameTable'] };
    return decoded.table ?? {};
  };
  loaded = { Ads: AdsClientCtor, decodeNameTable };
  return loaded;
}

export class AdsError extends Error {}

interface Pending {
  typeUrl: string;
  resolve: (r: DiscoveryResponse) => void;
  reject: (e: Error) => void;
}

/**
 * One ADS stream. `fetch()` walks CDS → LDS → RDS like Envoy does and ACKs each response with its
 * version_info and response_nonce, so istiod treats us as an up-to-date proxy.
 */
export class AdsClient {
  private readonly client: InstanceType<grpc.ServiceClientConstructor>;
  private call?: AdsStream;
  private readonly waiting: Pending[] = [];
  private readonly latest = new Map<string, DiscoveryResponse>();
  private closed = false;
  private streamError?: Error;
  private sentNode = false;

  constructor(
    readonly address: string,
    readonly identity: SidecarIdentity,
  ) {
    const { Ads } = loadAdsProtos();
    this.client = new Ads(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  private ensureStream(): AdsStream {
    if (this.call) return this.call;
    if (this.closed) throw new AdsError('ADS client is closed');
    // makeClientConstructor adds one method per RPC, named after it; grpc-js types them only as Function.
    const open = this.client.StreamAggregatedResources;
    if (typeof open !== 'function') throw new AdsError('the ADS client has no StreamAggregatedResources method');
    const call = open.call(this.client) as AdsStream;
    call.on('data', (resp: DiscoveryResponse) => this.onResponse(resp));
    call.on('error', (err: Error) => this.fail(err));
    call.on('end', () => this.fail(new AdsError('istiod closed the ADS stream')));
    this.call = call;
    return call;
  }

  private fail(err: Error): void {
    if (this.closed && (err as Partial<grpc.ServiceError>).code === grpc.status.CANCELLED) return;
    this.streamError ??= err;
    for (const p of this.waiting.splice(0)) p.reject(err);
  }

  private send(typeUrl: string, names: string[], ack?: { version: string; nonce: string }): void {
    const req: DiscoveryRequest = {
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

  private onResponse(resp: DiscoveryResponse): void {
    const typeUrl = resp.type_url ?? '';
    // ACK every response (also unsolicited pushes), keeping the names we subscribed to.
    const names = typeUrl === TYPE.route ? this.routeNames : [];
    this.send(typeUrl, names, { version: resp.version_info ?? '', nonce: resp.nonce ?? '' });
    this.latest.set(typeUrl, resp);
    const i = this.waiting.findIndex((p) => p.typeUrl === typeUrl);
    const [p] = i >= 0 ? this.waiting.splice(i, 1) : [];
    p?.resolve(resp);
  }

  private routeNames: string[] = [];

  private request(typeUrl: string, names: string[], timeoutMs: number): Promise<DiscoveryResponse> {
    if (this.streamError) return Promise.reject(this.streamError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(p);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new AdsError(`no ${typeUrl.split('.').pop()} response from istiod at ${this.address} within ${timeoutMs} ms`));
      }, timeoutMs);
      const p: Pending = {
        typeUrl,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
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
    const clusters = decodeResources(cds, TYPE.cluster);
    const listeners = decodeResources(lds, TYPE.listener);
    this.routeNames = [...new Set(listeners.flatMap(routeNamesOf))].sort();
    let routes: XdsRouteConfiguration[] = [];
    const versions: Record<string, string> = { cds: cds.version_info ?? '', lds: lds.version_info ?? '' };
    if (this.routeNames.length > 0) {
      const rds = await this.request(TYPE.route, this.routeNames, timeoutMs);
      routes = decodeResources(rds, TYPE.route);
      versions.rds = rds.version_info ?? '';
    }
    const snap: XdsSnapshot = { clusters, listeners, routes, versions };
    if (opts.nameTable) {
      const nds = await this.request(TYPE.nameTable, [], timeoutMs);
      const { decodeNameTable } = loadAdsProtos();
      const table: NonNullable<XdsSnapshot['nameTable']> = {};
      for (const r of nds.resources ?? []) {
        // NameTable is not in the Envoy root, so protobufjs leaves it as raw bytes for decodeNameTable.
        if (isExpandedAny(r) || typeof r.value === 'string')
          throw new AdsError(`istiod sent an NDS resource that is not raw NameTable bytes`);
        Object.assign(table, decodeNameTable(r.value ?? Buffer.alloc(0)));
      }
      snap.nameTable = table;
      versions.nds = nds.version_info ?? '';
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
export async function fetchSnapshot(
  address: string,
  identity: SidecarIdentity,
  opts: { timeoutMs?: number; nameTable?: boolean } = {},
): Promise<XdsSnapshot> {
  const c = new AdsClient(address, identity);
  try {
    return await c.fetch(opts);
  } finally {
    c.close();
  }
}

const RESOURCE_WRAPPER = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

interface ResourceByType {
  [TYPE.cluster]: XdsCluster;
  [TYPE.listener]: XdsListener;
  [TYPE.route]: XdsRouteConfiguration;
}

/**
 * The resources of one response, checked to be of the type asked for. This is the one place where decoded
 * JSON becomes a typed Envoy object: protobufjs decoded it against that very message type, which is what
 * makes the cast sound once `@type` is checked.
 */
function decodeResources<U extends keyof ResourceByType>(resp: DiscoveryResponse, typeUrl: U): Array<ResourceByType[U]> {
  return (resp.resources ?? []).map((r) => {
    // Istio may wrap resources in envoy.service.discovery.v3.Resource; unwrap to the payload.
    const inner =
      isExpandedAny(r) && r['@type'] === RESOURCE_WRAPPER && isExpandedAny(r.resource as DecodedAny) ? (r.resource as ExpandedAny) : r;
    if (!isExpandedAny(inner) || inner['@type'] !== typeUrl) {
      const got = isExpandedAny(inner) ? inner['@type'] : inner.type_url;
      throw new AdsError(`istiod sent a ${got ?? 'resource without a type'} in a ${typeUrl} response`);
    }
    return inner as unknown as ResourceByType[U];
  });
}

/** Route config names referenced by HCM filters (rds.route_config_name) anywhere in a listener. */
export function routeNamesOf(listener: XdsListener): string[] {
  const names: string[] = [];
  for (const chain of [...(listener.filter_chains ?? []), ...(listener.default_filter_chain ? [listener.default_filter_chain] : [])]) {
    for (const f of chain.filters ?? []) {
      const tc = f.typed_config;
      if (isHcm(tc) && tc.rds?.route_config_name) names.push(tc.rds.route_config_name);
    }
  }
  return names;
}
