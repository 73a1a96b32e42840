// How lanes walk the catalogue: consecutive cases of one scenario under one policy form a block that is
// applied once and probed in turn (the suite and the kind lane's dry run use the same blocks).
import type { CaseRun } from './types.ts';

export function scenarioBlocks(list: CaseRun[]): Array<[CaseRun, ...CaseRun[]]> {
  const out: Array<[CaseRun, ...CaseRun[]]> = [];
  for (const c of list) {
    const last = out[out.length - 1];
    if (last && last[0].policy === c.policy && last[0].scenario === c.scenario) last.push(c);
    else out.push([c]);
  }
  return out;
}
