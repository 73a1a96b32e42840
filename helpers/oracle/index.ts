// The oracle's public face: one source of truth for expected verdicts, used by every lane and report.
import type { Probe, ResourceSet } from '../model/types.ts';
import { type OracleOptions, expectProbe as sidecarAnswer } from './expect.ts';
import { applyRouting } from './routing.ts';
import { withResolvedShortnames } from './shortnames.ts';
import { parseIstioVersion } from './version.ts';
import type { OracleAnswer } from './rules.ts';

export { gateDependencies, type GateDependency, type OracleOptions } from './expect.ts';

/**
 * What Istio does with a probe: the sidecar's answer (expect.ts), followed through VirtualServices,
 * DestinationRules and the egress gateway when the resources hold any (routing.ts), hop by hop.
 */
export function expectProbe(given: ResourceSet, probe: Probe, opts: OracleOptions): OracleAnswer {
  // VirtualService and DestinationRule hosts as istiod reads them (shortnames.ts).
  const resources = withResolvedShortnames(given);
  const v = { ...parseIstioVersion(opts.istioVersion), ...(opts.gates ? { gates: opts.gates } : {}) };
  return applyRouting(resources, probe, sidecarAnswer(resources, probe, opts), {
    v,
    ...(opts.workloads ? { workloads: opts.workloads } : {}),
  });
}
export { parseIstioVersion, compareVersions, atLeast, GATES, gateOpen, gatesBetween, type GateId, type VersionGate } from './version.ts';
export { countRuleHits, formatRuleHits, RULES, RULE_IDS, type OracleAnswer, type RuleId } from './rules.ts';
