// Parsing of the flags several commands share, each failing with a message that names the flag.
import type { PolicyMode } from '../../helpers/model/types.ts';
import { POLICY_LIST, POLICY_MODES } from '../../helpers/model/types.ts';
import { UserError } from '../../helpers/model/errors.ts';
import { parseIstioVersion } from '../../helpers/oracle/version.ts';
import { PINNED } from '../../helpers/tools/versions.ts';
import { findPinnedBuild, PINNED_PILOT, pinnedBuildNames, type PilotDiscoveryPin } from '../../helpers/tools/pilot-discovery.ts';

export function parsePolicy(v: string | undefined): PolicyMode | undefined {
  if (v === undefined) return undefined;
  // Flags are typed by hand: any case is accepted (`registry_only`). Files are not: Istio refuses them.
  const up = v.toUpperCase();
  if (!POLICY_MODES.includes(up as PolicyMode)) throw new UserError(`--policy: "${v}" is not a policy; use ${POLICY_LIST} (any case)`);
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

/** What --istio-version names, read the same way by every command. */
export interface BuildChoice {
  /** The pinned istiod build it names; undefined for a plain Istio version (the model's rules only, or an image build). */
  pin?: PilotDiscoveryPin;
  /** The Istio version whose rules the model applies. */
  rules: string;
}

/**
 * --istio-version: a pinned istiod build by label, Go module version, commit or rules version, or an Istio
 * version X.Y.Z. Unset: the build the control-plane lane runs, so the model's default rules are that build's.
 */
export function buildFlag(v: string | undefined, flag = '--istio-version'): BuildChoice {
  if (v === undefined) return { pin: PINNED_PILOT, rules: PINNED_PILOT.istioVersion };
  const pin = findPinnedBuild(v);
  if (pin) return { pin, rules: pin.istioVersion };
  try {
    parseIstioVersion(v, flag);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError(`${e.message}; or name a pinned istiod build: ${pinnedBuildNames()}`);
  }
  return { rules: v };
}
