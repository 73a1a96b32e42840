// `compare --fail-on`: an upgrade gate on the direction of change rather than on the model's explanations.
// An explained change that opens egress is still egress that now gets out; a gate meant to stop that must
// fail on it whatever rule accounts for it.
import { UserError } from '../model/errors.ts';
import { type Comparison, type Direction, exitCodeOf } from './diff.ts';

const FAIL_ON = ['opened', 'closed', 'any'] as const;
export type FailOn = (typeof FAIL_ON)[number];

export function parseFailOn(raw: string | undefined): FailOn | undefined {
  if (raw === undefined) return undefined;
  const v = raw.toLowerCase();
  if ((FAIL_ON as readonly string[]).includes(v)) return v as FailOn;
  throw new UserError(
    `--fail-on: "${raw}" is not a direction; use opened (blocked → allowed), closed (allowed → blocked) or any (either, or a changed cluster or path)`,
  );
}

const hits = (failOn: FailOn, d: Direction | undefined) => d !== undefined && (failOn === 'any' || d === failOn);

/**
 * Without `failOn`, the default gate: every change explained, nothing missing, nothing errored. With it,
 * 1 when a change goes that way, and also when a probe was not observed on a side: its direction is
 * unknown, and a gate that an istiod crash turns green could never fail.
 */
export function gateExit(c: Comparison, failOn: FailOn | undefined): { code: number; reason?: string } {
  if (!failOn) return { code: exitCodeOf(c) };
  const found = c.changes.filter((x) => hits(failOn, x.direction));
  if (found.length) {
    const what = failOn === 'any' ? 'changed' : failOn;
    return {
      code: 1,
      reason: `--fail-on ${failOn}: ${found.length} ${found.length === 1 ? 'probe' : 'probes'} ${what}: ${found[0]!.id}${found.length > 1 ? ', …' : ''}`,
    };
  }
  if (c.errors.length) {
    return {
      code: 1,
      reason: `--fail-on ${failOn}: ${c.errors.length} ${c.errors.length === 1 ? 'probe was' : 'probes were'} not observed on a side, so whether they ${failOn === 'any' ? 'changed' : failOn} is unknown`,
    };
  }
  return { code: 0 };
}
