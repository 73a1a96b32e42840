// The lane's stack: a kwok cluster (helpers/cluster/kwok), Istio installed on it by `istioctl install`
// (or restored from the snapshot of that install), and the pinned istiod as a local process against it,
// serving Istio's validating and injection webhooks to the cluster's API server. Started fresh per run, or detached for
// the warm stack (`up`), which later commands attach to from its recorded state.
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KwokCluster, type KwokClusterState } from '../../cluster/kwok/cluster.ts';
import { kwokClusterBinaries } from '../../cluster/kwok/binaries.ts';
import { findSnapshot, storeSnapshot } from '../../cluster/kwok/snapshot.ts';
import { ClientNodeK8s, type K8sOps } from '../../k8s/client.ts';
import { ISTIO_NAMESPACE } from '../../k8s/istio.ts';
import { EnvironmentError } from '../../model/errors.ts';
import type { PilotDiscoveryPin } from '../../tools/pilot-discovery.ts';
import { findIstioctlBuildSync } from '../../tools/pilot-locate.ts';
import { ensurePilotDiscovery, installPilotDiscovery } from '../../tools/pilot-install.ts';
import { installOperator, istioctlInstall, snapshotParts, waitIstioPods } from './istio-install.ts';
import { Istiod, type IstiodAddresses, type IstiodOptions, istiodPodPorts, pickIstiodAddresses } from './istiod.ts';
import { preloadAdsProtos } from './xds-decode.ts';
import { isRecordedAlive, killRecorded, removeOnExit } from './process.ts';
import { reapOnOwnerDeath } from '../../process/reaper.ts';
import {
  INJECTOR_CHECK,
  istiodCertArgs,
  makeWebhookCerts,
  pointInjectionAtLocalIstiod,
  pointValidationAtLocalIstiod,
  type WebhookCerts,
  waitValidationRefuses,
  webhookCertsIn,
} from './webhook.ts';
import { waitInjectorAnswers } from '../../k8s/injector.ts';

export interface StackOptions {
  pin: PilotDiscoveryPin;
  /** pilot-discovery path; otherwise located (env, cache, PATH) or built when `build` is set. */
  binary?: string;
  /** Build what is missing instead of refusing. */
  build?: boolean;
  /** Processes outlive this Node process (the warm stack); teardown or stopRecorded ends them. */
  detached?: boolean;
  /** Keep the run dir after teardown. */
  keepDir?: boolean;
  /** IstioOperator text to install (default fixtures/istio/ALLOW_ANY.yaml); the snapshot is per text. */
  operator?: { text: string; name: string };
  debounceAfter?: string;
  onProgress?: (line: string) => void;
  /**
   * Work that needs the cluster but not istiod (the lane's plain client Pods), done while istiod starts;
   * its failure is the start's.
   */
  whileIstiodStarts?: (k8s: K8sOps) => Promise<unknown>;
}

/** The flags and environment of the lane's istiod: the stack's own, and a second one started later (startSecondIstiod). */
export function laneIstiodOptions(p: {
  binary: string;
  kubeconfig: string;
  dir: string;
  istioVersion: string;
  addresses: IstiodAddresses;
  certs: WebhookCerts;
  detached?: boolean;
  debounceAfter?: string;
}): IstiodOptions {
  return {
    binary: p.binary,
    kubeconfig: p.kubeconfig,
    dir: p.dir,
    istioVersion: p.istioVersion,
    detached: p.detached,
    addresses: p.addresses,
    extraArgs: istiodCertArgs(p.certs),
    // As the installed Deployment sets it: the validation controller watches the webhook
    // configurations labelled istio.io/rev=<REVISION> (pilot/pkg/bootstrap/options.go, REVISION).
    // PILOT_MAX_REQUESTS_PER_SECOND: istiod admits new ADS streams at 15 + 5 × cores a second, one at a
    // time (pilot/pkg/features/tuning.go RequestLimit; xds/discovery.go WaitForRequestLimit, burst 1):
    // 25 a second here, a guard against a fleet of proxies reconnecting at once. The lane opens a fresh
    // stream for every fetch and would wait about 40 ms for each; the limit decides when a stream is
    // served, never what it is sent.
    extraEnv: { REVISION: 'default', PILOT_MAX_REQUESTS_PER_SECOND: '10000' },
    // istiod waits this long for more changes before a push (default 100ms). The lane makes one change
    // at a time and then waits for it, so a short quiet period only removes idle time; what is pushed
    // is the same (pilot/pkg/features PILOT_DEBOUNCE_AFTER).
    debounceAfter: p.debounceAfter ?? '1ms',
  };
}

