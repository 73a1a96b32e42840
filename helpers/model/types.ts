// Shared vocabulary of the suite: resources as the oracle and lanes see them, probes, verdicts.
// Everything here is plain data so it can be written to JSON reports and compared across lanes.

export type Verdict = 'allowed' | 'blocked';
export type PolicyMode = 'ALLOW_ANY' | 'REGISTRY_ONLY' | 'ALLOW_ANY_DYNAMIC_DNS';
/** Every mesh mode a catalogue file, `--policy` and the lanes can name (MeshConfig's OutboundTrafficPolicy.Mode). */
export const POLICY_MODES: readonly PolicyMode[] = ['ALLOW_ANY', 'REGISTRY_ONLY', 'ALLOW_ANY_DYNAMIC_DNS'];
/**
 * The policies a case file runs under when it lists none. ALLOW_ANY_DYNAMIC_DNS is opt-in (`policies:`): it
 * differs from ALLOW_ANY only for plain HTTP to unknown hosts, and a third install per scenario would cost
 * every lane a third of its run for cases that do not look at that difference.
 */
export const DEFAULT_POLICIES: readonly PolicyMode[] = ['ALLOW_ANY', 'REGISTRY_ONLY'];
/** How an error names the valid policies. */
export const POLICY_LIST = 'ALLOW_ANY, REGISTRY_ONLY or ALLOW_ANY_DYNAMIC_DNS';

/** Where a resource came from, so every error can name the file and document. */
export interface SourceRef {
  file: string;
  /** 1-based document number inside a multi-document YAML file. */
  doc: number;
  /** 1-based position inside that document's List (`kubectl get -o yaml` output), when it is one. */
  item?: number;
}

export type PortProtocol =
  | 'HTTP'
  | 'HTTP_PROXY'
  | 'HTTP2'
  | 'GRPC'
  | 'GRPC-WEB'
  | 'HTTPS'
  | 'TLS'
  | 'TCP'
  | 'MONGO'
  | 'REDIS'
  | 'MYSQL'
  | 'UDP'
  | '';
export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'DYNAMIC_DNS';
export type Location = 'MESH_EXTERNAL' | 'MESH_INTERNAL';

export interface SePort {
  number: number;
  name: string;
  /** Upper-cased; '' when unset (Istio then sniffs the protocol). */
  protocol: PortProtocol;
  targetPort?: number;
}

export interface SeEndpoint {
  address: string;
  ports?: Record<string, number>;
}

export interface ServiceEntry {
  kind: 'ServiceEntry';
  name: string;
  namespace: string;
  /** Position among ServiceEntries as loaded; Istio breaks ties on creation time, this stands in for it. */
  order: number;
  hosts: string[];
  addresses: string[];
  ports: SePort[];
  location: Location;
  resolution: Resolution;
  endpoints: SeEndpoint[];
  /** Exactly as written; [] when absent. */
  exportTo: string[];
  workloadSelector?: Record<string, string>;
  /**
   * Set for a Kubernetes Service the install creates, which sidecars see like a ServiceEntry but which
   * meshConfig.serviceEntryVisibility does not cap (it governs ServiceEntry resources only).
   */
  kubernetesService?: true;
  source: SourceRef;
  /** The object as written, for lanes that apply it to a real API server or config dir. */
  manifest: Record<string, unknown>;
}

export interface SidecarEgress {
  port?: { number: number; protocol?: string; name?: string };
  bind?: string;
  captureMode?: string;
  hosts: string[];
}

export interface Sidecar {
  kind: 'Sidecar';
  name: string;
  namespace: string;
  order: number;
  workloadSelector?: Record<string, string>;
  egress: SidecarEgress[];
  /** undefined: no outboundTrafficPolicy field; otherwise its mode, REGISTRY_ONLY when mode is absent. */
  outboundTrafficPolicy?: PolicyMode;
  /** outboundTrafficPolicy.egressProxy (ALLOW_ANY only): where unknown traffic goes instead of PassthroughCluster. */
  egressProxy?: { host: string; port: number; subset?: string };
  source: SourceRef;
  manifest: Record<string, unknown>;
}

