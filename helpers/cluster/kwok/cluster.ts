// A local Kubernetes cluster made by kwokctl (`--runtime binary`): etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and the kwok controller as processes on 127.0.0.1, from the
// pinned local builds. kwok plays the kubelet of one fake Node, so Deployments become scheduled, Running,
// Ready Pods with IPs and EndpointSlices through the real controllers.
//
// kwokctl starts its components in their own sessions (pkg/utils/exec: Setsid) and records their pids
// under <workdir>/clusters/<name>/pids/, so they outlive kwokctl itself. This module ends them with
// `kwokctl delete cluster` on teardown and Ctrl-C, and by those pid files when the process exits
// otherwise; a detached cluster (the warm stack) is ended from its recorded state.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../../model/errors.ts';
import { ClientNodeK8s, type K8sOps, loadClientNode } from '../../k8s/client.ts';
import { pollUntil } from '../../process/poll.ts';
import { PINNED } from '../../tools/versions.ts';
import { freeLoopbackPort } from '../../process/ports.ts';
import { kwokClusterBinaries } from './binaries.ts';
import { fakeNode, kwokctlConfigurationYaml, NODE_NAME, type PodPortForward } from './config.ts';
import { failureCause } from './kwokctl-output.ts';
import { killPids, recordedPids, sameProgram } from './pids.ts';
import { warmCustomResources } from './warm-custom-resources.ts';

export interface KwokClusterOptions {
  /** The run's own folder; kwokctl's workdir (KWOK_WORKDIR) is made inside it. */
  dir: string;
  /** Unique per run; default `iec-<random>`. */
  name?: string;
  /** Build missing binaries instead of refusing. */
  build?: boolean;
  /** The cluster outlives this process (the warm stack); no exit hook ends it. */
  detached?: boolean;
  /** An etcd snapshot to restore right after the cluster starts (see snapshot.ts). */
  snapshot?: string;
  /** Ports of Pods that lead to local processes (`kubectl port-forward` reaches them; config.ts). */
  portForwards?: PodPortForward[];
  readyTimeoutMs?: number;
  onProgress?: (line: string) => void;
  /** Called once kwokctl is running: this process's own work that can overlap the components' start. */
  whileStarting?: () => void;
  /**
   * Return as soon as the API server answers, leaving the restored Pods' replacement and the Node's kubelet port
   * to `settled`, which the caller awaits before it calls the cluster ready (work of its own goes on meanwhile).
   */
  settleLater?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** `etcdutl snapshot restore` into <clusterDir>/etcd, the data dir kwokctl's binary runtime gives etcd. */
async function restoreEtcdData(etcdutl: string, snapshot: string, clusterDir: string): Promise<void> {
  mkdirSync(clusterDir, { recursive: true });
  const r = await execa(etcdutl, ['snapshot', 'restore', snapshot, '--data-dir', join(clusterDir, 'etcd')], {
    reject: false,
    all: true,
    timeout: 60_000,
    stdin: 'ignore',
  });
  if (r.exitCode !== 0)
    throw new EnvironmentError(
      `etcdutl snapshot restore ${snapshot} failed (exit ${r.exitCode})${failureCause(String(r.all ?? r.message))}`,
    );
}

/** What a later command needs to talk to the cluster and to end it. */
export interface KwokClusterState {
  name: string;
  workdir: string;
  kubeconfig: string;
  kwokctl: string;
  processes: { name: string; pid: number; binary: string }[];
}

export interface KwokTimings {
  createMs: number;
  restoreMs: number;
  nodeMs: number;
}

const owned = new Set<KwokCluster>();
let hookInstalled = false;

export class KwokCluster {
  timings: KwokTimings = { createMs: 0, restoreMs: 0, nodeMs: 0 };
  /** Done when the restored Pods are replaced and the Node names this cluster's kwok controller (see create). */
  settled: Promise<void> = Promise.resolve();
  /** Done when the API server serves every custom resource (warm-custom-resources.ts); never rejects. */
  warmed: Promise<void> = Promise.resolve();
  private readonly stopWarming = new AbortController();
  private deleted = false;
  /** `kwokctl create cluster` while it runs (create goes on before it exits); ended by delete. */
  private creating?: { kill(): boolean };

  private constructor(
    readonly name: string,
    readonly workdir: string,
    readonly kwokctl: string,
    private readonly env: Record<string, string>,
    readonly k8s: K8sOps,
  ) {}

  /** kwokctl's own kubeconfig of this cluster (client certificates in the workdir). */
  get kubeconfig(): string {
    return join(this.clusterDir, 'kubeconfig.yaml');
  }

  get clusterDir(): string {
    return join(this.workdir, 'clusters', this.name);
  }

