// Parsing of the flags several commands share, each failing with a message that names the flag.
import type { PolicyMode } from '../../helpers/model/types.ts';
import { POLICY_MODES } from '../../helpers/model/types.ts';
import { UserError } from '../../helpers/model/errors.ts';
import { parseIstioVersion } from '../../helpers/oracle/version.ts';
import { PINNED } from '../../helpers/tools/versions.ts';

export function parsePolicy(v: string | undefined): PolicyMode | undefined {
  if (v === undefined) return undefined;
  // Flags are typed by hand: any case is accepted (`registry_only`). Files are not: Istio refuses them.
  const up = v.toUpperCase();
  if (!POLICY_MODES.includes(up as PolicyMode))
    throw new UserError(`--policy: "${v}" is not a policy; use ALLOW_ANY or REGISTRY_ONLY (any case)`);
  return up as PolicyMode;
}

export function istioVersionFlag(v: string | undefined, fallback = PINNED.istio): string {
  const raw = v ?? fallback;
  parseIstioVersion(raw, '--istio-version');
  return raw;
}

export function testFilter(v: string | undefined): RegExp | undefined {
  if (v === undefined) return undefined;
  try {
    return new RegExp(v);
  } catch (e) {
    throw new UserError(`--test: "${v}" is not a valid regular expression (${(e as Error).message})`);
  }
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];