/**
 * A second istiod of the same build, flags and certificates against a running stack's cluster, on ports of its
 * own, in `<runDir>/<name>`; the stack's istiod keeps running and keeps serving the webhooks. Ended by its stop()
 * (and with this process). For answers istiod leaves to its own process state (variance.ts).
 */
export async function startSecondIstiod(p: {
  binary: string;
  kubeconfig: string;
  runDir: string;
  name: string;
  istioVersion: string;
}): Promise<Istiod> {
  const dir = join(p.runDir, p.name);
  mkdirSync(dir, { recursive: true });
  return Istiod.start(
    laneIstiodOptions({
      binary: p.binary,
      kubeconfig: p.kubeconfig,
      dir,
      istioVersion: p.istioVersion,
      addresses: await pickIstiodAddresses(),
      certs: webhookCertsIn(join(p.runDir, 'webhook-certs')),
    }),
  );
}

/** How long each stage of start took, for the benchmark and the README. */
export interface StackTimings {
  clusterMs: number;
  /** Snapshot restore (fromSnapshot) or `istioctl install` + snapshot save. */
  istioMs: number;
  fromSnapshot: boolean;
  istiodMs: number;
  webhookMs: number;
  totalMs: number;
}

/** What a later command needs to use the stack and to end it. */
export interface StackState {
  runDir: string;
  kubeconfig: string;
  cluster: KwokClusterState;
  istiod: { addresses: IstiodAddresses; logFile: string; binary: string; pid: number };
  istioctl: string;
  operator: string;
}

export class ControlPlaneStack {
  timings?: StackTimings;

  private constructor(
    readonly runDir: string,
    readonly cluster: KwokCluster,
    readonly istiod: Istiod,
    readonly istioctl: string,
    readonly operator: string,
    private readonly releaseDir?: () => void,
    private readonly keepDir = false,
  ) {}

  get k8s(): K8sOps {
    return this.cluster.k8s;
  }

  get kubeconfig(): string {
    return this.cluster.kubeconfig;
  }

  /**
   * Starts the stack; once more, on fresh ports, when a port picked free was taken by another process before
   * ours bound it (several stacks starting on one machine: istiod's or a cluster component's `bind: address
   * already in use`). Everything the failed attempt started is already ended by then.
   */
  static async start(o: StackOptions): Promise<ControlPlaneStack> {
    try {
      return await ControlPlaneStack.startOnce(o);
    } catch (e) {
      if (!/address already in use/.test((e as Error).message)) throw e;
      o.onProgress?.('control-plane: a port picked for the stack was taken meanwhile by another process; starting again on other ports');
      return ControlPlaneStack.startOnce(o);
    }
  }

