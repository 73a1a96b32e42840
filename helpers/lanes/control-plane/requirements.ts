// What the control-plane lane needs built before it can run, checked without starting anything
// (tests use it to report themselves skipped, with the command that fixes it).
import { kwokClusterMissing } from '../../cluster/kwok/requirements.ts';
import { PINNED_PILOT, type PilotDiscoveryPin } from '../../tools/pilot-discovery.ts';
import { findIstioctlBuildSync, findPilotDiscoverySync } from '../../tools/pilot-locate.ts';

/** undefined when everything is there; otherwise one line naming what is missing and how to build it. */
export function controlPlaneMissing(env: NodeJS.ProcessEnv = process.env, pin: PilotDiscoveryPin = PINNED_PILOT): string | undefined {
  const missing: string[] = [];
  if (!findPilotDiscoverySync(pin, env)) missing.push('pilot-discovery');
  if (!findIstioctlBuildSync(pin, env)) missing.push('istioctl-build');
  // The kwok cluster: kwokctl runs these (helpers/cluster/kwok).
  missing.push(...kwokClusterMissing(env));
  if (missing.length === 0) return undefined;
  return `the control-plane lane needs ${missing.join(', ')} built: run ${missing.map((m) => `\`egress-conformance tools install ${m}\``).join(', ')} (needs Go)`;
}
