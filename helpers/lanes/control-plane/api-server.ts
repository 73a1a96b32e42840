// A real Kubernetes API server on loopback: etcd and kube-apiserver of the pinned versions, fresh for
// each run (own ports, own data dir, own certificates and kubeconfig). No controller-manager, scheduler
// or kubelet: the lane plays the kubelet's part where it must (a Pod's IP and readiness, written through
// the status subresource), and namespaces are never deleted (they would stay Terminating), which is why
// every run starts a fresh pair. Flags that matter here are explained where they are set.
import { execa } from 'execa';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '../../process/poll.ts';
import { stringify } from 'yaml';
import { EnvironmentError } from '../../model/errors.ts';
import { ensureKubeBinary } from '../../tools/kube-builds.ts';
import { freeLoopbackPort, ManagedProcess } from './process.ts';

export interface ApiServerOptions {
  /** The run's own directory (created by the caller, removed by the caller). */
  dir: string;
  /** Build etcd/kube-apiserver when they are not cached. */
  build?: boolean;
  detached?: boolean;
  readyTimeoutMs?: number;
  onProgress?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface ApiServerState {
  url: string;
  kubeconfig: string;
  etcd: { pid: number; binary: string; clientUrl: string };
  apiserver: { pid: number; binary: string };
}

/** Ports, paths and processes of one running pair. */
export class LocalApiServer {
  readyAfterMs = 0;
  etcdReadyAfterMs = 0;

  private constructor(
    readonly dir: string,
    readonly url: string,
    readonly kubeconfigFile: string,
    readonly token: string,
    readonly caFile: string,
    readonly etcd: ManagedProcess,
    readonly apiserver: ManagedProcess,
  ) {}

