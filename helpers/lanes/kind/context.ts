// What one kind-lane run is fixed to: its id, cluster name, own kubeconfig file, temp dir, pinned versions
// and the bounds of every wait. The phases read it; nothing here does I/O.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../../k8s/manifests.ts';
import { PINNED, type PinnedVersions } from '../../tools/versions.ts';
import { RUN_LABEL } from './servers.ts';

export { REPO_ROOT };
export const DEFAULT_CLUSTER_NAME = 'egress-conformance';
export const OWNER_MARKER = { namespace: 'kube-system', name: 'egress-conformance-owner' };
/** After the sync barrier, a verdict is confirmed by this many equal results in a row. */
export const CONSECUTIVE = 3;

export interface Timeouts {
  docker: number;
  /** `docker create` may pull an image. */
  dockerPull: number;
  kindCreate: number;
  /** Back-off before another `kind create` attempt (a retry, not a settle time). */
  kindCreateRetryDelay: number;
  kindDelete: number;
  /** Bound on rendering the IstioOperator (`istioctl manifest generate`). */
  istioInstall: number;
  deployment: number;
  webhook: number;
  pods: number;
  coredns: number;
  server: number;
  /** Bound on the sync barrier: istiod has the scenario, then every client sidecar has the config carrying it. */
  sync: number;
  probeExec: number;
  /** Bound on reaching CONSECUTIVE equal results for one probe. */
  probeConverge: number;
  /** Bound on the probe's access-log line appearing (pilot-agent starts Envoy with --file-flush-interval-msec 1000, pkg/envoy/proxy.go). */
  accessLog: number;
  tool: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  docker: 60_000,
  dockerPull: 300_000,
  kindCreate: 300_000,
  kindCreateRetryDelay: 5_000,
  kindDelete: 180_000,
  istioInstall: 180_000,
  deployment: 180_000,
  webhook: 120_000,
  pods: 300_000,
  coredns: 120_000,
  server: 90_000,
  sync: 120_000,
  probeExec: 20_000,
  probeConverge: 90_000,
  accessLog: 10_000,
  tool: 30_000,
};

export interface RunOptions {
  runId?: string;
  clusterName?: string;
  /** The run's temp dir (kubeconfig, TLS key and certificate, IstioOperators). */
  workDir?: string;
  keep?: boolean;
  reuse?: boolean;
  /** Istio version (istioctl is resolved at it); default the pinned one. */
  istioVersion?: string;
  versions?: PinnedVersions;
  timeouts?: Partial<Timeouts>;
  repoRoot?: string;
  /** After the cluster exists, `kind load docker-image` the client and Istio images (CI preloads them from its cache). */
  preloadImages?: boolean;
}

export interface RunContext {
  runId: string;
  clusterName: string;
  workDir: string;
  kubeconfig: string;
  repoRoot: string;
  keep: boolean;
  reuse: boolean;
  istioVersion: string;
  versions: PinnedVersions;
  timeouts: Timeouts;
  /** `egress-conformance.run=<runId>`, on every container this run creates. */
  runLabel: string;
  preloadImages: boolean;
}

export const CONTAINER_RUN_LABEL = RUN_LABEL;

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function runContext(opts: RunOptions = {}): RunContext {
  const runId = opts.runId ?? newRunId();
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(runId) || runId.length > 40) {
    throw new Error(`run id "${runId}" must be lower-case letters, digits and dashes (it names containers and labels)`);
  }
  const workDir = opts.workDir ?? join(tmpdir(), `egress-conformance-${runId}`);
  return {
    runId,
    clusterName: opts.clusterName ?? DEFAULT_CLUSTER_NAME,
    workDir,
    kubeconfig: join(workDir, 'kubeconfig'),
    repoRoot: opts.repoRoot ?? REPO_ROOT,
    keep: opts.keep ?? false,
    reuse: opts.reuse ?? false,
    istioVersion: opts.istioVersion ?? (opts.versions ?? PINNED).istio,
    versions: opts.versions ?? PINNED,
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
    runLabel: `${CONTAINER_RUN_LABEL}=${runId}`,
    preloadImages: opts.preloadImages ?? false,
  };
}

export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, canonical(o[k])]),
    );
  }
  return v;
}

export function toYaml(obj: unknown): string {
  return stringify(obj, { lineWidth: 0 });
}
