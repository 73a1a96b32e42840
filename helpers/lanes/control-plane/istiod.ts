// The real pilot-discovery (istiod) on loopback, in Kubernetes mode against the run's own API server.
//
// Facts this relies on (istio.io/istio at the pinned commit):
// - With `--meshConfig` naming a file that does not exist, istiod reads its mesh config from ConfigMap
//   `istio` in POD_NAMESPACE and watches it (pilot/pkg/bootstrap/mesh.go), so the mesh the IstioOperator
//   installed is the one istiod runs with, and a change there is pushed to proxies.
// - ServiceEntries and Sidecars come from the API server through its CRD config store
//   (pilot/pkg/config/kube/crdclient); Pods through the Kubernetes registry, which matches a proxy to its
//   Pod by IP and takes the Pod's labels for workload selectors (serviceregistry/kube/controller/pod.go).
// - The IP auto-allocator shares the config store's ServiceEntry informer (same informer key in
//   pkg/kube/informerfactory), so it is started with istiod's informers whenever it wins leader election.
//   With file-based config there was no such informer, and one created after the factory had started was
//   never started: the start-order race the earlier file-based lane had to restart istiod for.
// - `/ready` on --httpAddr answers once the registries have synced; the lane then also waits for an ADS
//   stream to answer.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '../../process/poll.ts';
import { EnvironmentError } from '../../model/errors.ts';
import { AdsChannel, fetchClusters, fetchSnapshot } from './ads-client.ts';
import type { SidecarIdentity } from './proxy-node.ts';
import type { XdsSnapshot } from './xds-types.ts';
import { freeLoopbackPort, ManagedProcess } from './process.ts';

export interface IstiodOptions {
  binary: string;
  /** The run's kubeconfig (its own API server). */
  kubeconfig: string;
  /** Folder for the log and HOME. */
  dir: string;
  /** Its listeners (pickIstiodAddresses); default free ports. */
  addresses?: IstiodAddresses;
  /** Istio version string sent as ISTIO_VERSION by the readiness client. */
  istioVersion: string;
  detached?: boolean;
  /** PILOT_DEBOUNCE_AFTER; istiod's default is 100ms. */
  debounceAfter?: string;
  readyTimeoutMs?: number;
  extraEnv?: Record<string, string>;
  /** More pilot-discovery flags (the webhook certificate: webhook.ts). */
  extraArgs?: string[];
}

export interface IstiodAddresses {
  grpc: string;
  http: string;
  monitoring: string;
  https: string;
  ctrlz: number;
  /** xDS over TLS (istioctl's port, 15012 in the Pod); absent in the state of a stack started before it. */
  secureGrpc?: string;
}

/** Free loopback ports for every istiod listener, chosen before the cluster starts (its port forwards name them). */
export async function pickIstiodAddresses(): Promise<IstiodAddresses> {
  const [grpc, http, monitoring, https, ctrlz, secureGrpc] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freeLoopbackPort()));
  return {
    grpc: `127.0.0.1:${grpc}`,
    http: `127.0.0.1:${http}`,
    monitoring: `127.0.0.1:${monitoring}`,
    https: `127.0.0.1:${https}`,
    ctrlz: ctrlz!,
    secureGrpc: `127.0.0.1:${secureGrpc}`,
  };
}

/**
 * The istiod Pod's ports (the Deployment of Istio's istio-discovery chart: 15010 grpc-xds, 15012 tls-xds,
 * 15014 http-monitoring, which also serves /debug (bootstrap/server.go initIstiodAdminServer), 15017
 * https-webhooks; 9876 ControlZ) → the local istiod's. istioctl reaches istiod by port-forwarding to a
 * Running Pod labelled app=istiod on 15012 (istioctl/pkg/multixds/gather.go queryEachShard), so with these
 * forwards `istioctl proxy-status` answers from the local istiod as from a Pod. 8080 (http-debug) is left
 * out: the gateway Pods in the same namespace listen on 8080, and a forward selects Pods by namespace only.
 */
export function istiodPodPorts(a: IstiodAddresses): Record<number, string> {
  const ports: Record<number, string> = { 15010: a.grpc, 15014: a.monitoring, 15017: a.https, 9876: `127.0.0.1:${a.ctrlz}` };
  if (a.secureGrpc) ports[15012] = a.secureGrpc;
  return ports;
}

/** The identity used for readiness and marker checks: a plain sidecar in the root namespace. */
export const PROBE_IDENTITY = (istioVersion: string): SidecarIdentity => ({
  namespace: 'istio-system',
  ip: '10.244.255.250',
  podName: 'iec-readiness',
  labels: {},
  istioVersion,
});

export class Istiod {
  readonly logFile: string;
  readyAfterMs = 0;
  /** The lane's fetches share one connection to istiod (each is still a stream of its own). */
  private readonly channel: AdsChannel;

  private constructor(
    readonly opts: IstiodOptions,
    readonly addresses: IstiodAddresses,
    readonly process: ManagedProcess | undefined,
    logFile: string,
  ) {
    this.logFile = logFile;
    this.channel = new AdsChannel(addresses.grpc);
  }

