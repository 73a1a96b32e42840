// Labs run on the control-plane lane's pinned istiod build, so its version is also the one whose
// oracle rules explain (or, without istiod, decide) the verdicts.
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';

export const LAB_ISTIO_VERSION = PINNED_PILOT.istioVersion;
