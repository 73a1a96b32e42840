// Runs the real pilot-discovery (istiod) on loopback with file-based config, for the control-plane lane.
//
// Facts this relies on (paths in istio.io/istio at the pinned commit):
// - `--configDir` makes the config store a folder watch of *.yaml/*.yml files (pilot/pkg/config/kube/file,
//   pkg/kube/krt/files/files.go): fsnotify events, debounced 250 ms, then the WHOLE folder is re-read; one file
//   that fails to parse keeps the previous state, and an empty file is skipped (writes must be atomic).
// - `--meshConfig FILE` is watched through pkg/filewatcher (parent directory, content hash), debounced 100 ms
//   (pkg/kube/krt/files/files.go watchFile); a change triggers a full push.
// - Pushes are debounced by PILOT_DEBOUNCE_AFTER (100 ms default, pilot/pkg/features).
// - `/ready` needs the kube registry synced; readiness here is "an ADS stream answers", as the brief asks.
// - istiod needs a kube client at this commit (see fake-kube-api.ts), so a loopback fake API is started too.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync, unlinkSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pRetry, { AbortError } from 'p-retry';
import { stringify } from 'yaml';
import { EnvironmentError } from '../../model/errors.ts';
import { fetchSnapshot, type SidecarIdentity, type XdsSnapshot } from './ads-client.ts';
import { FakeKubeApi } from './fake-kube-api.ts';

export interface IstiodOptions {
  binary: string;
  /** Istio version string sent as ISTIO_VERSION by probe clients. */
  istioVersion: string;
  /** Initial mesh config (MeshConfig as YAML-able object). */
  mesh?: Record<string, unknown>;
  /** Namespaces known to the fake API server (ServiceEntry/Sidecar namespaces, probe sources). */
  namespaces?: string[];
  /** Keep the temp dir (logs, config) after stop, for debugging. */
  keepDir?: boolean;
  /** PILOT_DEBOUNCE_AFTER; istiod's default is 100ms. */
  debounceAfter?: string;
  /** Bound for the first ADS answer. */
  readyTimeoutMs?: number;
  extraEnv?: Record<string, string>;
}

export interface IstiodAddresses {
  grpc: string;
  http: string;
  monitoring: string;
  https: string;
  ctrlz: number;
}

/** The identity used for readiness and marker checks: a plain sidecar in the root namespace. */
export const PROBE_IDENTITY = (istioVersion: string): SidecarIdentity => ({
  namespace: 'istio-system', ip: '10.244.255.250', podName: 'iec-readiness', labels: {}, istioVersion,
});

