// The oracle's public face: one source of truth for expected verdicts, used by every lane and report.
export { expectProbe, gateDependencies, type GateDependency, type OracleOptions } from './expect.ts';
export { parseIstioVersion, compareVersions, atLeast, GATES, gateOpen, gatesBetween, type GateId, type VersionGate } from './version.ts';
export { countRuleHits, formatRuleHits, RULES, RULE_IDS, type OracleAnswer, type RuleId } from './rules.ts';
