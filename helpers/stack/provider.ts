// How the warm stack is made: the control-plane lane in its detached mode (a kwok cluster with Istio
// installed by `istioctl install`, and istiod, outliving the command; their pids go into the record). Everything else in helpers/stack talks to
// the stack through StackProvider, so moving to another cluster provider (kwok) changes this file only.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Lane } from '../lanes/lane.ts';
import type { PilotDiscoveryPin } from '../tools/pilot-discovery.ts';
import { endRecordedProcesses, type WarmRecord } from './warm.ts';

export interface StartOptions {
  pin: PilotDiscoveryPin;
  /** An IstioOperator file to install after the built-in ALLOW_ANY install (what `up -f` names). */
  operatorFile?: string;
  say: (line: string) => void;
}

export interface StackProvider {
  readonly name: string;
  /** Starts a detached stack and returns its record (not yet written). Ctrl-C while starting ends what started. */
  start(o: StartOptions): Promise<WarmRecord>;
  /** Ends a recorded stack (its recorded pids only) and removes what it made on disk. */
  stop(rec: WarmRecord): Promise<void>;
  /** A Lane over the running stack; its teardown leaves the stack running. */
  lane(rec: WarmRecord, say?: (line: string) => void): Promise<Lane>;
}

export const detachedControlPlane: StackProvider = {
  name: 'control-plane-detached',

  async start({ pin, operatorFile, say }) {
    const [{ ControlPlaneLane }, { onInterrupt, exitCodeFor }, { killProcessesNaming }] = await Promise.all([
      import('../lanes/control-plane/lane.ts'),
      import('../process/interrupt.ts'),
      import('../process/group.ts'),
    ]);
    // The IstioOperator is installed by the lane's own `istioctl install -f` (and its snapshot kept per file).
    const operator = operatorFile ? { text: readFileSync(operatorFile, 'utf8'), name: basename(operatorFile) } : undefined;
    const lane = new ControlPlaneLane({ detached: true, pin, onProgress: say, ...(operator ? { operator } : {}) });
    // Ctrl-C before the record exists: nothing else knows these pids, so they are ended here. A server
    // still starting is not registered with the lane yet; it is found by the run dir on its command line.
    const release = onInterrupt(async (sig) => {
      const runDir = lane.runDir;
      await lane.teardown();
      if (runDir) killProcessesNaming(runDir);
      say('interrupted: the stack that was starting is stopped');
      process.exit(exitCodeFor(sig));
    });
    try {
      await lane.setup();
      const state = lane.state();
      const [{ ClientNodeK8s }, { readMeshConfig }] = await Promise.all([import('../k8s/client.ts'), import('../k8s/istio.ts')]);
      const k8s = new ClientNodeK8s(state.kubeconfig);
      const baseMesh = (await readMeshConfig(k8s)) ?? {};
      delete baseMesh.connectTimeout; // the lane's own push marker, rewritten at every sync
      const a = state.istiod.addresses;
      return {
        format: 1,
        provider: this.name,
        build: { ...(pin.label ? { label: pin.label } : {}), goModuleVersion: state.goModuleVersion, istioVersion: state.istioVersion },
        ...(operatorFile ? { operator: operatorFile } : {}),
        kubeconfig: state.kubeconfig,
        runDir: state.runDir,
        endpoints: {
          'kube-apiserver': state.apiServer,
          'istiod xDS (gRPC)': a.grpc,
          // istioctl's port (the istiod Pod's 15012 leads here: kubectl port-forward, istioctl proxy-status).
          ...(a.secureGrpc ? { 'istiod xDS (TLS)': a.secureGrpc } : {}),
          'istiod debug (HTTP)': a.http,
        },
        processes: state.processes,
        baseMesh,
        startedAt: state.startedAt,
        providerState: state,
      };
    } catch (e) {
      const runDir = lane.runDir;
      await lane.teardown();
      if (runDir) killProcessesNaming(runDir);
      throw e;
    } finally {
      release();
    }
  },

  async stop(rec) {
    const state = rec.providerState as { stack?: unknown } | undefined;
    if (state?.stack) {
      // The lane's own way: istiod, then kwokctl's recorded cluster, then the run dir.
      const { ControlPlaneLane } = await import('../lanes/control-plane/lane.ts');
      try {
        ControlPlaneLane.stopRecorded(state as Parameters<typeof ControlPlaneLane.stopRecorded>[0]);
      } catch {
        // a part already gone: the recorded pids below are ended one by one
      }
    }
    endRecordedProcesses(rec);
  },

  async lane(rec, say) {
    const { WarmLane } = await import('./warm-lane.ts');
    return WarmLane.attach(rec, say);
  },
};
