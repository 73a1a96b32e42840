// A whole run on the warm stack (`run --lane control-plane`, `fuzz`): the full control-plane lane attached to
// the stack `egress-conformance up` started, held with the lease for the whole run, so that no question of
// `expect` (or another run) is applied between its scenarios. Used only where the run's answers are the same as
// on a stack of its own: the same build, the built-in install (`up -f` installs another IstioOperator, whose
// mesh settings a scenario's would be merged with), no lab on it, and the lease free. Otherwise the caller
// starts its own stack, and the line said here says why.
import type { Lane } from '../lanes/lane.ts';
import type { LaneState } from '../lanes/control-plane/state.ts';
import type { PilotDiscoveryPin } from '../tools/pilot-discovery.ts';
import { usableWarm } from './acquire.ts';
import { leaseHolder, takeLease } from './lease.ts';
import { buildName, uptime } from './warm.ts';

export interface WarmRun {
  lane: Lane;
  /** After the lane's teardown: the installed mesh config back, then the lease given back. */
  release(): Promise<void>;
}

export async function warmStackForRun(o: {
  pin: PilotDiscoveryPin;
  what: string;
  say: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}): Promise<WarmRun | undefined> {
  const env = o.env ?? process.env;
  if (env.EGRESS_WARM_STACK === 'off') return undefined;
  const rec = usableWarm({ pin: o.pin, say: o.say, env });
  if (!rec) return undefined;
  if (rec.operator) {
    o.say(`stack: the warm stack runs ${rec.operator} (up -f), not the built-in install; starting a stack for this command`);
    return undefined;
  }
  const lease = takeLease(o.what, env);
  if ('heldBy' in lease) {
    o.say(`stack: the warm stack is in use by ${lease.heldBy.what} (pid ${lease.heldBy.pid}); starting a stack for this command`);
    return undefined;
  }
  try {
    const [{ ControlPlaneLane }, { ClientNodeK8s }, { writeMeshConfig }] = await Promise.all([
      import('../lanes/control-plane/lane.ts'),
      import('../k8s/client.ts'),
      import('../k8s/istio.ts'),
    ]);
    const lane = ControlPlaneLane.attach(rec.providerState as LaneState, { onProgress: o.say });
    o.say(
      `stack: using the warm stack (egress-conformance up, ${buildName(rec.build)}, up ${uptime(rec)}); EGRESS_WARM_STACK=off starts one instead`,
    );
    let released = false;
    return {
      lane,
      release: async () => {
        if (released) return;
        released = true;
        try {
          // The run's last scenario wrote its own mesh; the stack goes back to what `up` installed.
          await writeMeshConfig(new ClientNodeK8s(rec.kubeconfig), rec.baseMesh);
        } finally {
          lease.release();
        }
      },
    };
  } catch (e) {
    lease.release();
    throw e;
  }
}

/** Would warmStackForRun use the warm stack now? Asked quietly, without taking the lease. */
export function warmStackFits(pin: PilotDiscoveryPin, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.EGRESS_WARM_STACK === 'off') return false;
  const rec = usableWarm({ pin, say: () => {}, env });
  return !!rec && !rec.operator && !leaseHolder(env);
}
