// The xDS resources as the ADS client hands them out, and the guards that read their google.protobuf.Any.
//
// The decoded shapes are the Envoy types @grpc/grpc-js-xds generated with keepCase (snake_case, like what we
// decode). Its *input* variants are used, not `__Output`: with `defaults: false` absent fields stay absent, and
// the input variants make every field optional. Two differences from those types are patched here: an expanded
// google.protobuf.Any is `{'@type', ...fields}` rather than `{type_url, value}`, and TcpProxy is not shipped.
import type { Filter as EnvoyFilter } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/Filter.js';
import type { ListenerFilter as EnvoyListenerFilter } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/ListenerFilter.js';
import type { FilterChain as EnvoyFilterChain } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/FilterChain.js';
import type { Listener as EnvoyListener } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/Listener.js';
import type { RouteConfiguration as EnvoyRouteConfiguration } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/route/v3/RouteConfiguration.js';
import type { Cluster as EnvoyCluster } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/cluster/v3/Cluster.js';
import type { HttpConnectionManager as EnvoyHttpConnectionManager } from '@grpc/grpc-js-xds/build/src/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager.js';

export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  /** Istio's DNS name table (pilot/pkg/xds/nds.go), sent to proxies with DNS capture. */
  nameTable: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
} as const;

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

/** The three kinds of resource an evaluation reads. */
export interface ConfigSnapshot {
  listeners: XdsListener[];
  routes: XdsRouteConfiguration[];
  clusters: XdsCluster[];
}

export interface XdsSnapshot {
  clusters: XdsCluster[];
  listeners: XdsListener[];
  routes: XdsRouteConfiguration[];
  /** Hostname → addresses from NDS, present when the proxy asked for DNS capture. */
  nameTable?: Record<string, { ips: string[]; registry?: string; namespace?: string }>;
  /** version_info per type, as istiod sent it (istiod uses the push version). */
  versions: Record<string, string>;
}
