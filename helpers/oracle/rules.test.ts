// Rule coverage: every rule of the oracle must decide, or shape, at least one answer that a real istiod gave.
// Until the corpus of istiod answers lands, the evidence is the pinned probes of fixtures/rules (istiod's and
// upstream's answers) and of the catalogue (checked on the lanes).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue, RULES_DIR } from '../catalogue/load.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';
import { countRuleHits, formatRuleHits, type OracleAnswer, RULE_IDS, RULES, type RuleId } from './rules.ts';

const VERSION = PINNED.controlPlane.istioVersion;
// fixtures/rules probes are compared with the real istiod by suites/rules.test.ts, pinned or not; pending/ holds
// shrunk istiod answers (pinned) the lane cannot classify yet; the catalogue's probes are pinned.
const cases = [
  ...expandCases(loadCatalogue(RULES_DIR, undefined, { requirePins: false })),
  ...expandCases(loadCatalogue(join(RULES_DIR, 'pending'), undefined, { requirePins: false })),
  ...expandCases(loadCatalogue()),
];
const answers: OracleAnswer[] = cases.map((c) =>
  expectProbe(c.scenario.resources, c.probe, { istioVersion: VERSION, policy: c.policy, workloads: c.scenario.probes.map((p) => p.from) }),
);

describe('rule ids', () => {
  it('every answer ends with the rule that decided it, and names only known rules', () => {
    expect(answers.length).toBeGreaterThan(100);
    for (const a of answers) {
      expect(a.rules.at(-1)).toBe(a.rule);
      for (const r of a.rules) expect(RULES).toHaveProperty([r]);
    }
  });

  it('counts hits per rule, once per answer, and lists unexercised rules at 0', () => {
    const counts = countRuleHits([
      { rules: ['listener.none', 'mesh.allow-any'] },
      { rules: ['mesh.allow-any', 'mesh.allow-any'] },
      { rules: ['se.sni-chain'] },
    ]);
    expect(counts.get('mesh.allow-any')).toBe(2);
    expect(counts.get('listener.none')).toBe(1);
    expect(counts.get('se.sni-chain')).toBe(1);
    expect(counts.get('capture-port.loop')).toBe(0);
    expect(counts.size).toBe(RULE_IDS.length);
    const lines = formatRuleHits(counts);
    expect(lines).toHaveLength(RULE_IDS.length);
    expect(lines.find((l) => l.includes('mesh.allow-any'))).toMatch(/mesh\.allow-any\s+2$/);
    expect(lines.find((l) => l.includes('capture-port.loop'))).toMatch(/0 \(not exercised\)$/);
  });
});

/**
 * Rules no recorded probe can reach yet, each with why. The list cannot rot: a listed rule that some probe
 * exercises fails the test below, so it is struck off as soon as the evidence exists.
 */
const AWAITING: Partial<Record<RuleId, string>> = {};

describe('rule coverage by recorded istiod answers (fixtures/rules, pending and the catalogue)', () => {
  const counts = countRuleHits(answers);
  it.each(RULE_IDS.filter((id) => !AWAITING[id]).map((id) => [id] as const))('%s decides or shapes at least one pinned probe', (id) => {
    expect(counts.get(id), `no pinned probe goes through ${id}:\n${formatRuleHits(counts).join('\n')}`).toBeGreaterThan(0);
  });
  it.each(Object.entries(AWAITING))('%s awaits evidence (%s) and is still unexercised', (id) => {
    expect(counts.get(id as RuleId), `${id} is exercised now: strike it off AWAITING`).toBe(0);
  });
});