  /** An istiod started by an earlier command (a detached exam lab): talked to, never stopped from here. */
  static attach(opts: IstiodOptions, addresses: IstiodAddresses, logFile: string): Istiod {
    return new Istiod(opts, addresses, undefined, logFile);
  }

  static async start(opts: IstiodOptions): Promise<Istiod> {
    if (!existsSync(opts.binary)) throw new EnvironmentError(`pilot-discovery binary ${opts.binary} does not exist`);
    mkdirSync(opts.dir, { recursive: true });
    const addresses = opts.addresses ?? (await pickIstiodAddresses());
    const args = [
      'discovery',
      `--kubeconfig=${opts.kubeconfig}`,
      '--registries=Kubernetes',
      // Files that do not exist: the mesh then comes from ConfigMap istio, networks from the defaults.
      `--meshConfig=${join(opts.dir, 'no-mesh-file.yaml')}`,
      `--networksConfig=${join(opts.dir, 'no-networks-file.yaml')}`,
      `--grpcAddr=${addresses.grpc}`,
      `--httpAddr=${addresses.http}`,
      `--httpsAddr=${addresses.https}`,
      `--monitoringAddr=${addresses.monitoring}`,
      // The lane speaks plaintext xDS on loopback; the TLS port is istioctl's (proxy-status through the
      // istiod Pod's port 15012). istiod serves it with the certificate of --tlsCertFile, or not at all
      // without one (server.go initSecureDiscoveryService, createPeerCertVerifier).
      `--secureGRPCAddr=${addresses.secureGrpc ?? ''}`,
      '--ctrlz_address=127.0.0.1',
      `--ctrlz_port=${addresses.ctrlz}`,
      '--shutdownDuration=1s',
      '--log_output_level=default:info',
      ...(opts.extraArgs ?? []),
    ];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: opts.dir,
      POD_NAMESPACE: 'istio-system',
      POD_NAME: 'istiod-iec',
      // No CA: the lane only uses plaintext xDS (pilot/pkg/features ENABLE_CA_SERVER).
      ENABLE_CA_SERVER: 'false',
      ...(opts.debounceAfter ? { PILOT_DEBOUNCE_AFTER: opts.debounceAfter } : {}),
      ...(opts.extraEnv ?? {}),
    };
    const proc = ManagedProcess.spawn({
      name: 'pilot-discovery',
      binary: opts.binary,
      args,
      env,
      cwd: opts.dir,
      logFile: join(opts.dir, 'istiod.log'),
      detached: opts.detached,
    });
    const istiod = new Istiod(opts, addresses, proc, proc.spec.logFile);
    const t0 = Date.now();
    const timeout = opts.readyTimeoutMs ?? 60_000;
    let notYet = 'not asked yet';
    // Ready once /ready answers 200 and ADS serves a snapshot; a process that ended stops the wait.
    const ready = await pollUntil(
      async () => {
        if (proc.exited) return true;
        if (
          !(await fetch(`http://${addresses.http}/ready`).then(
            (r) => r.ok,
            () => false,
          ))
        ) {
          notYet = '/ready does not answer 200 yet';
          return false;
        }
        return fetchSnapshot(addresses.grpc, PROBE_IDENTITY(opts.istioVersion), { timeoutMs: 5000 }).then(
          () => true,
          (e: Error) => {
            notYet = e.message;
            return false;
          },
        );
      },
      // A short pause: `/ready` is a local HTTP call of a millisecond, and each pause is time the start waits for.
      { timeoutMs: timeout, intervalMs: 20, maxIntervalMs: 30, factor: 1.4 },
    );
    if (!ready || proc.exited) {
      const died = !!proc.exited;
      await proc.stop(1000);
      if (died) throw new EnvironmentError(proc.describeExit(20));
      throw new EnvironmentError(`pilot-discovery was not ready within ${timeout} ms: ${notYet}\n${proc.logTail(20)}`);
    }
    istiod.readyAfterMs = Date.now() - t0;
    return istiod;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 40): string {
    return this.log().trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** GET a JSON debug endpoint on the loopback HTTP port (e.g. /debug/configz). */
  async debug<T = unknown>(path: string): Promise<T> {
    const res = await fetch(`http://${this.addresses.http}${path}`);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /** A fresh ADS fetch as the given sidecar: a new stream always sees istiod's current push context. */
  snapshot(identity: SidecarIdentity, opts: { nameTable?: boolean; timeoutMs?: number } = {}): Promise<XdsSnapshot> {
    return fetchSnapshot(this.addresses.grpc, identity, { ...opts, channel: this.channel });
  }

  /** The clusters of a fresh ADS fetch (CDS alone) as the given sidecar. */
  clusters(identity: SidecarIdentity, opts: { timeoutMs?: number } = {}): Promise<XdsSnapshot['clusters']> {
    return fetchClusters(this.addresses.grpc, identity, { ...opts, channel: this.channel });
  }

  async stop(): Promise<void> {
    this.channel.close();
    await this.process?.stop(3000);
  }
}
