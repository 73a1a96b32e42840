// Shared vocabulary of the suite: resources as the oracle and lanes see them, probes, verdicts.
// Everything here is plain data so it can be written to JSON reports and compared across lanes.

export type Verdict = 'allowed' | 'blocked';
export type PolicyMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';
export const POLICY_MODES: readonly PolicyMode[] = ['ALLOW_ANY', 'REGISTRY_ONLY'];

/** Where a resource came from, so every error can name the file and document. */
export interface SourceRef {
  file: string;
  /** 1-based document number inside a multi-document YAML file. */
  doc: number;
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
export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
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

export interface ResourceSet {
  mesh: MeshSettings;
  serviceEntries: ServiceEntry[];
  sidecars: Sidecar[];
}

export type Scheme = 'http' | 'https' | 'tcp';

export interface ProbeTarget {
  scheme: Scheme;
  host: string;
  port: number;
  path: string;
  /** True when host is an IPv4/IPv6 literal, matched against ServiceEntry addresses. */
  isIp: boolean;
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
 * How a blocked call shows itself to the client:
 * - http-502: the HTTP route's catch-all answers 502 with `server: envoy`;
 * - tcp-close: the sidecar accepts then closes (BlackHoleCluster) — curl 52/56, TLS 35, psql "closed".
 */
export type BlockSignal = 'http-502' | 'tcp-close';

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
}

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
  /** Raw material: exit codes, statuses, headers, listener → chain → route → cluster path, attempts. */
  evidence: Record<string, unknown>;
}
