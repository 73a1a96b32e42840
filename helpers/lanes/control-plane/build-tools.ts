// Builds (or finds) everything the control-plane lane runs, in the order the main job needs them: istiod,
// istioctl, then the kwok cluster's programs. The pair of controlPlaneMissing (requirements.ts): whatever that
// can report missing, this builds, so a first run on a fresh machine never stops at a program nobody built.
import { kwokClusterBinaries } from '../../cluster/kwok/binaries.ts';
import type { PilotDiscoveryPin } from '../../tools/pilot-discovery.ts';
import { ensurePilotDiscovery, installPilotDiscovery } from '../../tools/pilot-install.ts';
import { findIstioctlBuildSync } from '../../tools/pilot-locate.ts';

export async function buildControlPlaneTools(pin: PilotDiscoveryPin, onProgress: (line: string) => void): Promise<void> {
  await ensurePilotDiscovery({ build: true, pin, onProgress });
  if (!findIstioctlBuildSync(pin)) await installPilotDiscovery({ program: 'istioctl', pin, onProgress });
  await kwokClusterBinaries({ build: true, onProgress });
}
