// The resources of one rule fixture (fixtures/rules/NAME.yaml), read by the catalogue loader the lane suite uses,
// so that a unit test and suites/rules.test.ts hold the model to the same scenario.
import { loadCatalogue, RULES_DIR } from '../catalogue/load.ts';
import type { ResourceSet } from '../model/types.ts';

let rules: ReturnType<typeof loadCatalogue> | undefined;

export function ruleFixture(name: string): ResourceSet {
  rules ??= loadCatalogue(RULES_DIR, undefined, { requirePins: false });
  const found = rules.find((s) => s.name === name);
  if (!found) throw new Error(`no rule fixture named ${name} in ${RULES_DIR}`);
  // A copy: a test may change it.
  return structuredClone(found.resources);
}
