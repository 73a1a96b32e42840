// The probes a comparison runs: the catalogue and the rule scenarios, plus the user's case files.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../model/errors.ts';
import { expandCases, loadCaseFiles, loadCatalogue, RULES_DIR } from '../catalogue/load.ts';
import type { CaseRun, Scenario } from '../catalogue/types.ts';

export interface GatherOptions {
  files?: string[];
  casesDir?: string;
  /** Include fixtures/cases and fixtures/rules (default true). */
  builtin?: boolean;
}

export function gatherScenarios(opts: GatherOptions): Scenario[] {
  const out: Scenario[] = [];
  if (opts.builtin !== false) out.push(...loadCatalogue(), ...loadCatalogue(RULES_DIR, undefined, { requirePins: false }));
  if (opts.casesDir) {
    const dir = resolve(opts.casesDir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--cases: ${dir} is not a directory of case files`);
    out.push(...loadCatalogue(dir, dir, { requirePins: false }));
  }
  if (opts.files?.length) out.push(...loadCaseFiles(opts.files));
  if (out.length === 0) throw new UserError('nothing to compare: give -f FILE or --cases DIR, or leave out --no-builtin');
  const seen = new Map<string, string>();
  for (const s of out) {
    const prev = seen.get(s.name);
    if (prev) throw new UserError(`${s.file}: scenario name "${s.name}" is also used by ${prev}; rename one`);
    seen.set(s.name, s.file);
  }
  return out;
}

export function gatherCases(opts: GatherOptions): CaseRun[] {
  return expandCases(gatherScenarios(opts));
}
