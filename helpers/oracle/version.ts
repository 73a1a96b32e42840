// Istio versions are compared as semver (major.minor.patch, a pre-release sorts before its release),
// so a master build like `1.32.0-alpha.eed52ebb66ad` sits after 1.31.x and before 1.32.0.
// Also the one list of version gates: the rules of the oracle that change with the Istio version.
import { UserError } from '../model/errors.ts';

export type GateId =
  | 'dns-auto-allocation'
  | 'default-export-to'
  | 'sidecar-egress-exclusions'
  | 'service-entry-visibility'
  | 'allow-any-dynamic-dns';

export interface IstioVersion {
  major: number;
  minor: number;
  patch: number;
  pre: string;
  raw: string;
  /** Gates forced open or shut whatever the version says: how the oracle asks "what if this rule did not apply". */
  gates?: Partial<Record<GateId, boolean>>;
}

/** The oldest and the first unknown version the oracle has rules for. */
export const ORACLE_FIRST = '1.24.0';
export const ORACLE_BEYOND = '1.33.0';

function parseRaw(raw: string, what: string): IstioVersion {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$/.exec(raw.trim());
  if (!m) throw new UserError(`${what}: "${raw}" is not an Istio version; use X.Y.Z, e.g. 1.30.3`);
  const v = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), pre: m[4] ?? '', raw };
  if (v.major !== 1) throw new UserError(`${what}: "${raw}" is not an Istio 1.x version`);
  return v;
}

/** Parses a version and refuses one the oracle has no rules for (before 1.24, or past the newest known master). */
export function parseIstioVersion(raw: string, what = '--istio-version'): IstioVersion {
  const v = parseRaw(raw, what);
  if (compareVersions(v, parseRaw(ORACLE_FIRST, what)) < 0 || compareVersions(v, parseRaw(ORACLE_BEYOND, what)) >= 0) {
    throw new UserError(
      `${what}: the oracle has no rules for Istio ${raw}; it knows ${ORACLE_FIRST} up to master before ${ORACLE_BEYOND} (\`egress-conformance rules\` lists what changes in between)`,
    );
  }
  return v;
}

/** Pre-release identifiers compared as semver does: numeric ones as numbers, and below alphanumeric ones. */
function comparePre(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === undefined) return -1;
    if (y[i] === undefined) return 1;
    if (x[i] === y[i]) continue;
    const nx = /^\d+$/.test(x[i]!);
    const ny = /^\d+$/.test(y[i]!);
    if (nx && ny) return Number(x[i]) - Number(y[i]);
    if (nx !== ny) return nx ? -1 : 1;
    return x[i]! < y[i]! ? -1 : 1;
  }
  return 0;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: IstioVersion, b: IstioVersion): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] - b[k];
  if (a.pre === b.pre) return 0;
  if (!a.pre) return 1;
  if (!b.pre) return -1;
  return comparePre(a.pre, b.pre);
}

export function atLeast(v: IstioVersion, than: string): boolean {
  return compareVersions(v, parseRaw(than, 'version gate')) >= 0;
}

export interface VersionGate {
  id: GateId;
  /** The first version with the new behaviour (a pre-release bound such as `1.31.0-alpha` covers master builds of that line). */
  since: string;
  title: string;
  before: string;
  after: string;
  /** The upstream change: PR and/or commit. */
  upstream: string;
  /** Istio source files where the difference is visible (compared between the two pinned builds). */
  source: string[];
}

/**
 * Every rule of the oracle that depends on the Istio version. The code paths read them with gateOpen;
 * `egress-conformance rules` prints this list.
 */