const live = new Set<Istiod>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL whatever is left and remove temp dirs.
  process.on('exit', () => {
    for (const i of live) i.killSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      for (const i of live) i.killSync();
      // Keep the default behaviour (terminate) unless someone else also listens and decides.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.once(sig, handler);
  }
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Writes through a temp name with an extension istiod ignores, then renames: readers never see half a file. */
export function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/**
 * YAML for istiod: it parses with YAML 1.1 rules (sigs.k8s.io/yaml), where OFF/on/yes/n are booleans.
 * An unparsable mesh file is silently replaced by the last good one ("invalid mesh config, using last
 * known state"), so strings must be quoted the 1.1 way — the yaml library does that with version 1.1.
 */
export function toIstioYaml(value: unknown): string {
  return stringify(value, { version: '1.1' });
}

export class Istiod {
  readonly dir: string;
  readonly configDir: string;
  readonly meshFile: string;
  readonly logFile: string;
  readonly addresses: IstiodAddresses;
  readonly kube: FakeKubeApi;
  readonly startedAt: number;
  /** ms from spawn to the first ADS answer. */
  readyAfterMs = 0;
  private child?: ChildProcess;
  private exited?: { code: number | null; signal: NodeJS.Signals | null };
  private exitPromise?: Promise<void>;
  private stopped = false;

  private constructor(readonly opts: IstiodOptions, dir: string, addresses: IstiodAddresses, kube: FakeKubeApi) {
    this.dir = dir;
    this.configDir = join(dir, 'config');
    this.meshFile = join(dir, 'mesh', 'mesh.yaml');
    this.logFile = join(dir, 'istiod.log');
    this.addresses = addresses;
    this.kube = kube;
    this.startedAt = Date.now();
  }

  static async start(opts: IstiodOptions): Promise<Istiod> {
    if (!existsSync(opts.binary)) throw new EnvironmentError(`pilot-discovery binary ${opts.binary} does not exist`);
    const dir = await mkdtemp(join(tmpdir(), 'iec-istiod-'));
    const kube = new FakeKubeApi();
    try {
      await kube.start();
      for (const ns of new Set(['istio-system', 'default', ...(opts.namespaces ?? [])])) kube.ensureNamespace(ns);
      // The IP autoallocator (pilot/pkg/controllers/ipallocate) only watches ServiceEntries once their CRD
      // exists; with it, the lane can mirror ServiceEntries there and read back the addresses istiod assigns.
      kube.ensureCrd('networking.istio.io', 'v1', 'serviceentries', 'ServiceEntry');
      const [grpc, http, monitoring, https, ctrlz] = await Promise.all([1, 2, 3, 4, 5].map(() => freeLoopbackPort()));
      const addresses: IstiodAddresses = {
        grpc: `127.0.0.1:${grpc}`, http: `127.0.0.1:${http}`, monitoring: `127.0.0.1:${monitoring}`, https: `127.0.0.1:${https}`, ctrlz,
      };
      const istiod = new Istiod(opts, dir, addresses, kube);
      await istiod.spawnAndWait();
      return istiod;
    } catch (err) {
      await kube.stop();
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async spawnAndWait(): Promise<void> {
    mkdirSync(this.configDir, { recursive: true });
    mkdirSync(join(this.dir, 'mesh'), { recursive: true });
    writeFileSync(join(this.dir, 'kubeconfig'), this.kube.kubeconfig());
    this.writeMesh(this.opts.mesh ?? {});
    const args = [
      'discovery',
      `--configDir=${this.configDir}`,
      `--meshConfig=${this.meshFile}`,
      // A path that does not exist: istiod then uses default mesh networks (pilot/pkg/bootstrap/mesh.go).
      `--networksConfig=${join(this.dir, 'mesh', 'absent-networks.yaml')}`,
      '--registries=Kubernetes',
      `--kubeconfig=${join(this.dir, 'kubeconfig')}`,
      `--grpcAddr=${this.addresses.grpc}`,
      `--httpAddr=${this.addresses.http}`,
      `--httpsAddr=${this.addresses.https}`,
      `--monitoringAddr=${this.addresses.monitoring}`,
      // Empty secure address disables the TLS xDS port (server.go initSecureDiscoveryService).
      '--secureGRPCAddr=',
      '--ctrlz_address=127.0.0.1',
      `--ctrlz_port=${this.addresses.ctrlz}`,
      '--shutdownDuration=1s',
      '--log_output_level=default:info',
    ];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.dir,
      POD_NAMESPACE: 'istio-system',
      POD_NAME: 'istiod-iec',
      // No CA: the lane only uses plaintext xDS (pilot/pkg/features ENABLE_CA_SERVER).
      ENABLE_CA_SERVER: 'false',
      ...(this.opts.debounceAfter ? { PILOT_DEBOUNCE_AFTER: this.opts.debounceAfter } : {}),
      ...(this.opts.extraEnv ?? {}),
    };
    const logFd = openSync(this.logFile, 'a');
    try {
      this.child = spawn(this.opts.binary, args, { cwd: this.dir, env, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    installExitHooks();
    live.add(this);
    this.exitPromise = new Promise((resolve) => {
      this.child!.once('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
    });
    const t0 = Date.now();
    const timeout = this.opts.readyTimeoutMs ?? 60_000;
    try {
      await pRetry(
        async () => {
          if (this.exited) {
            throw new AbortError(`pilot-discovery exited (${this.exited.code ?? this.exited.signal}) before answering ADS; log ${this.logFile}:\n${this.logTail(20)}`);
          }
          await fetchSnapshot(this.addresses.grpc, PROBE_IDENTITY(this.opts.istioVersion), { timeoutMs: 5000 });
        },
        { retries: 1000, minTimeout: 50, maxTimeout: 500, factor: 1.5, maxRetryTime: timeout },
      );
    } catch (err) {
      await this.stop();
      if (err instanceof AbortError || (err as Error).message?.startsWith('pilot-discovery exited')) {
        throw new EnvironmentError((err as Error).message);
      }
      throw new EnvironmentError(`pilot-discovery did not answer ADS on ${this.addresses.grpc} within ${timeout} ms: ${(err as Error).message}\n${this.logTail(20)}`);
    }
    this.readyAfterMs = Date.now() - t0;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && !this.exited;
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Rewrites the mesh config file (MeshConfig fields, camelCase as in the `istio` ConfigMap). */
  writeMesh(mesh: Record<string, unknown>): void {
    // The Kubernetes Ingress controller would only watch the fake API; it is read at startup only
    // (pilot/pkg/bootstrap/configcontroller.go), so it is switched off unless the caller insists.
    writeAtomic(this.meshFile, toIstioYaml({ ingressControllerMode: 'OFF', ...mesh }));
  }

  /**
   * Replaces the config dir contents: `files` maps a base name to YAML text. Files not listed are removed.
   * Each file is renamed into place; istiod's 250 ms debounce folds the renames into one reload.
   */
  writeConfigFiles(files: Record<string, string>): void {
    const wanted = new Set(Object.keys(files).map((n) => (n.endsWith('.yaml') ? n : `${n}.yaml`)));
    for (const [name, text] of Object.entries(files)) {
      const file = name.endsWith('.yaml') ? name : `${name}.yaml`;
      writeAtomic(join(this.configDir, file), text);
    }
    for (const f of readdirSync(this.configDir)) {
      if (!wanted.has(f)) unlinkSync(join(this.configDir, f));
    }
  }

  /** GET a JSON debug endpoint on the loopback HTTP port (e.g. /debug/configz). */
  async debug<T = unknown>(path: string): Promise<T> {
    const res = await fetch(`http://${this.addresses.http}${path}`);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /** A fresh ADS fetch as the given sidecar: a new stream always sees istiod's current push context. */
  snapshot(identity: SidecarIdentity, opts: { nameTable?: boolean; timeoutMs?: number } = {}): Promise<XdsSnapshot> {
    return fetchSnapshot(this.addresses.grpc, identity, opts);
  }

  /** SIGKILL without waiting, for process exit hooks. */
  killSync(): void {
    if (this.child && !this.exited) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    live.delete(this);
    void this.kube.stop();
    if (process.env.EGRESS_KEEP_ISTIOD_DIR === '1') writeFileSync(join(this.dir, 'kube-requests.log'), this.kube.requestLog.join('\n'));
    if (!this.opts.keepDir && process.env.EGRESS_KEEP_ISTIOD_DIR !== '1') rmSync(this.dir, { recursive: true, force: true });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; removes the temp dir. Safe to call twice. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child && !this.exited) {
      this.child.kill('SIGTERM');
      const killed = await Promise.race([
        this.exitPromise!.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
      ]);
      if (!killed) {
        this.child.kill('SIGKILL');
        await this.exitPromise;
      }
    }
    live.delete(this);
    await this.kube.stop();
    if (process.env.EGRESS_KEEP_ISTIOD_DIR === '1') writeFileSync(join(this.dir, 'kube-requests.log'), this.kube.requestLog.join('\n'));
    if (!this.opts.keepDir && process.env.EGRESS_KEEP_ISTIOD_DIR !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