  static async create(opts: KwokClusterOptions): Promise<KwokCluster> {
    const say = opts.onProgress ?? (() => {});
    // The API client is needed as soon as the API server answers; its load overlaps the restore and kwokctl.
    void loadClientNode();
    const { kwokctl, binaries } = await kwokClusterBinaries(opts);
    const name = opts.name ?? `iec-${randomBytes(4).toString('hex')}`;
    const workdir = join(opts.dir, 'kwok');
    mkdirSync(workdir, { recursive: true });
    const configFile = join(opts.dir, 'kwokctl.yaml');
    const [kubeApiserver, etcd, etcdPeer, kubeControllerManager, kubeScheduler, kwokController] = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(() => freeLoopbackPort()),
    );
    writeFileSync(
      configFile,
      kwokctlConfigurationYaml(
        {
          binaries,
          kubeVersion: PINNED.kubernetes.version,
          etcdVersion: PINNED.kubernetes.etcd,
          cacheDir: join(workdir, 'cache'),
          ports: {
            kubeApiserver: kubeApiserver!,
            etcd: etcd!,
            etcdPeer: etcdPeer!,
            kubeControllerManager: kubeControllerManager!,
            kubeScheduler: kubeScheduler!,
            kwokController: kwokController!,
          },
        },
        opts.portForwards,
      ),
    );
    // Only what kwokctl needs: a KWOK_* variable of the user's would override the configuration.
    const env = { PATH: opts.env?.PATH ?? process.env.PATH ?? '/usr/bin:/bin', HOME: opts.dir, KWOK_WORKDIR: workdir };
    const t0 = performance.now();
    const cluster = new KwokCluster(name, workdir, kwokctl, env, undefined as unknown as K8sOps);
    if (!opts.detached) cluster.ownUntilExit();
    try {
      // The snapshot goes into the data dir before etcd first starts (kwokctl's setup only makes that folder if
      // it is missing, pkg/kwokctl/runtime/binary/cluster_setup.go): the API server starts once, on the restored
      // data, instead of starting empty and being restarted by `kwokctl snapshot restore`.
      if (opts.snapshot) {
        say('cluster: restoring the Istio snapshot into its etcd data');
        await restoreEtcdData(binaries.etcdutl, opts.snapshot, cluster.clusterDir);
      }
      const tRestored = performance.now();
      const creating = execa(
        kwokctl,
        ['create', 'cluster', '--name', name, '--config', configFile, '--kubeconfig', join(opts.dir, 'kwokctl-kubeconfig.yaml')],
        { env, extendEnv: false, reject: false, all: true, timeout: opts.readyTimeoutMs ?? 120_000, stdin: 'ignore' },
      );
      cluster.creating = creating;
      // kwokctl forks every component and then asks `kubectl get --raw /version` every 200 ms before it exits
      // (runtime/binary/cluster_operation.go waitServed). The API server is asked here directly instead, so the
      // start goes on as soon as it answers; kwokctl's own exit is awaited in `settle`, and a failure of it
      // before then ends the wait at once.
      let kwokctlFailed: Error | undefined;
      const kwokctlDone = creating.then((r) => {
        if (r.exitCode !== 0)
          throw new EnvironmentError(
            `kwokctl create cluster ${name} failed (exit ${r.exitCode})${failureCause(String(r.all ?? r.message))}`,
          );
      });
      kwokctlDone.catch((e: Error) => {
        kwokctlFailed = e;
      });
      opts.whileStarting?.();
      const k8s = await cluster.waitReady(opts.readyTimeoutMs ?? 60_000, () => kwokctlFailed);
      // A restored cluster already holds Istio's CRDs: the API server starts serving them now, not at istiod's lists.
      if (opts.snapshot) cluster.warmed = warmCustomResources(k8s, cluster.stopWarming.signal);
      const t1 = performance.now();
      cluster.timings.createMs = t1 - tRestored;
      const settle = async () => {
        await kwokctlDone;
        if (opts.snapshot) await cluster.replaceRestoredPods();
        const t2 = performance.now();
        cluster.timings.restoreMs = tRestored - t0 + (t2 - t1);
        await k8s.apply(fakeNode());
        // The Node's kubelet port is where the API server sends `kubectl port-forward`, `logs` and `exec`: this
        // cluster's kwok controller. kwok writes it only while the Node is not Ready yet (its node-initialize
        // stage), so a Node restored from a snapshot still names the controller of the cluster it was saved from.
        await k8s.setNodeStatus(NODE_NAME, { daemonEndpoints: { kubeletEndpoint: { Port: kwokController } } });
        cluster.timings.nodeMs = performance.now() - t2;
      };
      if (!opts.settleLater) {
        await settle();
        return cluster;
      }
      cluster.settled = settle();
      // Awaited by the caller; a failure meanwhile must not go unheard before that.
      cluster.settled.catch(() => {});
      return cluster;
    } catch (err) {
      await cluster.delete();
      throw err;
    }
  }

