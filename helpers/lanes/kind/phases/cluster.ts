// Preflight and the kind cluster: created with its own kubeconfig file, or (--reuse) an existing one that
// carries this tool's owner marker; deleted at the end only when this run created it.
import { join } from 'node:path';
import { EnvironmentError, StepError, UserError } from '../../../model/errors.ts';
import type { RunContext } from '../context.ts';
import { OWNER_MARKER } from '../context.ts';
import { failure, type K8sObject, type Runner } from '../runner.ts';
import type { RunState } from '../state.ts';

export async function preflight(r: Runner, ctx: RunContext, state: RunState): Promise<void> {
  await r.step('preflight: Docker reachable, pinned tools', async () => {
    const docker = await r.exec(['docker', 'info', '--format', '{{.ServerVersion}}'], {
      timeoutMs: ctx.timeouts.docker,
      assume: '<Docker server version>',
    });
    if (docker.exitCode !== 0) {
      throw new EnvironmentError(
        'Docker is not reachable (`docker info` failed): the kind lane needs a running Docker engine. ' +
          `Start Docker, or run the lane that needs no Docker: \`npm run e2e -- --lane control-plane\` [${failure(['docker', 'info'], docker)}]`,
      );
    }
    state.facts.docker = docker.stdout.trim();
    const openssl = await r.exec(['openssl', 'version'], { timeoutMs: ctx.timeouts.tool });
    if (openssl.exitCode !== 0) {
      throw new EnvironmentError(
        `openssl not found: it generates the HTTPS server's self-signed certificate. Install it (apt-get install openssl) [${failure(['openssl', 'version'], openssl)}]`,
      );
    }
    await r.resolveTool('kind', ctx.versions.kind);
    await r.resolveTool('istioctl', ctx.istioVersion);
  });
}

export function ownerMarker(ctx: RunContext): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: OWNER_MARKER.name, namespace: OWNER_MARKER.namespace, labels: { 'egress-conformance.io/managed': 'true' } },
    data: { createdBy: 'istio-egress-conformance', cluster: ctx.clusterName, runId: ctx.runId },
  };
}

const MARKER_REF = { apiVersion: 'v1', kind: 'ConfigMap', namespace: OWNER_MARKER.namespace, name: OWNER_MARKER.name };

/** kind's words when the cluster's node containers exist already (`node(s) already exist for a cluster …`). */
const ALREADY_EXISTS = /already exist/i;
/** A first `kind create` can fail on a busy host; Istio's CI retries too. */
const CREATE_ATTEMPTS = 3;

/**
 * Images the cluster's nodes pull: the clients' and Istio's (istioctl's default hub docker.io/istio, tag =
 * the Istio version). Preloaded in CI so runs do not hit registry rate limits.
 */
export function clusterImages(ctx: RunContext): string[] {
  return [
    ctx.versions.images.curl,
    ctx.versions.images.postgres,
    `docker.io/istio/pilot:${ctx.istioVersion}`,
    `docker.io/istio/proxyv2:${ctx.istioVersion}`,
  ];
}

export async function ensureCluster(r: Runner, ctx: RunContext, state: RunState): Promise<void> {
  await r.step(`cluster: ${ctx.reuse ? 'reuse or create' : 'create'} kind cluster ${ctx.clusterName}`, async () => {
    const name = ctx.clusterName;
    const list = await r.exec(['kind', 'get', 'clusters'], { timeoutMs: ctx.timeouts.docker, assume: '(no clusters)' });
    if (list.exitCode !== 0) throw new StepError(failure(['kind', 'get', 'clusters'], list));
    const exists = list.stdout
      .split('\n')
      .map((s) => s.trim())
      .includes(name);
    if (exists && !ctx.reuse) {
      throw new UserError(
        `a kind cluster named "${name}" already exists; it is left alone. Pass --reuse to run on it (only a cluster ` +
          `created by egress-conformance is reused), or delete it yourself: kind delete cluster --name ${name}`,
      );
    }
    if (exists) {
      await reuseCluster(r, ctx);
      state.clusterReady = true;
    } else {
      if (ctx.reuse) r.note(`--reuse: no cluster named ${name} yet, so one is created (and kept for the next --reuse only with --keep)`);
      await createCluster(r, ctx, state);
    }
    if (ctx.preloadImages) {
      const argv = ['kind', 'load', 'docker-image', '--name', name, ...clusterImages(ctx)];
      const res = await r.exec(argv, { timeoutMs: ctx.timeouts.dockerPull });
      if (res.exitCode !== 0) throw new StepError(failure(argv, res));
    }
    await waitDeployment(r, 'kube-system', 'coredns', ctx.timeouts.deployment);
  });
}

async function reuseCluster(r: Runner, ctx: RunContext): Promise<void> {
  const argv = ['kind', 'export', 'kubeconfig', '--name', ctx.clusterName, '--kubeconfig', ctx.kubeconfig];
  const res = await r.exec(argv, { timeoutMs: ctx.timeouts.docker });
  if (res.exitCode !== 0) throw new StepError(failure(argv, res));
  const marker = await r.read(
    `owner marker ConfigMap ${OWNER_MARKER.namespace}/${OWNER_MARKER.name}`,
    (k) => k.get(MARKER_REF),
    ownerMarker(ctx),
  );
  const data = (marker?.data ?? {}) as Record<string, string>;
  if (data.createdBy !== 'istio-egress-conformance') {
    throw new UserError(
      `--reuse: kind cluster "${ctx.clusterName}" was not created by egress-conformance (no ConfigMap ` +
        `${OWNER_MARKER.namespace}/${OWNER_MARKER.name}); refusing to act on it. Choose another cluster name.`,
    );
  }
  r.note(`reusing cluster ${ctx.clusterName} (created by run ${data.runId})`);
}

