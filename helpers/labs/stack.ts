// The live-lab backend on the control-plane stack: real etcd, kube-apiserver and istiod started detached
// (they outlive the CLI), Istio installed from the lab's IstioOperator, the starting state created as
// `kubectl apply` would have created it. The stack's state file (pids, ports, kubeconfig) lives in the
// lab's XDG state directory; a later command attaches to it, and a second start stops whatever an
// earlier one left there (by its recorded pids only).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlaneLane, type LaneState } from '../lanes/control-plane/lane.ts';
import { ClientNodeK8s, isNotFound, type K8sObject, type K8sOps } from '../k8s/client.ts';
import { RUN_LABEL } from '../k8s/manifests.ts';
import { loadResourceFiles } from '../istio/load.ts';
import { EnvironmentError } from '../model/errors.ts';
import { exitCodeFor, onInterrupt } from '../process/interrupt.ts';
import { findIstioctlBuildSync } from '../tools/pilot-discovery.ts';
import { readClusterResources } from './cluster.ts';
import { installOperator } from './install.ts';
import type { LiveBackend, LiveLab } from './live.ts';
import type { Lab } from './load.ts';
import { clientsOf } from './load.ts';
import { stateDir } from './progress.ts';
import { probeOf } from './grade.ts';

export interface StackBackendOptions {
  env?: NodeJS.ProcessEnv;
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

/** SIGKILL to every process whose command line names `runDir`, a directory this command created. */
export function killByRunDir(runDir: string): number[] {
  const killed: number[] = [];
  for (const pid of readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)) {
    if (pid === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    if (!cmd.split('\0').some((arg) => arg.includes(`${runDir}/`) || arg.endsWith(runDir))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}

function readState(file: string): LaneState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LaneState;
  } catch {
    return undefined;
  }
}

/** Istio kinds a candidate may have created; a new lab starts without any of them (the lane's own stay). */
const LAB_KINDS = ['ServiceEntry', 'Sidecar', 'VirtualService', 'DestinationRule', 'Gateway', 'WorkloadEntry'];

async function clearLab(k8s: K8sOps): Promise<void> {
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
    }
  }
}

class StackLiveLab implements LiveLab {
  private synced?: Promise<unknown>;
  constructor(
    readonly lane: ControlPlaneLane,
    readonly k8s: K8sOps,
    readonly kubeconfig: string,
    readonly gradedBy: string,
  ) {}

  /** One barrier per command: istiod has pushed what the cluster holds now, however it got there. */
  private sync(): Promise<unknown> {
    this.synced ??= this.lane.syncLive();
    return this.synced;
  }

  async observe(probe: Parameters<LiveLab['observe']>[0]) {
    await this.sync();
    return this.lane.observeLive(probe);
  }

  async resources() {
    await this.sync();
    return (await readClusterResources(this.k8s)).resources;
  }

  async notes() {
    await this.sync();
    return (await readClusterResources(this.k8s)).notes;
  }
}

export async function stackBackend(opts: StackBackendOptions = {}): Promise<LiveBackend> {
  const env = opts.env ?? process.env;
  const dir = join(stateDir(env), 'lab');
  const stateFile = join(dir, 'stack.json');
  const istioctl = findIstioctlBuildSync(undefined, env);
  if (!istioctl)
    throw new EnvironmentError(
      'istioctl of the pinned build is not built; run `egress-conformance tools install istioctl-build` (needs Go)',
    );

  const stopRecorded = (say: (l: string) => void): boolean => {
    const state = readState(stateFile);
    if (!state) {
      rmSync(stateFile, { force: true });
      return false;
    }
    say(`stopping the lab stack started ${state.startedAt} (pids ${state.processes.map((p) => p.pid).join(', ')})`);
    ControlPlaneLane.stopRecorded(state);
    rmSync(stateFile, { force: true });
    return true;
  };

  const attach = (state: LaneState): StackLiveLab => {
    const lane = ControlPlaneLane.attach(state);
    return new StackLiveLab(lane, new ClientNodeK8s(state.kubeconfig), state.kubeconfig, `istiod ${state.istioVersion}`);
  };

  const startStack = async (say: (l: string) => void): Promise<LaneState> => {
    mkdirSync(dir, { recursive: true });
    const lane = new ControlPlaneLane({ detached: true, onProgress: say });
    // Ctrl-C before the state file exists: nothing else knows these pids, so stop them here.
    const release = onInterrupt(async (sig) => {
      // The lane stops what it has registered; a server still starting is not registered yet, so its
      // processes are found by the fresh run dir on their command line (theirs alone: mkdtemp names it).
      const runDir = lane.runDir;
      await lane.teardown();
      if (runDir) killByRunDir(runDir);
      say('interrupted: the lab stack that was starting is stopped');
      process.exit(exitCodeFor(sig));
    });
    try {
      await lane.setup();
      const state = lane.state();
      writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
      return state;
    } catch (e) {
      await lane.teardown();
      throw e;
    } finally {
      release();
    }
  };

  return {
    async start(lab: Lab, say) {
      let state = readState(stateFile);
      if (state && ControlPlaneLane.isAlive(state)) {
        // A stack is up (an earlier lab, or one a closed shell left): keep its processes, remove that lab.
        say(`reusing the lab stack started ${state.startedAt}; removing the previous lab's resources`);
        await clearLab(new ClientNodeK8s(state.kubeconfig));
      } else {
        // Whatever is left of a dead or half-started stack goes first (its recorded pids only).
        stopRecorded(say);
        state = await startStack(say);
      }
      const k8s = new ClientNodeK8s(state.kubeconfig);
      say(`installing Istio from ${lab.install}`);
      await installOperator(k8s, istioctl, lab.install, dir);
      const start = loadResourceFiles(lab.start);
      for (const r of [...start.serviceEntries, ...start.sidecars, ...(start.routing ?? [])])
        await k8s.create(asKubectlApplied(r.manifest, r.namespace));
      const live = attach(state);
      // The lab's client Pods exist from the start (kubectl get pods shows them), and istiod has pushed
      // the starting state before the candidate's first command.
      for (const source of clientsOf(lab)) await live.observe(probeOf({ ...lab.checks.find((c) => c.from === source)!, from: source }));
      return { live, handle: stateFile };
    },

    async attach(handle) {
      const state = readState(handle);
      if (!state) return undefined;
      if (!ControlPlaneLane.isAlive(state)) {
        // Part of it died (a reboot, a kill): end the rest, so nothing half-alive stays behind.
        stopRecorded(() => {});
        return undefined;
      }
      return attach(state);
    },

    async stop(handle, say) {
      return handle === stateFile ? stopRecorded(say) : false;
    },
  };
}