  private static async startOnce(o: StackOptions): Promise<ControlPlaneStack> {
    const say = o.onProgress ?? (() => {});
    const build = !!o.build;
    const binary = o.binary ?? (await ensurePilotDiscovery({ build, onProgress: o.onProgress, pin: o.pin })).path;
    const istioctl =
      findIstioctlBuildSync(o.pin) ??
      (build ? await installPilotDiscovery({ program: 'istioctl', pin: o.pin, onProgress: o.onProgress }) : undefined);
    if (!istioctl)
      throw new EnvironmentError(
        `istioctl of the pinned Istio build ${o.pin.goModuleVersion} is not built; run \`egress-conformance tools install istioctl-build\` (needs Go)`,
      );
    await kwokClusterBinaries({ build, onProgress: o.onProgress });
    const operator = o.operator ?? installOperator('ALLOW_ANY');
    const runDir = await mkdtemp(join(tmpdir(), 'iec-cp-'));
    const releaseDir = !o.detached && !o.keepDir ? removeOnExit(runDir) : undefined;
    // If this process is killed outright (no exit hook runs), what it started under runDir is ended anyway;
    // a detached stack is released once it is started, when its pids are the caller's to record.
    const releaseReaper = o.keepDir ? () => {} : reapOnOwnerDeath(runDir);
    const parts = snapshotParts(o.pin.goModuleVersion, operator.text);
    const snapshot = findSnapshot(parts);
    const t0 = performance.now();
    let cluster: KwokCluster | undefined;
    let istiod: Istiod | undefined;
    try {
      say(`control-plane: starting a kwok cluster${snapshot ? ` and restoring Istio (${operator.name}) from its snapshot` : ''}`);
      // istiod's ports first: the cluster's port forwards lead the istiod Pod's ports to them (istiodPodPorts).
      const addresses = await pickIstiodAddresses();
      const portForwards = [{ name: 'istiod', namespace: ISTIO_NAMESPACE, ports: istiodPodPorts(addresses) }];
      // The webhook's certificates need no cluster: made while it starts (three openssl runs).
      const certsMade = makeWebhookCerts(join(runDir, 'webhook-certs'));
      certsMade.catch(() => {});
      cluster = await KwokCluster.create({
        settleLater: !!snapshot,
        dir: runDir,
        build,
        detached: o.detached,
        snapshot,
        portForwards,
        onProgress: o.onProgress,
        // istiod's readiness is proven by an ADS fetch, whose protos would otherwise be parsed only then.
        whileStarting: preloadAdsProtos,
      });
      const t1 = performance.now();
      if (!snapshot) {
        say(`control-plane: cluster ready (${Math.round(t1 - t0)} ms); istioctl install -f ${operator.name}`);
        await istioctlInstall(istioctl, cluster.kubeconfig, operator.text, runDir);
        await storeSnapshot(parts, (f) => cluster!.snapshotSave(f));
      }
      const t2 = performance.now();
      say(
        snapshot
          ? 'control-plane: Istio restored; starting istiod while the restored Pods are replaced'
          : `control-plane: Istio installed (${Math.round(t2 - t1)} ms); starting istiod`,
      );
      const certs = await certsMade;
      // The webhooks are pointed at istiod while it starts. Both are awaited to the end, so a failure of either
      // (an API server that hangs up, an istiod that exits) is this start's error, never an unheard rejection,
      // and an istiod that started beside a failed webhook step is still known here and stopped.
      const pointWebhooks = async () => {
        await pointInjectionAtLocalIstiod(cluster!.k8s, addresses.https, certs.caFile);
        return pointValidationAtLocalIstiod(cluster!.k8s, addresses.https, certs.caFile);
      };
      mkdirSync(join(runDir, 'istiod'), { recursive: true });
      const [hooks, started, beside] = await Promise.allSettled([
        pointWebhooks(),
        Istiod.start(
          laneIstiodOptions({
            binary,
            kubeconfig: cluster.kubeconfig,
            dir: join(runDir, 'istiod'),
            istioVersion: o.pin.istioVersion,
            detached: o.detached,
            addresses,
            certs,
            debounceAfter: o.debounceAfter,
          }),
        ),
        // The lane's Pods after the restored ones are replaced (the replacement deletes every Pod it lists).
        cluster.settled.then(() => o.whileIstiodStarts?.(cluster!.k8s)),
      ]);
      if (started.status === 'fulfilled') istiod = started.value;
      if (hooks.status === 'rejected') throw hooks.reason;
      if (started.status === 'rejected') throw started.reason;
      if (beside.status === 'rejected') throw beside.reason;
      const validators = hooks.value;
      const running = started.value;
      const t3 = performance.now();
      // Restored Pods were force-deleted (fresh IPs); their Deployments bring them back meanwhile.
      // All three to the end, as above: none is left polling a stack that a failure of another tears down.
      const waits = await Promise.allSettled([
        waitValidationRefuses(cluster.k8s, validators, 30_000),
        waitInjectorAnswers(cluster.k8s, INJECTOR_CHECK),
        waitIstioPods(cluster.k8s, 60_000),
        cluster.warmed,
      ]);
      for (const w of waits) if (w.status === 'rejected') throw w.reason;
      const t4 = performance.now();
      if (o.detached) releaseReaper();
      const stack = new ControlPlaneStack(
        runDir,
        cluster,
        running,
        istioctl,
        operator.name,
        () => {
          releaseDir?.();
          releaseReaper();
        },
        !!o.keepDir,
      );
      stack.timings = {
        clusterMs: t1 - t0 - (snapshot ? cluster.timings.restoreMs : 0),
        istioMs: snapshot ? cluster.timings.restoreMs : t2 - t1,
        fromSnapshot: !!snapshot,
        istiodMs: t3 - t2,
        webhookMs: t4 - t3,
        totalMs: t4 - t0,
      };
      say(`control-plane: istiod ready, its validating webhook and sidecar injector answering (${Math.round(t4 - t0)} ms in all)`);
      return stack;
    } catch (err) {
      await istiod?.stop();
      await cluster?.delete();
      if (!o.keepDir) rmSync(runDir, { recursive: true, force: true });
      releaseDir?.();
      releaseReaper();
      throw err;
    }
  }