  /** A cluster an earlier command started (detached): talked to, ended only by deleteRecorded. */
  static attach(state: KwokClusterState): KwokCluster {
    const workdirEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(state.workdir, '..'), KWOK_WORKDIR: state.workdir };
    return new KwokCluster(state.name, state.workdir, state.kwokctl, workdirEnv, new ClientNodeK8s(state.kubeconfig));
  }

  private async kwokctlRun(args: string[], timeoutMs = 60_000): Promise<void> {
    const r = await execa(this.kwokctl, [...args, '--name', this.name], {
      env: this.env,
      extendEnv: false,
      reject: false,
      all: true,
      timeout: timeoutMs,
      stdin: 'ignore',
    });
    if (r.exitCode !== 0)
      throw new EnvironmentError(`kwokctl ${args.join(' ')} failed (exit ${r.exitCode})${failureCause(String(r.all ?? r.message))}`);
  }

  /**
   * Waits until the API server lists Namespaces, or `failed` names kwokctl's failure. The API client is made once
   * kube-apiserver has been started: kwokctl writes the kubeconfig before it starts any component, so it is
   * complete by then (a client made from a half-written file would keep its error).
   */
  private async waitReady(timeoutMs: number, failed: () => Error | undefined): Promise<ClientNodeK8s> {
    let why = 'not asked yet';
    let k8s: ClientNodeK8s | undefined;
    const ok = await pollUntil(
      async () => {
        const failure = failed();
        if (failure) throw failure;
        if (!k8s) {
          if (!recordedPids(this.clusterDir).some((p) => p.name === 'kube-apiserver')) {
            why = 'kube-apiserver is not started yet';
            return false;
          }
          k8s = new ClientNodeK8s(this.kubeconfig);
          Object.assign(this, { k8s });
        }
        try {
          await k8s.list('v1', 'Namespace');
          return true;
        } catch (e) {
          why = (e as Error).message;
          return false;
        }
      },
      { timeoutMs, intervalMs: 20, maxIntervalMs: 40, factor: 1.3 },
    );
    if (!ok || !k8s)
      throw new EnvironmentError(`kube-apiserver of kwok cluster ${this.name} did not answer within ${timeoutMs} ms: ${why}`);
    return k8s;
  }

  /**
   * Saves etcd without the Node's Lease. A kwok controller started on a restored Lease first tries to create
   * it, is refused (it exists), and takes the Node over only on its retry 2.5 s later (node_lease_controller.go
   * sync, seen in its log): no Pod became Running before that. So the controller is paused while its Lease
   * is deleted and etcd is saved, and resumed after (it then makes the Lease again).
   */
  async snapshotSave(file: string): Promise<void> {
    const kwok = recordedPids(this.clusterDir).filter((p) => p.name === 'kwok-controller');
    const signal = (sig: NodeJS.Signals) => {
      for (const p of kwok) process.kill(p.pid, sig);
    };
    signal('SIGSTOP');
    try {
      await this.k8s.delete({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'kube-node-lease', name: NODE_NAME });
      await this.kwokctlRun(['snapshot', 'save', '--path', file]);
    } finally {
      signal('SIGCONT');
    }
  }

  /**
   * The restored Pods carry the IPs the kwok controller gave them before; a new kwok controller gives out the
   * same addresses again, so every restored Pod is force-deleted: their controllers make fresh ones.
   */
  private async replaceRestoredPods(): Promise<void> {
    const pods = await this.k8s.list('v1', 'Pod');
    await Promise.all(
      pods.map((p) =>
        this.k8s.delete({ apiVersion: 'v1', kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name }, { force: true }),
      ),
    );
  }

  state(): KwokClusterState {
    return {
      name: this.name,
      workdir: this.workdir,
      kubeconfig: this.kubeconfig,
      kwokctl: this.kwokctl,
      processes: recordedPids(this.clusterDir),
    };
  }

  /** `kwokctl delete cluster`: stops every component and removes the cluster's folder. Safe to call twice. */
  async delete(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    owned.delete(this);
    this.creating?.kill();
    this.stopWarming.abort();
    // SIGKILL first: the data is thrown away, and kube-apiserver's graceful drain costs seconds.
    killPids(this.clusterDir);
    await execa(this.kwokctl, ['delete', 'cluster', '--name', this.name], {
      env: this.env,
      extendEnv: false,
      reject: false,
      timeout: 30_000,
      stdin: 'ignore',
    });
    rmSync(this.clusterDir, { recursive: true, force: true });
  }

  /** Ends a recorded (detached) cluster, synchronously: its recorded pids only, then its folder. */
  static deleteRecorded(state: KwokClusterState): void {
    killPids(join(state.workdir, 'clusters', state.name));
    try {
      execFileSync(state.kwokctl, ['delete', 'cluster', '--name', state.name], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KWOK_WORKDIR: state.workdir },
        stdio: 'ignore',
        timeout: 30_000,
      });
    } catch {
      // the folder goes below either way
    }
    rmSync(join(state.workdir, 'clusters', state.name), { recursive: true, force: true });
  }

  /** Whether every recorded component is still the program recorded for it. */
  static isAlive(state: KwokClusterState): boolean {
    return state.processes.length > 0 && state.processes.every((p) => sameProgram(p.pid, p.binary));
  }

  private ownUntilExit(): void {
    owned.add(this);
    if (hookInstalled) return;
    hookInstalled = true;
    // 'exit' handlers run synchronously: only the pid files can be used here.
    process.on('exit', () => {
      for (const c of owned) killPids(c.clusterDir);
    });
  }
}
