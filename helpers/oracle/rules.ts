// The oracle's rules, each with a stable id: every answer records the rules it went through (`rules`) and the
// one that decided it (`rule`), so a run can count which rules its probes exercised and a test can fail when a
// rule is decided by no recorded istiod answer. Ids are stable: fuzz reports and the corpus keep them.
import type { Expectation } from '../model/types.ts';

export const RULES = {
  // Where the call lands (the deciding rule of an answer is one of these).
  'capture-port.loop': 'a call to the capture port 15001 is blackholed under any policy (listener_builder.go blackholeFilterChain)',
  'listener.none': 'no outbound listener for the port: virtualOutbound sends it by policy (listener_builder.go)',
  'listener.default-chain': 'a listener with no chain for the traffic: its default chain, by policy (listener.go, tls.go)',
  'se.address-listener': "an entry's IP address binds <ip>_<port>, every connection to it goes to the entry (listener.go)",
  'se.auto-address-listener': 'an auto-allocated address binds <ip>_<port> for a DNS-capturing sidecar (model/service.go)',
  'se.cidr-chain': "a destination inside an entry's CIDR takes the chain of the longest prefix (FilterChainMatch prefix_ranges)",
  'se.cidr-sni-chain': "TLS to a destination inside a TLS entry's CIDR takes the chain with its SNI",
  'se.cidr-tls-only': "a destination inside a CIDR whose chains take only TLS with other SNIs: the listener's default chain",
  'se.http-route': 'plain HTTP takes the virtual host of its Host on the port route (httproute.go, Envoy domains)',
  'se.http-route-address': "plain HTTP to an entry's address takes that entry's virtual host (generateVirtualHostDomains)",
  'se.http-no-virtual-host': "plain HTTP with no virtual host for its Host: the route's catch-all, by policy (httproute.go)",
  'se.sniffed-route-no-virtual-host':
    "plain HTTP on an address listener's HTTP chain whose route `<host>:<port>` has no virtual host: the port's egress listener does not import the service, Envoy answers 404 (httproute.go getVirtualHostsForSniffedServicePort)",
  'se.sni-chain': 'TLS takes the SNI chain of its server name, exact before the longest wildcard (tls.go)',
  'se.tcp-port-capture': "traffic with no better chain takes the port's match-all TCP chain (listener.go)",
  'se.unmerged-no-cluster':
    "a later entry of the same host and namespace that istiod cannot merge is dropped: its ports' clusters are not built (sidecar.go canMergeServices)",
  'se.dns-cluster-not-built': 'a DNS entry with a workloadSelector and no endpoints has no cluster: the call fails (cluster_builder.go)',
  'mesh.allow-any': 'mesh outboundTrafficPolicy ALLOW_ANY: PassthroughCluster (mesh.go default)',
  'mesh.registry-only': 'mesh outboundTrafficPolicy REGISTRY_ONLY: BlackHoleCluster, the connection is closed',
  'mesh.registry-only-http': 'mesh REGISTRY_ONLY on an HTTP route: the catch-all virtual host answers 502',
  'mesh.allow-any-dynamic-dns':
    'mesh ALLOW_ANY_DYNAMIC_DNS: plain HTTP to an unknown host goes to AllowAnyDynamicDNSCluster (httproute.go buildCatchAllVirtualHost)',
  'mesh.dynamic-dns-passthrough': 'mesh ALLOW_ANY_DYNAMIC_DNS, anything but plain HTTP: PassthroughCluster (listener_builder.go)',
  'sidecar.allow-any': "a Sidecar's outboundTrafficPolicy ALLOW_ANY: PassthroughCluster (sidecar.go ConvertToSidecarScope)",
  'sidecar.registry-only': "a Sidecar's outboundTrafficPolicy REGISTRY_ONLY: BlackHoleCluster",
  'sidecar.registry-only-http': "a Sidecar's REGISTRY_ONLY on an HTTP route: 502",
  'sidecar.egress-proxy': "a Sidecar's egressProxy takes unknown traffic (route.GetDestinationCluster)",
  'sidecar.egress-proxy-missing': "a Sidecar's egressProxy names a cluster the workload does not have: the call fails",
  // Rules on the way (recorded in `rules` when they shaped the answer).
  'sidecar.selector': 'a Sidecar whose workloadSelector matches the workload applies (push_context.go getSidecarScope)',
  'sidecar.namespace': "the namespace's selector-less Sidecar applies",
  'sidecar.root-namespace': "the root namespace's selector-less Sidecar applies",
  'export.hidden': 'exportTo hides a relevant entry from the namespace (push_context.go initServiceRegistry)',
  'export.service-entry-visibility':
    'meshConfig.serviceEntryVisibility (applyToSidecars) narrows exportTo: NAMESPACE to its own namespace, NONE nowhere (push_context.go serviceExportTo)',
  'export.default-export-to': 'an entry without exportTo takes meshConfig.defaultServiceExportTo',
  'import.not-imported': "a relevant entry is not among the Sidecar's egress hosts (sidecar.go)",
  'import.excluded': 'a "~ns/host" egress host excludes a relevant entry (sidecar.go, from 1.31)',
  'import.port-listener': 'a Sidecar egress listener with a port decides what that port imports',
  'hosts.one-per-name':
    "a host declared in several namespaces: the workload keeps one namespace's entry (sidecar.go appendSidecarServices)",
  'dns.capture-address': "a DNS-capturing sidecar answers a host name with its entry's address",
  'se.auto-allocate-opt-out': 'the enable-autoallocate-ip "false" label keeps an entry off auto-allocation (ip_autoallocation.go)',
  'listener.tcp-conflict': "a later entry loses the port's match-all TCP chain to an earlier one (listener.go)",
  'listener.well-known-conflict': 'a server-first protocol never shares its port (listener.go isConflictWithWellKnownPort)',
  'listener.sniffed-after-http': 'an unset-protocol entry after an HTTP one on the port loses its TCP chain (listener.go)',
  'listener.sniffed-over-tcp':
    'an unset-protocol entry after a TCP one on an address listener adds its HTTP chain there: plain HTTP takes it (listener.go mergeTCPFilterChains)',
  'listener.unspecified-cidr':
    'a CIDR on 0.0.0.0 (0.0.0.0/0) gets a chain without its prefix range: it takes every destination and conflicts with a match-all chain (listener.go toFilterChainMatch, filterChainMatchEqual)',
  'listener.sniffed-over-http-proxy':
    'an unset-protocol entry after an HTTP_PROXY one on the port replaces its listener entry (conflict AutoOverHTTP): its match-all TCP chain takes non-HTTP traffic (listener.go buildSidecarOutboundListener)',
  'listener.instances-only': 'a non-HTTP port of a NONE entry selecting workloads binds per workload, not the wildcard (listener.go)',
  'listener.sidecar-port-protocol': "a Sidecar egress port's protocol builds the listener (listener.go buildSidecarOutboundListeners)",
} as const;

export type RuleId = keyof typeof RULES;
export const RULE_IDS = Object.keys(RULES) as RuleId[];

/** The oracle's answer: an Expectation plus the rules that made it. */
export interface OracleAnswer extends Expectation {
  /** The rule that decided the answer. */
  rule: RuleId;
  /** Every rule the answer went through, in order, the deciding one last. */
  rules: RuleId[];
}

/** Rule id → how many answers went through it; every rule is present, unhit ones at 0. */
export function countRuleHits(answers: Iterable<Pick<OracleAnswer, 'rules'>>): Map<RuleId, number> {
  const counts = new Map<RuleId, number>(RULE_IDS.map((id) => [id, 0]));
  for (const a of answers) for (const id of new Set(a.rules)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** One line per rule, `  se.tcp-port-capture  12`, for `fuzz` and `corpus` to print; unhit rules say so. */
export function formatRuleHits(counts: Map<RuleId, number>): string[] {
  const width = Math.max(...RULE_IDS.map((id) => id.length));
  return RULE_IDS.map((id) => {
    const n = counts.get(id) ?? 0;
    return `  ${id.padEnd(width)}  ${n === 0 ? '0 (not exercised)' : n}`;
  });
}
