// The one way a command gets a stack to ask istiod on: the warm stack when `egress-conformance up` has one
// running with the build asked for (said aloud), else a fresh one started for this command (with
// progress) and ended by its release(). Commands call this instead of creating the control-plane lane.
import type { Lane } from '../lanes/lane.ts';
import { readCurrent } from '../labs/live.ts';
import type { PilotDiscoveryPin } from '../tools/pilot-discovery.ts';
import { detachedControlPlane, type StackProvider } from './provider.ts';
import { buildName, isUp, readWarm, runsBuild, uptime, type WarmRecord } from './warm.ts';
import { takeLease } from './lease.ts';

export interface AcquiredStack {
  lane: Lane;
  /** The warm stack's record when the lane runs on it; undefined for a stack started for this command. */
  warm?: WarmRecord;
  /** Ends a stack started for this command; leaves the warm stack running. Safe to call twice. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  pin: PilotDiscoveryPin;
  say: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  provider?: StackProvider;
  /** Starts a stack for this command when no warm one fits (default: the control-plane lane). */
  fresh?: (pin: PilotDiscoveryPin, say: (line: string) => void) => Promise<Lane>;
}

/** The warm stack if it is up, runs `pin` and was made by `provider`; a line says why it is not used otherwise. */
export function usableWarm(o: AcquireOptions): WarmRecord | undefined {
  const provider = o.provider ?? detachedControlPlane;
  const rec = readWarm(o.env);
  if (!rec) return undefined;
  if (rec.provider !== provider.name || !isUp(rec)) {
    o.say('stack: the warm stack recorded by `egress-conformance up` is not running (run `egress-conformance down` to clear it)');
    return undefined;
  }
  const wanted = {
    goModuleVersion: o.pin.goModuleVersion,
    istioVersion: o.pin.istioVersion,
    ...(o.pin.label ? { label: o.pin.label } : {}),
  };
  if (!runsBuild(rec, wanted)) {
    o.say(`stack: the warm stack runs ${buildName(rec.build)}, not ${buildName(wanted)}; starting a stack for this command`);
    return undefined;
  }
  // A live lab owns the cluster's Istio objects and mesh config while it runs: a scenario written over
  // them would change the candidate's lab, and the lab's objects would change this command's answers.
  const lab = readCurrent(o.env);
  if (lab && lab.handle === rec.runDir) {
    o.say(`stack: lab ${lab.lab} is running on the warm stack (\`lab stop\` ends it); starting a stack for this command`);
    return undefined;
  }
  return rec;
}

export async function acquireStack(o: AcquireOptions): Promise<AcquiredStack> {
  const provider = o.provider ?? detachedControlPlane;
  const rec = usableWarm(o);
  // Held while this command's scenario is on the stack, so no run or other question is applied meanwhile.
  const lease = rec ? takeLease(`egress-conformance ${process.argv[2] ?? ''}`.trim(), o.env) : undefined;
  if (lease && 'heldBy' in lease)
    o.say(`stack: the warm stack is in use by ${lease.heldBy.what} (pid ${lease.heldBy.pid}); starting a stack for this command`);
  else if (rec && lease) {
    o.say(`stack: using the warm stack (egress-conformance up, ${buildName(rec.build)}, up ${uptime(rec)})`);
    try {
      const lane = await provider.lane(rec, o.say);
      return {
        lane,
        warm: rec,
        release: async () => {
          try {
            await lane.teardown();
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
  o.say(
    `stack: starting a local cluster + istiod ${buildName(o.pin)} for this command (\`egress-conformance up\` keeps one warm for the next)`,
  );
  const lane = await (o.fresh ?? freshLane)(o.pin, o.say);
  let released = false;
  return {
    lane,
    release: async () => {
      if (released) return;
      released = true;
      await lane.teardown();
    },
  };
}

async function freshLane(pin: PilotDiscoveryPin, say: (line: string) => void): Promise<Lane> {
  const { createLane } = await import('../lanes/select.ts');
  return createLane('control-plane', { pin, out: say });
}
