// How a probe becomes a command in a client container and how its result becomes an observation
// (helpers/lanes/kind/probes/commands.ts and classify.ts), bound to this lane's servers. Tests inject their own toolkit.
import type { Observation, ProbeTarget } from '../../model/types.ts';
import { classifyProbe } from './probes/classify.ts';
import { probeCommand, probeContainer } from './probes/commands.ts';
import type { ExecResult } from '../../k8s/client.ts';
import { POSTGRES } from './servers.ts';

export interface ProbeToolkit {
  /** argv to exec in the client container. */
  probeCommand(target: ProbeTarget): string[];
  /** Which client container runs it. */
  probeContainer(target: ProbeTarget): 'curl' | 'psql';
  classifyProbe(target: ProbeTarget, result: ExecResult): Observation;
}

export const defaultProbeToolkit: ProbeToolkit = {
  // The PostgreSQL server container's credentials (servers.ts); the HTTP side needs none.
  probeCommand: (target) => probeCommand(target, { pg: POSTGRES }),
  probeContainer,
  classifyProbe,
};

export function requireProbeToolkit(given?: ProbeToolkit): ProbeToolkit {
  return given ?? defaultProbeToolkit;
}