async function createCluster(r: Runner, ctx: RunContext, state: RunState): Promise<void> {
  const argv = [
    'kind',
    'create',
    'cluster',
    '--name',
    ctx.clusterName,
    '--config',
    join(ctx.repoRoot, 'clusters', 'kind.yaml'),
    '--image',
    ctx.versions.kindNodeImage,
    '--kubeconfig',
    ctx.kubeconfig,
    '--wait',
    '180s',
  ];
  // From here anything named so is this run's (it did not exist a moment ago): cleanup may delete it, even
  // if creation fails half-way or is interrupted. Unless kind says it already exists on the first attempt:
  // then another run created it between our `kind get clusters` and `kind create`, and it is that run's.
  state.ownsCluster = true;
  let res = await r.exec(argv, { timeoutMs: ctx.timeouts.kindCreate });
  // Only the first attempt's "already exists" is another run's cluster; after that it is our own half-built one.
  const raced = (res.exitCode !== 0 || res.timedOut) && ALREADY_EXISTS.test(`${res.stderr}\n${res.stdout}`);
  for (let i = 2; i <= CREATE_ATTEMPTS && (res.exitCode !== 0 || res.timedOut) && !raced; i++) {
    r.note(`kind create ${res.timedOut ? 'was stopped at its time limit' : 'failed'} (attempt ${i - 1}/${CREATE_ATTEMPTS}); retrying`);
    // A create killed at its bound leaves its half-built node behind (kind removes it only on its own
    // failures): ours, so deleted before the retry, which would otherwise find it "already exists".
    const del = ['kind', 'delete', 'cluster', '--name', ctx.clusterName, '--kubeconfig', ctx.kubeconfig];
    const gone = await r.exec(del, { timeoutMs: ctx.timeouts.kindDelete });
    if (gone.exitCode !== 0) throw new StepError(failure(del, gone));
    await r.backoff(ctx.timeouts.kindCreateRetryDelay);
    res = await r.exec(argv, { timeoutMs: ctx.timeouts.kindCreate });
  }
  if (res.exitCode !== 0 || res.timedOut) {
    if (raced) {
      state.ownsCluster = false;
      throw new UserError(
        `kind cluster "${ctx.clusterName}" appeared while this run was creating it (another run, started at the same time?): ` +
          `it is left alone. Use another cluster name, or wait for that run to end. [${failure(argv, res)}]`,
      );
    }
    throw new StepError(failure(argv, res, CREATE_ATTEMPTS));
  }
  state.clusterReady = true;
  await r.apply(ownerMarker(ctx));
}

export async function waitDeployment(r: Runner, namespace: string, name: string, timeoutMs: number): Promise<void> {
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name };
  await r.waitFor(
    `Deployment ${namespace}/${name} available`,
    timeoutMs,
    async (k) => (deploymentReady(await k.get(ref)) ? true : undefined),
    { assumed: true },
  );
}

export function deploymentReady(d: K8sObject | undefined): boolean {
  if (!d) return false;
  const spec = (d.spec ?? {}) as { replicas?: number };
  const status = (d.status ?? {}) as {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
  };
  const generation = (d.metadata as { generation?: number }).generation ?? 0;
  const want = spec.replicas ?? 1;
  return (
    (status.observedGeneration ?? 0) >= generation &&
    (status.updatedReplicas ?? 0) >= want &&
    (status.availableReplicas ?? 0) >= want &&
    // No old pods left over from a rollout.
    (status.replicas ?? 0) <= want
  );
}

/**
 * The run id in the cluster's owner marker; undefined when it cannot be read (no kubeconfig yet, API not
 * answering within the bound, no marker). Only a marker naming another run stops a delete.
 */
async function markerOwner(r: Runner, ctx: RunContext): Promise<string | undefined> {
  return r.read(
    `owner marker of cluster ${ctx.clusterName} (only a marker naming another run stops the delete)`,
    async (k) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const marker = await Promise.race([
          k.get(MARKER_REF),
          new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), ctx.timeouts.docker);
            timer.unref();
          }),
        ]);
        return ((marker?.data ?? {}) as Record<string, string>).runId;
      } catch {
        return undefined;
      } finally {
        clearTimeout(timer);
      }
    },
    ctx.runId,
  );
}

/** Cleanup: deletes the cluster, but only if this run created it and its marker does not name another run. */
export async function deleteClusterIfOurs(r: Runner, ctx: RunContext, state: RunState): Promise<void> {
  if (!state.ownsCluster) {
    r.note(`cluster ${ctx.clusterName} kept: this run did not create it`);
    return;
  }
  const owner = state.clusterReady ? await markerOwner(r, ctx) : undefined;
  if (owner !== undefined && owner !== ctx.runId) {
    r.note(`cluster ${ctx.clusterName} kept: its owner marker names run ${owner}, not this run (${ctx.runId})`);
    state.ownsCluster = false;
    return;
  }
  const argv = ['kind', 'delete', 'cluster', '--name', ctx.clusterName, '--kubeconfig', ctx.kubeconfig];
  const res = await r.exec(argv, { timeoutMs: ctx.timeouts.kindDelete, cleanup: true });
  if (res.exitCode !== 0) r.note(`(cleanup) ${failure(argv, res)}`);
  else state.ownsCluster = false;
}