export interface MeshSettings {
  /** undefined when the install does not set it (Istio's default applies). */
  outboundTrafficPolicy?: PolicyMode;
  /** undefined when unset; Istio's default is ['*']. */
  defaultServiceExportTo?: string[];
  rootNamespace?: string;
  /** ISTIO_META_DNS_CAPTURE in defaultConfig.proxyMetadata. */
  dnsCapture?: boolean;
  source?: SourceRef;
  /** spec.meshConfig of the IstioOperator as written ({} when none), for lanes that install it. */
  meshConfig: Record<string, unknown>;
}

/**
 * A Gateway, VirtualService or DestinationRule (networking.istio.io) as admitted: the oracle reads `spec`,
 * lanes apply `manifest`. Kept generic on purpose: which fields the model understands is the oracle's
 * business (helpers/oracle/gateway.ts, routing.ts), and what it does not is said as `not modelled: FIELD`.
 */
export interface IstioConfig {
  kind: 'Gateway' | 'VirtualService' | 'DestinationRule';
  name: string;
  namespace: string;
  order: number;
  spec: Record<string, unknown>;
  source: SourceRef;
  manifest: Record<string, unknown>;
}

export interface ResourceSet {
  mesh: MeshSettings;
  serviceEntries: ServiceEntry[];
  sidecars: Sidecar[];
  /** Gateways, VirtualServices and DestinationRules; absent or [] when the input has none. */
  routing?: IstioConfig[];
}

export type Scheme = 'http' | 'https' | 'tcp';

export interface ProbeTarget {
  scheme: Scheme;
  host: string;
  port: number;
  path: string;
  /** True when host is an IPv4/IPv6 literal, matched against ServiceEntry addresses. */
  isIp: boolean;
  /**
   * The URL wrote the name with a trailing dot (`http://api.example.com./`), an absolute DNS name; `host` is kept
   * without it. curl sends the dot in the Host header only: name resolution and SNI use the name without it.
   */
  absolute?: true;
  raw: string;
}

/** The workload a probe is sent from: a namespace, optionally with pod labels (for Sidecar workloadSelector). */
export interface ProbeSource {
  namespace: string;
  labels?: Record<string, string>;
}

export interface Probe {
  from: ProbeSource;
  to: ProbeTarget;
}

/**
 * How a blocked call shows itself: the sidecar's 502 direct response (BlackHoleCluster on an HTTP route), a
 * closed connection, Envoy's 503 for a route whose cluster the proxy does not have (RouteAction
 * cluster_not_found_response_code, 503 by default; response flag NC), a 404 for a request no route takes
 * (flag NR), or `http-local`: a route that answers the request itself, a VirtualService `directResponse` or
 * `redirect` (cluster `(direct response)` or `(redirect)`): the client gets a status, nothing leaves the proxy.
 */
export type BlockSignal = 'http-502' | 'http-503' | 'http-404' | 'http-local' | 'tcp-close';

export interface Expectation {
  verdict: Verdict;
  /** `outbound|PORT||HOST`, `PassthroughCluster` or `BlackHoleCluster` (also for the 502 direct response). */
  cluster: string;
  reason: string;
  /** The listener the call is expected to hit: `0.0.0.0_5432`, `240.240.0.1_5432`, `virtualOutbound`. */
  listener: string;
  /** Set for blocked verdicts. */
  signal?: BlockSignal;
  /** The effective outbound policy for the source workload. */
  policy: PolicyMode;
  /** The path hop by hop when the model follows the call past the sidecar (a gateway, TLS origination). */
  hops?: Hop[];
  /** Fields the model does not understand that may change the answer: istiod's answer stands for them. */
  notModelled?: string[];
}

/** How a proxy sends a call on: TLS it originates towards the upstream (a DestinationRule `tls` mode), else none. */
export interface HopTls {
  /** SIMPLE / MUTUAL: TLS to an external server; ISTIO_MUTUAL: Istio mTLS (e.g. sidecar → egress gateway). */
  mode: 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  /** The SNI the proxy sends, when it sets one. */
  sni?: string;
}

/**
 * One proxy on a call's path and what it did: the source sidecar first, then each gateway the call is
 * sent through. Printed as `PROXY CLUSTER [tls:MODE[:SNI]]` (helpers/model/hops.ts).
 */
