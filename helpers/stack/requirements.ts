// Whether the pinned tools a stack needs are installed, without starting or building anything: this
// decides whether `expect` and `matrix` answer from the real istiod (tools there) or fall back to the model.
// What the cluster needs is the kwok cluster's own list (helpers/cluster/kwok/requirements.ts).
import { kwokClusterMissing } from '../cluster/kwok/requirements.ts';
import type { PilotDiscoveryPin } from '../tools/pilot-discovery.ts';
import { findIstioctlBuildSync, findPilotDiscoverySync } from '../tools/pilot-locate.ts';

/** The `egress-conformance tools install …` commands still needed for a stack of `pin`; empty when none. */
export function missingStackTools(pin: PilotDiscoveryPin, env: NodeJS.ProcessEnv = process.env): string[] {
  const version = pin.label ? ` --version ${pin.label}` : '';
  const missing: string[] = [];
  if (!findPilotDiscoverySync(pin, env)) missing.push(`tools install pilot-discovery${version}`);
  if (!findIstioctlBuildSync(pin, env)) missing.push(`tools install istioctl-build${version}`);
  for (const p of kwokClusterMissing(env)) missing.push(`tools install ${p}`);
  return missing;
}

/** One sentence on how to get istiod's answers, for output that fell back to the model. */
export function howToGetIstiod(missing: string[]): string {
  return `for the real istiod's answer, build the pinned tools once (needs Go, 15-25 min cold): ${missing
    .map((c) => `egress-conformance ${c}`)
    .join('; ')}`;
}