export const GATES: readonly VersionGate[] = [
  {
    id: 'dns-auto-allocation',
    since: '1.25.0',
    title: 'istiod auto-allocates ServiceEntry addresses',
    before:
      "an entry without addresses gets no address of its own; with DNS capture its host still resolves to the real address and lands on the port's wildcard listener",
    after:
      'istiod gives entries without addresses (resolution not NONE, host not a wildcard) a 240.240.0.0/16 address; a sidecar capturing DNS answers with it, so calls land on a listener of their own',
    upstream: "releasenotes/notes/ip-allocation-v2-default.yaml (istiod's IP auto-allocation controller)",
    source: ['pilot/pkg/serviceregistry/serviceentry/ip_allocator.go', 'pilot/pkg/model/service.go nodeUsesAutoallocatedIPs'],
  },
  {
    id: 'default-export-to',
    since: '1.30.3',
    title: 'meshConfig.defaultServiceExportTo honoured in full',
    before:
      'for an entry without exportTo only "." or "*" in defaultServiceExportTo count ("." first); named namespaces in the default export it nowhere',
    after: 'an entry without exportTo takes the whole defaultServiceExportTo list, named namespaces included',
    upstream: "istio/istio#60701 (fixes #60560, opened 2026-06-25; the 1.30.3 bound is the oracle's, not checked on a release build)",
    source: ['pilot/pkg/model/push_context.go IsServiceVisible / serviceExportTo'],
  },
  {
    id: 'sidecar-egress-exclusions',
    since: '1.31.0-alpha',
    title: 'Sidecar egress hosts with a "~" namespace exclude',
    before: '"~ns/host" is a host in a namespace literally named "~ns": it imports nothing',
    after: '"~ns/host" excludes matching services of ns ("~/host" of every namespace) from what the listener imports',
    upstream: 'istio/istio#60581 (issue #60139, opened 2026-06-13)',
    source: ['pilot/pkg/model/sidecar.go excludePrefix / hostClassification.Excluded'],
  },
  {
    id: 'service-entry-visibility',
    since: '1.31.0-alpha',
    title: 'meshConfig.serviceEntryVisibility caps exportTo for sidecars (applyToSidecars)',
    before: 'the mesh field does not exist: every ServiceEntry keeps its exportTo',
    after:
      'with applyToSidecars, defaultVisibility NAMESPACE clamps an entry to its own namespace (or hides it when its exportTo leaves that out) and NONE hides it; exportTo ["~"] stays',
    upstream: 'istio/istio#60870 "Implement Safer ServiceEntry" (commit 62a02d9ae96, 2026-07-20)',
    source: ['pilot/pkg/model/push_context.go serviceExportTo', 'pilot/pkg/model/serviceentry_visibility.go'],
  },
  {
    id: 'allow-any-dynamic-dns',
    since: '1.31.0-alpha',
    title: 'the mesh mode ALLOW_ANY_DYNAMIC_DNS is implemented by istiod',
    before:
      "the mode is in MeshConfig's enum (istio.io/api, also v1.30.3) but pilot has no code for it: only ALLOW_ANY allows (util.go IsAllowAnyOutbound), so every catch-all blocks as under REGISTRY_ONLY",
    after:
      'plain HTTP to an unknown host goes to AllowAnyDynamicDNSCluster (the catch-all virtual host allow_any_dynamic_dns); TLS and TCP to unknown hosts pass through as under ALLOW_ANY',
    upstream:
      'istio/istio#59802 (merged into master after 2026-04-23: absent from master-2026-04-23, present in master-2026-08-27, both checked in source and on the lane; the 1.31 bound is inferred from that)',
    source: [
      'pilot/pkg/networking/util/util.go IsAllowAnyDynamicDNSOutbound',
      'pilot/pkg/networking/core/httproute.go buildCatchAllVirtualHost',
    ],
  },
];

/**
 * Version differences that were claimed and checked, and that neither pinned build shows: listed by
 * `egress-conformance rules` so nobody adds them back as gates without new evidence.
 */
export const CHECKED_NOT_GATES: readonly { claim: string; upstream: string; finding: string }[] = [
  {
    claim:
      'the TCP chain of an unset-protocol (sniffed) entry arriving after an HTTP entry on the same wildcard port is merged on master after 1.31',
    upstream: 'istio/istio#60642 (commit 75893e6febb)',
    finding:
      'not in either pinned build: buildSidecarOutboundListener in pilot/pkg/networking/core/listener.go is the same in master-2026-04-23 and ' +
      'master-2026-08-27 (an Auto port meeting the Unsupported entry an HTTP service left on 0.0.0.0 exits early), and both istiods drop the ' +
      'chain when the HTTP entry comes first and keep it when the sniffed one does (fixtures/rules/sniffed-after-http.yaml, sniffed-before-http.yaml); ' +
      'no pull request #60642 about this was found',
  },
];

export function gate(id: GateId): VersionGate {
  return GATES.find((g) => g.id === id)!;
}

/** Does this version have the gate's new behaviour? An override on the version wins. */
export function gateOpen(v: IstioVersion, id: GateId): boolean {
  return v.gates?.[id] ?? atLeast(v, gate(id).since);
}

/** The gates whose state differs between two versions, oldest first. */
export function gatesBetween(a: IstioVersion, b: IstioVersion): VersionGate[] {
  return GATES.filter((g) => gateOpen(a, g.id) !== gateOpen(b, g.id));
}
