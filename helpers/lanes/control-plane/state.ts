// What a detached stack leaves behind for a later command (the warm stack, exam labs): enough to talk to
// it and to end it. The shape the labs and helpers/stack read; `stack` holds the stack's own state.
import { readFileSync } from 'node:fs';
import type { PilotDiscoveryPin } from '../../tools/pilot-discovery.ts';
import type { IstiodAddresses } from './istiod.ts';
import { ControlPlaneStack, type StackState } from './stack.ts';

export interface LaneState {
  runId: string;
  runDir: string;
  kubeconfig: string;
  /** The kube-apiserver URL, from the kubeconfig. */
  apiServer: string;
  istioVersion: string;
  goModuleVersion: string;
  istiod: { addresses: IstiodAddresses; logFile: string; binary: string; pid: number };
  /** istiod first, then the cluster's components (etcd, kube-apiserver, controllers, kwok). */
  processes: { name: string; pid: number; binary: string }[];
  generation: number;
  startedAt: string;
  stack: StackState;
}

export const LaneStateHelpers = {
  of(stack: StackState, runId: string, pin: PilotDiscoveryPin, generation: number): LaneState {
    return {
      runId,
      runDir: stack.runDir,
      kubeconfig: stack.kubeconfig,
      apiServer: serverOf(stack.kubeconfig),
      istioVersion: pin.istioVersion,
      goModuleVersion: pin.goModuleVersion,
      istiod: stack.istiod,
      processes: ControlPlaneStack.processes(stack),
      generation,
      startedAt: new Date().toISOString(),
      stack,
    };
  },
};

function serverOf(kubeconfig: string): string {
  try {
    // kwokctl writes `server: https://127.0.0.1:PORT` once, under its one cluster.
    const text = readFileSync(kubeconfig, 'utf8');
    return /server:\s*(\S+)/.exec(text)?.[1] ?? '';
  } catch {
    return '';
  }
}
