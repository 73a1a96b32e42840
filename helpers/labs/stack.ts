// The live lab's cluster is the warm stack (helpers/stack), the one `egress-conformance up` keeps: there is
// one local cluster + istiod per user, whoever started it. A warm stack that is up with the labs' pinned
// build is used as it is (said aloud), and `lab stop` leaves it running, with the lab's objects removed and
// the mesh config put back as `up` installed it. With none up, `lab start` starts one detached, as `up`
// does, records it as the warm stack marked `startedBy: 'lab start'`, and `lab stop` ends it. Ctrl-C while
// a lab starts undoes only what that start did: the stack it started, or its objects on a stack it found.
import { join } from 'node:path';
import { ClientNodeK8s, isNotFound, type K8sObject, type K8sOps } from '../k8s/client.ts';
import { writeMeshConfig } from '../k8s/istio.ts';
import { RUN_LABEL } from '../k8s/manifests.ts';
import { syncScenarioObjects } from '../k8s/workloads.ts';
import { loadResourceFiles } from '../istio/load.ts';
import type { LaneState } from '../lanes/control-plane/lane.ts';
import { EnvironmentError, UserError } from '../model/errors.ts';
import { onInterrupt } from '../process/interrupt.ts';
import { pollUntil } from '../process/poll.ts';
import { detachedControlPlane, type StackProvider } from '../stack/provider.ts';
import { missingStackTools } from '../stack/requirements.ts';
import { buildName, isRecordedAlive, isUp, readWarm, removeWarm, runsBuild, uptime, type WarmRecord, writeWarm } from '../stack/warm.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { findIstioctlBuildSync } from '../tools/pilot-locate.ts';
import { readClusterResources } from './cluster.ts';
import { probeOf } from './grade.ts';
import { installOperator } from './install.ts';
import type { LiveBackend, LiveLab } from './live.ts';
import type { Lab } from './load.ts';
import { clientsOf } from './load.ts';
import { stateDir } from './progress.ts';

export interface StackBackendOptions {
  env?: NodeJS.ProcessEnv;
  provider?: StackProvider;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The starting state as `kubectl apply -f` leaves it: with the last-applied annotation, so the candidate's
 * own `kubectl apply` of an edited copy removes the fields they deleted (a three-way merge needs it).
 */
export function asKubectlApplied(manifest: Record<string, unknown>, namespace: string): K8sObject {
  const m = structuredClone(manifest) as K8sObject;
  m.metadata = { ...m.metadata, namespace };
  const applied = JSON.stringify(m);
  m.metadata.annotations = { ...(m.metadata.annotations ?? {}), [LAST_APPLIED]: applied };
  return m;
}

/** Istio kinds a candidate may have created; a new lab starts without any of them (the stack's own stay). */
const LAB_KINDS = ['ServiceEntry', 'Sidecar', 'VirtualService', 'DestinationRule', 'Gateway', 'WorkloadEntry'];

/** Deletes every Istio object a lab or a candidate made (all but the stack's run-labelled ones); returns their names. */
async function clearLab(k8s: K8sOps): Promise<string[]> {
  const removed: string[] = [];
  for (const kind of LAB_KINDS) {
    let objects: K8sObject[];
    try {
      objects = await k8s.list('networking.istio.io/v1', kind);
    } catch (e) {
      if (isNotFound(e)) continue;
      throw e;
    }
    for (const o of objects.filter((x) => !x.metadata.labels?.[RUN_LABEL])) {
      await k8s.delete({ apiVersion: 'networking.istio.io/v1', kind, namespace: o.metadata.namespace, name: o.metadata.name });
      removed.push(`${kind} ${o.metadata.namespace}/${o.metadata.name}`);
    }
  }
  return removed;
}

/** What a lab leaves on a warm stack it did not start, undone: its objects, and the mesh config `up` installed. */
async function putBack(k8s: K8sOps, rec: WarmRecord): Promise<void> {
  await clearLab(k8s);
  await writeMeshConfig(k8s, rec.baseMesh);
}

class StackLiveLab implements LiveLab {
  private synced?: Promise<unknown>;
  constructor(
    readonly lane: import('../lanes/control-plane/lane.ts').ControlPlaneLane,
    readonly k8s: K8sOps,
    readonly kubeconfig: string,
    readonly gradedBy: string,
  ) {}

  async sync(): Promise<void> {
    this.synced = this.lane.syncLive();
    await this.synced;
  }

  async release(): Promise<void> {
    await this.lane.releaseLive();
  }

  /** The last barrier, or a first one: reads between two sync() calls see one state of the cluster. */
  private firstSync(): Promise<unknown> {
    this.synced ??= this.lane.syncLive();
    return this.synced;
  }

  async observe(probe: Parameters<LiveLab['observe']>[0]) {
    await this.firstSync();
    return this.lane.observeLive(probe);
  }

  async resources() {
    await this.firstSync();
    return (await readClusterResources(this.k8s)).resources;
  }