  state(): StackState {
    const i = this.istiod;
    return {
      runDir: this.runDir,
      kubeconfig: this.kubeconfig,
      cluster: this.cluster.state(),
      istiod: { addresses: i.addresses, logFile: i.logFile, binary: i.opts.binary, pid: i.pid! },
      istioctl: this.istioctl,
      operator: this.operator,
    };
  }

  /** Every process of the stack, for a state file. */
  static processes(state: StackState): { name: string; pid: number; binary: string }[] {
    return [{ name: 'pilot-discovery', pid: state.istiod.pid, binary: state.istiod.binary }, ...state.cluster.processes];
  }

  /** Whether istiod and every cluster component is still the program recorded for it. */
  static isAlive(state: StackState): boolean {
    return isRecordedAlive(state.istiod.pid, state.istiod.binary) && KwokCluster.isAlive(state.cluster);
  }

  /** Ends a recorded stack (its own pids only, then `kwokctl delete cluster`) and removes its run dir. */
  static stopRecorded(state: StackState): void {
    killRecorded(state.istiod.pid, state.istiod.binary);
    KwokCluster.deleteRecorded(state.cluster);
    rmSync(state.runDir, { recursive: true, force: true });
  }

  /** The stack of a recorded state: talked to, never stopped from here (stopRecorded does). */
  static attach(state: StackState, istioVersion: string): { k8s: K8sOps; istiod: Istiod; cluster: KwokCluster } {
    const istiod = Istiod.attach(
      { binary: state.istiod.binary, kubeconfig: state.kubeconfig, dir: join(state.runDir, 'istiod'), istioVersion },
      state.istiod.addresses,
      state.istiod.logFile,
    );
    return { k8s: new ClientNodeK8s(state.kubeconfig), istiod, cluster: KwokCluster.attach(state.cluster) };
  }

  /** istiod first (it would log every failed watch), then the cluster, then the run dir. Safe to call twice. */
  async stop(): Promise<void> {
    await this.istiod.stop();
    await this.cluster.delete();
    if (!this.keepDir && process.env.EGRESS_KEEP_ISTIOD_DIR !== '1') rmSync(this.runDir, { recursive: true, force: true });
    this.releaseDir?.();
  }
}