export interface Hop {
  /** `sidecar` is the probe's source; `gateway` a proxy of node type `router` (an egress gateway). */
  kind: 'sidecar' | 'gateway';
  /** The workload: `frontend/egress-client`, `istio-system/istio-egressgateway` (namespace/app label). */
  proxy: string;
  /** The Envoy cluster this proxy chose (`outbound|PORT|SUBSET|HOST`, PassthroughCluster, BlackHoleCluster). */
  cluster: string;
  listener?: string;
  /** TLS this proxy originates towards its upstream; absent when it forwards the bytes as they came. */
  tls?: HopTls;
  /** Route facts that change the call without changing its cluster, e.g. `timeout 3s`, `retries 2`. */
  route?: string[];
  /** How the cluster finds its upstream address (Envoy's cluster type), when known. */
  discovery?: ClusterDiscovery;
}

/**
 * Envoy's cluster discovery type as istiod chooses it for a ServiceEntry (pilot/pkg/networking/core/cluster.go
 * convertResolution): resolution NONE is ORIGINAL_DST (the address the client dialled; EDS on a gateway),
 * STATIC is EDS, DNS STRICT_DNS, DNS_ROUND_ROBIN LOGICAL_DNS; a wildcard DYNAMIC_DNS entry's HTTP, TLS, GRPC and
 * HTTP2 ports get a dynamic forward proxy cluster (cluster_type envoy.clusters.dynamic_forward_proxy), which
 * resolves each request's own Host or SNI. BlackHoleCluster is STATIC.
 */
export type ClusterDiscovery = 'ORIGINAL_DST' | 'EDS' | 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'DYNAMIC_FORWARD_PROXY';
export const CLUSTER_DISCOVERY: readonly ClusterDiscovery[] = [
  'ORIGINAL_DST',
  'EDS',
  'STATIC',
  'STRICT_DNS',
  'LOGICAL_DNS',
  'DYNAMIC_FORWARD_PROXY',
];

/** Where TLS to the destination starts: the client itself, the sidecar, the gateway, or nowhere (plain text). */
export type TlsOrigin = 'client' | 'sidecar' | 'gateway' | 'none';

/** What a lane saw for one probe. `error` never counts as allowed or blocked. */
export interface Observation {
  verdict: Verdict | 'error';
  /**
   * The Envoy cluster the call went through, set only when the lane saw it: from xDS (control-plane lane) or
   * from the client sidecar's own access log (kind lane). `judge` compares it with the oracle's.
   */
  cluster?: string;
  /** What the client saw, in words ("HTTP 200 server=nginx", "psql: server closed the connection"); never judged. */
  summary?: string;
  signal?: BlockSignal;
  /** Cause of an error, in words. */
  error?: string;
  /**
   * The path hop by hop, when the lane followed it (hops[0] is the sidecar, its cluster equals `cluster`).
   * Absent on lanes or observations that saw only the first hop.
   */
  hops?: Hop[];
  /** Set when the call leaves directly although a gateway route exists for it: names that gateway. */
  bypassesGateway?: string;
  /** Raw material: exit codes, statuses, headers, listener → chain → route → cluster path, attempts. */
  evidence: Record<string, unknown>;
  /** The xDS the answer was read from, as values (lanes that read xDS fill it; the fuzzer referees with it). */
  xds?: ObservedXds;
}

/** Where a call landed, as the fuzzer's outcome mix counts it (helpers/fuzz/outcome.ts). */
export type OutcomeCategory = 'route' | 'tcp-chain' | 'sni-chain' | 'passthrough' | 'blackhole' | 'no-listener' | 'dfp';

export interface ObservedXds {
  /** The source sidecar's snapshot as received (one object shared by the observations of one source). */
  snapshot: { listeners: unknown[]; clusters: unknown[]; routes: unknown[]; nameTable?: Record<string, { ips?: string[] }> };
  /** The address dialled: the IP literal, or what the sidecar's DNS proxy (NDS) or the stand-in DNS answered. */
  address: string;
  resolvedBy: 'ip-literal' | 'nds' | 'external-dns';
  /** Where the call landed, when the lane classified it. */
  category?: OutcomeCategory;
}
