// countRuleHits and formatRuleHits (rules.ts), which `fuzz` and `corpus` print, without the fixtures rules.test.ts
// reads (that file is left out of the mutation run: it reparses every fixture).
import { describe, expect, it } from 'vitest';
import { countRuleHits, formatRuleHits, RULE_IDS, type RuleId } from './rules.ts';

describe('rule hits', () => {
  it('counts each answer once per rule, however often it names it, and keeps every rule', () => {
    const counts = countRuleHits([{ rules: ['mesh.allow-any', 'mesh.allow-any'] }, { rules: ['mesh.allow-any', 'listener.none'] }]);
    expect(counts.get('mesh.allow-any')).toBe(2);
    expect(counts.get('listener.none')).toBe(1);
    expect(counts.get('se.sni-chain')).toBe(0);
    expect([...counts.keys()]).toEqual(RULE_IDS);
  });

  it('prints one line per rule in catalogue order, ids padded to the longest, unhit rules said so', () => {
    const counts = new Map<RuleId, number>([['mesh.allow-any', 3]]);
    const lines = formatRuleHits(counts);
    const width = Math.max(...RULE_IDS.map((id) => id.length));
    expect(lines).toHaveLength(RULE_IDS.length);
    lines.forEach((line, i) => {
      const id = RULE_IDS[i]!;
      expect(line).toBe(`  ${id.padEnd(width)}  ${id === 'mesh.allow-any' ? '3' : '0 (not exercised)'}`);
    });
  });
});
