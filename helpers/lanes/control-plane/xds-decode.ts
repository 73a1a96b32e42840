// Turning istiod's DiscoveryResponses into typed resources.
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
import type { DiscoveryResponse as EnvoyDiscoveryResponse } from '@grpc/grpc-js-xds/build/src/generated/envoy/service/discovery/v3/DiscoveryResponse.js';
import {
  type DecodedAny,
  type ExpandedAny,
  isExpandedAny,
  TYPE,
  type XdsCluster,
  type XdsListener,
  type XdsRouteConfiguration,
  type XdsSnapshot,
} from './xds-types.ts';

export class AdsError extends Error {}

/** A DiscoveryResponse as decoded: its resources are expanded Anys (or opaque ones, e.g. NDS). */
export type DiscoveryResponse = Omit<EnvoyDiscoveryResponse, 'resources'> & { resources?: DecodedAny[] };

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

/**
 * Parses the protos now, ahead of the first ADS call (~0.4 s of CPU): the stack does it while its cluster's
 * processes start. A failure here is left to that first call, which reports it.
 */
export function preloadAdsProtos(): void {
  try {
    loadAdsProtos();
  } catch {
    // reported by the call that needs them
  }
}

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
export function decodeResources<U extends keyof ResourceByType>(resp: DiscoveryResponse, typeUrl: U): Array<ResourceByType[U]> {
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

/** The name table of an NDS response: every NameTable it carries, merged. */
export function decodeNameTables(nds: DiscoveryResponse): NonNullable<XdsSnapshot['nameTable']> {
  const { decodeNameTable } = loadAdsProtos();
  const table: NonNullable<XdsSnapshot['nameTable']> = {};
  for (const r of nds.resources ?? []) {
    // NameTable is not in the Envoy root, so protobufjs leaves it as raw bytes for decodeNameTable.
    if (isExpandedAny(r) || typeof r.value === 'string') throw new AdsError(`istiod sent an NDS resource that is not raw NameTable bytes`);
    Object.assign(table, decodeNameTable(r.value ?? Buffer.alloc(0)));
  }
  return table;
}
