// Which conformance features a case exercises, from its scenario's resources and the model's expected
// path, and the profiles they belong to (the shape Gateway API's conformance reports taught CI owners:
// profiles with core and extended features). Kept as data so a new feature is one row.
import type { Expectation, PolicyMode, ResourceSet } from '../model/types.ts';

export type ProfileName = 'SIDECAR-EGRESS' | 'EGRESS-GATEWAY' | 'TLS-ORIGINATION';

export interface Feature {
  name: string;
  profile: ProfileName;
  level: 'core' | 'extended';
  /** What passing it claims, for the report's reader. */
  claim: string;
  applies: (c: FeatureInput) => boolean;
}

export interface FeatureInput {
  policy: PolicyMode;
  resources: ResourceSet;
  expected: Expectation;
}

const kinds = (r: ResourceSet, kind: string) => (r.routing ?? []).filter((x) => x.kind === kind);
const gatewayHop = (e: Expectation) => (e.hops ?? []).find((h) => h.kind === 'gateway');
const originates = (mode: string | undefined) => mode === 'SIMPLE' || mode === 'MUTUAL';
/** A Gateway server in PASSTHROUGH mode: the gateway forwards TLS it does not terminate. */
const passthrough = (r: ResourceSet) =>
  kinds(r, 'Gateway').some((g) => ((g.spec.servers ?? []) as { tls?: { mode?: string } }[]).some((s) => s.tls?.mode === 'PASSTHROUGH'));

export const FEATURES: readonly Feature[] = [
  {
    name: 'OutboundTrafficPolicyAllowAny',
    profile: 'SIDECAR-EGRESS',
    level: 'core',
    claim: 'under ALLOW_ANY, unknown destinations pass through and declared ones take their own cluster',
    applies: (c) => c.policy === 'ALLOW_ANY',
  },
  {
    name: 'OutboundTrafficPolicyRegistryOnly',
    profile: 'SIDECAR-EGRESS',
    level: 'core',
    claim: 'under REGISTRY_ONLY, only destinations in the registry get out; the rest are blocked',
    applies: (c) => c.policy === 'REGISTRY_ONLY',
  },
  {
    name: 'ServiceEntryExternalHost',
    profile: 'SIDECAR-EGRESS',
    level: 'core',
    claim: 'a ServiceEntry makes an external host reachable through its own outbound cluster',
    applies: (c) => c.resources.serviceEntries.length > 0 && c.expected.cluster.startsWith('outbound|'),
  },
  {
    name: 'SidecarEgressScope',
    profile: 'SIDECAR-EGRESS',
    level: 'extended',
    claim: "a Sidecar's egress hosts and outboundTrafficPolicy narrow what its workloads reach",
    applies: (c) => c.resources.sidecars.length > 0,
  },
  {
    name: 'ServiceEntryExportTo',
    profile: 'SIDECAR-EGRESS',
    level: 'extended',
    claim: "exportTo (and the mesh's defaultServiceExportTo) decide which namespaces see a ServiceEntry",
    applies: (c) => c.resources.serviceEntries.some((s) => s.exportTo.length > 0) || !!c.resources.mesh.defaultServiceExportTo,
  },
  {
    name: 'VirtualServiceExternalRouting',
    profile: 'SIDECAR-EGRESS',
    level: 'extended',
    claim: 'a VirtualService for an external host routes its calls at the sidecar',
    applies: (c) => kinds(c.resources, 'VirtualService').length > 0 && kinds(c.resources, 'Gateway').length === 0,
  },
  {
    name: 'EgressGatewayRouting',
    profile: 'EGRESS-GATEWAY',
    level: 'core',
    claim: 'calls to an external host are sent through the egress gateway, which sends them on',
    applies: (c) => !!gatewayHop(c.expected),
  },
  {
    name: 'EgressGatewayMutualTLS',
    profile: 'EGRESS-GATEWAY',
    level: 'extended',
    claim: 'the sidecar reaches the egress gateway over Istio mutual TLS',
    applies: (c) => (c.expected.hops ?? []).some((h) => h.kind === 'sidecar' && h.tls?.mode === 'ISTIO_MUTUAL'),
  },
  {
    name: 'EgressGatewayTLSPassthrough',
    profile: 'EGRESS-GATEWAY',
    level: 'extended',
    claim: 'the egress gateway forwards TLS by SNI without terminating it',
    applies: (c) => !!gatewayHop(c.expected) && passthrough(c.resources),
  },
  {
    name: 'SidecarTLSOrigination',
    profile: 'TLS-ORIGINATION',
    level: 'core',
    claim: "the sidecar turns the application's plain HTTP into TLS to the external host",
    applies: (c) => (c.expected.hops ?? []).some((h) => h.kind === 'sidecar' && originates(h.tls?.mode)),
  },
  {
    name: 'GatewayTLSOrigination',
    profile: 'TLS-ORIGINATION',
    level: 'extended',
    claim: 'the egress gateway originates TLS to the external host',
    applies: (c) => originates(gatewayHop(c.expected)?.tls?.mode),
  },
];

/** The names of the features a case exercises (none for a case no feature describes). */
export function featuresOf(c: FeatureInput): string[] {
  return FEATURES.filter((f) => f.applies(c)).map((f) => f.name);
}
