// The small value pools the generators draw from. Small on purpose: collisions (the same host, port or range
// in two resources) are where Istio's rules interact. Each pool lists its simplest value first, because
// fast-check shrinks constantFrom towards the first value.

/** Client namespaces: the lanes create a client Pod (and its namespace) for any probe source. */
export const NAMESPACES = ['default', 'frontend', 'payments'] as const;
/** A custom root namespace the mesh settings may name. */
export const CUSTOM_ROOT = 'mesh-root';

/** Exact names and wildcards; `*.wild.example.com` sits under `*.example.com` so the longest suffix matters. */
export const EXACT_HOSTS = ['a.example.com', 'b.example.com', 'x.wild.example.com', 'db.example.org', 'api.example.net'] as const;
export const WILDCARD_HOSTS = ['*.example.com', '*.wild.example.com', '*.example.org'] as const;

/** Ports a resource declares; probes also dial their neighbours and a few nobody declares. */
export const PORTS = [80, 443, 5432, 8080, 9000] as const;
export const UNRELATED_PORTS = [81, 3306, 8443, 15001] as const;

/**
 * Every protocol a ServiceEntry port accepts (pkg/config/protocol Parse) and none. HTTP_PROXY is left out:
 * its port gets an HTTP-only listener, where a TLS or raw TCP probe is a codec error no side turns into a
 * verdict (found by fuzzing, seed 11).
 */
export const PROTOCOLS = ['TCP', 'HTTP', 'HTTPS', 'TLS', '', 'HTTP2', 'GRPC', 'GRPC-WEB', 'MONGO', 'REDIS', 'MYSQL', 'UDP'] as const;
/** What DYNAMIC_DNS carries (ValidateServiceEntry, case DYNAMIC_DNS). */
export const DFP_PROTOCOLS = ['HTTP', 'TLS', 'HTTP2', 'GRPC'] as const;
export const RESOLUTIONS = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'] as const;

/** Addresses: single IPs, /32, and CIDRs of several widths that nest and overlap. */
export const ADDRESSES = [
  '192.0.2.10',
  '192.0.2.0/24',
  '192.0.2.0/28',
  '192.0.2.10/32',
  '198.51.100.0/24',
  '198.51.0.0/16',
  '198.51.100.7',
] as const;
export const ENDPOINT_IPS = ['192.0.2.50', '10.1.2.3'] as const;
export const ENDPOINT_NAMES = ['backend.example.com'] as const;

export const EXPORTS: readonly string[][] = [
  [],
  ['*'],
  ['.'],
  ['~'],
  ['default'],
  ['frontend'],
  ['.', 'frontend'],
  ['default', 'payments'],
];
/** Pod labels a probe's source may carry; `app: curl` is what selectors aim at. */
export const POD_LABELS: readonly Record<string, string>[] = [{}, { app: 'curl' }, { app: 'other' }];

// Sidecar egress hosts: every form Istio reads (all, own namespace, a namespace, one host, exact names, ~ exclusions).
export const EGRESS_HOSTS = [
  '*/*',
  './*',
  '~/*',
  'default/*',
  'frontend/*',
  'payments/*',
  'istio-system/*',
  '*/*.example.com',
  '*/a.example.com',
  './a.example.com',
  'frontend/*.wild.example.com',
  '*/x.wild.example.com',
  'default/db.example.org',
  '~default/*',
  '~frontend/a.example.com',
  '~/a.example.com',
] as const;

/** A bind address for a Sidecar egress listener with a port: a declared address, loopback, the wildcard. */
export const BINDS = ['192.0.2.10', '127.0.0.1', '0.0.0.0'] as const;
export const CAPTURE_MODES = ['DEFAULT', 'IPTABLES', 'NONE'] as const;