  async notes() {
    await this.firstSync();
    return (await readClusterResources(this.k8s)).notes;
  }
}

async function liveOf(rec: WarmRecord): Promise<StackLiveLab> {
  const { ControlPlaneLane } = await import('../lanes/control-plane/lane.ts');
  const lane = ControlPlaneLane.attach(rec.providerState as LaneState);
  return new StackLiveLab(lane, new ClientNodeK8s(rec.kubeconfig), rec.kubeconfig, `istiod ${rec.build.istioVersion}`);
}

/** Ends a stack a lab started, and waits until the kernel has let go of its processes (as `down` does). */
async function endLabStack(provider: StackProvider, rec: WarmRecord, env: NodeJS.ProcessEnv): Promise<void> {
  await provider.stop(rec);
  await pollUntil(() => !rec.processes.some(isRecordedAlive), { timeoutMs: 5000, intervalMs: 20, maxIntervalMs: 200 });
  removeWarm(env);
}

export async function stackBackend(opts: StackBackendOptions = {}): Promise<LiveBackend> {
  const env = opts.env ?? process.env;
  const provider = opts.provider ?? detachedControlPlane;
  const pin = PINNED_PILOT;
  const istioctl = findIstioctlBuildSync(pin, env);
  if (!istioctl)
    throw new EnvironmentError(
      'istioctl of the pinned build is not built; run `egress-conformance tools install istioctl-build` (needs Go)',
    );

  /** The warm stack to run the lab on, started here when none is up; `started` says which. */
  const acquire = async (say: (l: string) => void): Promise<{ rec: WarmRecord; started: boolean }> => {
    const existing = readWarm(env);
    if (existing && isUp(existing)) {
      if (existing.provider !== provider.name || !runsBuild(existing, pin))
        throw new UserError(
          `the warm stack runs ${buildName(existing.build)}; labs run on ${buildName(pin)}: stop it with \`egress-conformance down\` (lab start then starts one)`,
        );
      say(
        existing.startedBy === 'lab start'
          ? `lab: reusing the stack an earlier lab start left up (${buildName(existing.build)}, up ${uptime(existing)})`
          : `lab: using the warm stack (egress-conformance up, ${buildName(existing.build)}, up ${uptime(existing)}); lab stop leaves it up`,
      );
      return { rec: existing, started: false };
    }
    if (existing) {
      say('lab: clearing what is left of an earlier warm stack that is no longer running');
      await provider.stop(existing);
      removeWarm(env);
    }
    const missing = missingStackTools(pin, env);
    if (missing.length)
      throw new EnvironmentError(
        `a live lab needs the pinned tools; run ${missing.map((c) => `\`egress-conformance ${c}\``).join(', ')} (needs Go)`,
      );
    say(`lab: starting a local cluster + istiod ${buildName(pin)}, detached as \`egress-conformance up\` starts it (lab stop ends it)`);
    // The provider ends what it started on Ctrl-C until it returns the record.
    const rec: WarmRecord = { ...(await provider.start({ pin, say })), startedBy: 'lab start' };
    writeWarm(rec, env);
    return { rec, started: true };
  };

  return {
    async start(lab: Lab, say) {
      const { rec, started } = await acquire(say);
      const k8s = new ClientNodeK8s(rec.kubeconfig);
      let undone: Promise<void> | undefined;
      const undo = () => (undone ??= started ? endLabStack(provider, rec, env) : putBack(k8s, rec));
      // Ctrl-C runs beside the steps below: the step in flight is let finish and no further one starts,
      // so nothing the start writes lands after the undo has cleared it. Once interrupted, this flow waits
      // for the interrupt's owner to end the process (exit 130), never reporting an error of its own.
      let interrupted = false;
      let inFlight: Promise<unknown> = Promise.resolve();
      const stopHere = () => new Promise<never>(() => {});
      const step = async <T>(f: () => Promise<T>): Promise<T> => {
        if (interrupted) return stopHere();
        const p = f();
        inFlight = p.catch(() => {});
        return p;
      };
      const release = onInterrupt(async () => {
        interrupted = true;
        await inFlight;
        await undo();
        say(started ? 'interrupted: the stack this lab start started is stopped' : "interrupted: the lab's objects are removed");
      });
      try {
        const left = await step(() => clearLab(k8s));
        if (left.length) say(`lab: removing what an earlier lab or command left in the cluster: ${left.join(', ')}`);
        // A command interrupted on the warm stack may have left its scenario's objects (run-labelled) behind.
        await step(() => syncScenarioObjects(k8s, [], (rec.providerState as LaneState).runId));
        say(`installing Istio from ${lab.install}`);
        await step(() => installOperator(k8s, istioctl, lab.install, join(stateDir(env), 'lab')));
        const start = loadResourceFiles(lab.start);
        for (const r of [...start.serviceEntries, ...start.sidecars, ...(start.routing ?? [])])
          await step(() => k8s.create(asKubectlApplied(r.manifest, r.namespace)));
        const live = await liveOf(rec);
        // The lab's client Pods exist from the start (kubectl get pods shows them), and istiod has pushed
        // the starting state before the candidate's first command.
        for (const source of clientsOf(lab))
          await step(() => live.observe(probeOf({ ...lab.checks.find((c) => c.from === source)!, from: source })));
        await step(() => live.release());
        return { live, handle: rec.runDir };
      } catch (e) {
        if (interrupted) return stopHere();
        await undo();
        throw e;
      } finally {
        release();
      }
    },

    async attach(handle) {
      const rec = readWarm(env);
      // Another stack (a `down` and `up` since) is not the lab's: its objects are not there.
      if (!rec || rec.runDir !== handle) return undefined;
      if (!isUp(rec)) {
        // Part of it died (a reboot, a kill): a stack the lab started is ended whole, so nothing half-alive stays.
        if (rec.startedBy === 'lab start') await endLabStack(provider, rec, env);
        return undefined;
      }
      return liveOf(rec);
    },

    async stop(handle, say) {
      const rec = readWarm(env);
      if (!rec || rec.runDir !== handle) return false;
      if (rec.startedBy === 'lab start') {
        say(`stopping the stack lab start started ${rec.startedAt} (${rec.processes.map((p) => `${p.name} ${p.pid}`).join(', ')})`);
        await endLabStack(provider, rec, env);
        return true;
      }
      if (!isUp(rec)) return false;
      await putBack(new ClientNodeK8s(rec.kubeconfig), rec);
      say("the warm stack (egress-conformance up) stays up: the lab's objects are removed and its mesh config put back");
      return true;
    },
  };
}
