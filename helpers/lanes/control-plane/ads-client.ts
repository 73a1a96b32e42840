// A small state-of-the-world ADS client that connects to istiod as a sidecar and fetches what Envoy would get.
import * as grpc from '@grpc/grpc-js';
import type { DiscoveryRequest } from '@grpc/grpc-js-xds/build/src/generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import { nodeOf, type SidecarIdentity } from './proxy-node.ts';
import { AdsError, type DiscoveryResponse, decodeNameTables, decodeResources, loadAdsProtos } from './xds-decode.ts';
import { isHcm, TYPE, type XdsListener, type XdsRouteConfiguration, type XdsSnapshot } from './xds-types.ts';

type AdsStream = grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;

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

  /** Whether close() closes the channel too (one made for this stream alone). */
  private readonly ownsChannel: boolean;

  constructor(
    readonly address: string,
    readonly identity: SidecarIdentity,
    /** A channel to istiod shared with other streams (AdsChannel); without it, one of its own. */
    shared?: AdsChannel,
  ) {
    this.client = shared?.client ?? newAdsClient(address);
    this.ownsChannel = !shared;
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
      req.node = nodeOf(this.identity);
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
    // CDS, LDS (and NDS) are asked for at once: istiod answers each from the same push context, and only
    // RDS depends on an answer (the route names in the listeners).
    const cdsP = this.request(TYPE.cluster, [], timeoutMs);
    const ldsP = this.request(TYPE.listener, [], timeoutMs);
    const ndsP = opts.nameTable ? this.request(TYPE.nameTable, [], timeoutMs) : undefined;
    const [cds, lds] = await Promise.all([cdsP, ldsP]);
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
    if (ndsP) {
      const nds = await ndsP;
      snap.nameTable = decodeNameTables(nds);
      versions.nds = nds.version_info ?? '';
    }
    return snap;
  }

  /** CDS alone: what a check that reads one cluster needs (the generation marker), without LDS and RDS. */
  async clusters(opts: { timeoutMs?: number } = {}): Promise<XdsSnapshot['clusters']> {
    return decodeResources(await this.request(TYPE.cluster, [], opts.timeoutMs ?? 10_000), TYPE.cluster);
  }

  close(): void {
    this.closed = true;
    try {
      this.call?.cancel();
    } catch {
      /* already gone */
    }
    if (this.ownsChannel) this.client.close();
  }
}

function newAdsClient(address: string): InstanceType<grpc.ServiceClientConstructor> {
  const { Ads } = loadAdsProtos();
  return new Ads(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
}

/**
 * One HTTP/2 connection to istiod for many one-shot fetches: each fetch is still a new ADS stream (so it
 * sees istiod's current push context), without a TCP connection and handshake of its own.
 */
export class AdsChannel {
  private made?: InstanceType<grpc.ServiceClientConstructor>;

  constructor(readonly address: string) {}

  get client(): InstanceType<grpc.ServiceClientConstructor> {
    this.made ??= newAdsClient(this.address);
    return this.made;
  }

  close(): void {
    this.made?.close();
    this.made = undefined;
  }
}

/** One-shot: connect, fetch, close. A fresh stream always gets istiod's current push context. */
export async function fetchSnapshot(
  address: string,
  identity: SidecarIdentity,
  opts: { timeoutMs?: number; nameTable?: boolean; channel?: AdsChannel } = {},
): Promise<XdsSnapshot> {
  const c = new AdsClient(address, identity, opts.channel);
  try {
    return await c.fetch(opts);
  } finally {
    c.close();
  }
}

/** One-shot CDS: connect, fetch the clusters, close. A fresh stream gets istiod's current push context. */
export async function fetchClusters(
  address: string,
  identity: SidecarIdentity,
  opts: { timeoutMs?: number; channel?: AdsChannel } = {},
): Promise<XdsSnapshot['clusters']> {
  const c = new AdsClient(address, identity, opts.channel);
  try {
    return await c.clusters(opts);
  } finally {
    c.close();
  }
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