  static async start(opts: ApiServerOptions): Promise<LocalApiServer> {
    const env = opts.env ?? process.env;
    const say = opts.onProgress ?? (() => {});
    const etcdBin = await ensureKubeBinary('etcd', { build: !!opts.build, onProgress: say, env });
    const apiBin = await ensureKubeBinary('kube-apiserver', { build: !!opts.build, onProgress: say, env });
    const dir = opts.dir;
    const pki = join(dir, 'pki');
    mkdirSync(pki, { recursive: true });
    const [etcdClient, etcdPeer, securePort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);

    const t0 = performance.now();
    const clientUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    const etcd = ManagedProcess.spawn({
      name: 'etcd',
      binary: etcdBin,
      cwd: dir,
      logFile: join(dir, 'etcd.log'),
      env: { PATH: env.PATH ?? '/usr/bin:/bin', HOME: dir },
      detached: opts.detached,
      args: [
        '--name=iec',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=iec=${peerUrl}`,
        // Throw-away data: no fsync makes writes (every API call) fast; nothing survives the run anyway.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
    });
    const timeout = opts.readyTimeoutMs ?? 60_000;
    try {
      await waitFor(etcd, timeout, async () => (await fetch(`${clientUrl}/health`)).ok);
      const etcdReady = performance.now();

      const caFile = join(pki, 'serving.crt');
      const keyFile = join(pki, 'serving.key');
      await selfSignedCert(caFile, keyFile, dir);
      const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      writeFileSync(join(pki, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(join(pki, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
      const token = randomBytes(24).toString('hex');
      writeFileSync(join(pki, 'tokens.csv'), `${token},iec-admin,iec-admin,"system:masters"\n`, { mode: 0o600 });

      const url = `https://127.0.0.1:${securePort}`;
      const apiserver = ManagedProcess.spawn({
        name: 'kube-apiserver',
        binary: apiBin,
        cwd: dir,
        logFile: join(dir, 'kube-apiserver.log'),
        env: { PATH: env.PATH ?? '/usr/bin:/bin', HOME: dir },
        detached: opts.detached,
        args: [
          `--etcd-servers=${clientUrl}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${securePort}`,
          `--cert-dir=${join(dir, 'apiserver-certs')}`,
          `--tls-cert-file=${caFile}`,
          `--tls-private-key-file=${keyFile}`,
          `--token-auth-file=${join(pki, 'tokens.csv')}`,
          '--authorization-mode=RBAC',
          `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
          `--service-account-key-file=${join(pki, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
          '--service-cluster-ip-range=10.96.0.0/16',
          // The `kubernetes` Service's endpoints would point at 127.0.0.1, which the API refuses as an
          // endpoint address; nothing here needs them.
          '--endpoint-reconciler-type=none',
          '--profiling=false',
          '--v=0',
        ],
      });
      try {
        await waitFor(apiserver, timeout, async () => {
          const r = await execa(
            'curl',
            ['-sS', '--max-time', '2', '--cacert', caFile, '-H', `Authorization: Bearer ${token}`, `${url}/readyz`],
            { reject: false },
          );
          return r.exitCode === 0 && r.stdout.trim() === 'ok';
        });
      } catch (err) {
        await apiserver.stop(500);
        throw err;
      }
      const kubeconfigFile = join(dir, 'kubeconfig');
      writeFileSync(kubeconfigFile, kubeconfigYaml(url, caFile, token), { mode: 0o600 });
      const s = new LocalApiServer(dir, url, kubeconfigFile, token, caFile, etcd, apiserver);
      s.etcdReadyAfterMs = etcdReady - t0;
      s.readyAfterMs = performance.now() - etcdReady;
      return s;
    } catch (err) {
      await etcd.stop(500);
      throw err;
    }
  }

  state(): ApiServerState {
    return {
      url: this.url,
      kubeconfig: this.kubeconfigFile,
      etcd: {
        pid: this.etcd.pid!,
        binary: this.etcd.spec.binary,
        clientUrl: this.etcd.spec.args.find((a) => a.startsWith('--listen-client-urls='))!.split('=')[1]!,
      },
      apiserver: { pid: this.apiserver.pid!, binary: this.apiserver.spec.binary },
    };
  }

  /**
   * Throw-away data, so no graceful shutdown is owed: kube-apiserver spends 2–3 s draining on SIGTERM,
   * which nothing here needs. Both get a short grace, then SIGKILL.
   */
  async stop(): Promise<void> {
    await Promise.all([this.apiserver.stop(300), this.etcd.stop(300)]);
  }
}

/** Polls `ready` until it holds; a process that ends meanwhile is reported with its log, at once. */
async function waitFor(p: ManagedProcess, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  // A process that ended is an answer too: the check then stops the wait.
  const ok = await pollUntil(async () => !!p.exited || (await ready().catch(() => false)), {
    timeoutMs,
    intervalMs: 50,
    maxIntervalMs: 250,
    factor: 1.3,
  });
  if (p.exited) throw new EnvironmentError(p.describeExit());
  if (!ok) throw new EnvironmentError(`${p.spec.name} was not ready within ${timeoutMs} ms; log ${p.spec.logFile}:\n${p.logTail(10)}`);
}

/** A self-signed serving certificate for 127.0.0.1 and localhost, which the kubeconfig then trusts. */
async function selfSignedCert(certFile: string, keyFile: string, cwd: string): Promise<void> {
  const r = await execa(
    'openssl',
    [
      'req',
      '-x509',
      '-nodes',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '7',
      '-subj',
      '/CN=egress-conformance-apiserver',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { reject: false, cwd },
  );
  if (r.failed) {
    throw new EnvironmentError(
      r.exitCode === undefined || (r as { code?: string }).code === 'ENOENT'
        ? 'openssl not found on PATH; the local API server needs it for its serving certificate (apt-get install openssl)'
        : `openssl could not make the API server's certificate: ${r.stderr.trim().split('\n').pop()}`,
    );
  }
}

export function kubeconfigYaml(url: string, caFile: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'egress-conformance', cluster: { server: url, 'certificate-authority': caFile } }],
    users: [{ name: 'egress-conformance-admin', user: { token } }],
    contexts: [{ name: 'egress-conformance', context: { cluster: 'egress-conformance', user: 'egress-conformance-admin' } }],
    'current-context': 'egress-conformance',
  });
}
