// Builds the ordered plan of a kind-lane run as data. The dry run prints the whole plan; KindLane (the lane
// a run uses) executes the same step builders one call at a time (setup, scenario application, probing,
// teardown), in the order buildPlan lays them out, so what the dry run shows is what a run does.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';
import type { CaseRun } from '../../catalogue/types.ts';
import type { MeshSettings, PolicyMode, ProbeSource, ResourceSet } from '../../model/types.ts';
import { POLICY_MODES } from '../../model/types.ts';
import { PINNED, type PinnedVersions } from '../../tools/versions.ts';
import type { Action, K8sObject, ProbeAction, Step } from './actions.ts';
import { VAR } from './actions.ts';
import { requireProbeToolkit, type ProbeToolkit } from './probe-toolkit.ts';
import { POSTGRES, RUN_LABEL, SERVER_HOSTS, serverContainerName } from './servers.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_CLUSTER_NAME = 'egress-conformance';
export const CONTROL_NAMESPACE = 'egress-control';
export const INJECTED_NAMESPACES = ['frontend', 'default'];
export const CLIENT_POD = 'egress-client';
export const OWNER_MARKER = { namespace: 'kube-system', name: 'egress-conformance-owner' };
/** A verdict counts once the same classification holds this many times in a row. */
export const CONSECUTIVE = 3;

export interface Timeouts {
  docker: number;
  /** `docker create` may pull an image. */
  dockerPull: number;
  kindCreate: number;
  /** Pause before another `kind create` attempt. */
  kindCreateRetryDelay: number;
  kindDelete: number;
  istioInstall: number;
  deployment: number;
  webhook: number;
  pods: number;
  coredns: number;
  server: number;
  probeExec: number;
  /** Bound on reaching CONSECUTIVE equal results for one probe. */
  probeConverge: number;
  /** Pause after resources or policy change, before the first probe (istiod push + Envoy update). */
  settle: number;
  tool: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  docker: 60_000,
  dockerPull: 300_000,
  kindCreate: 300_000,
  kindCreateRetryDelay: 5_000,
  kindDelete: 180_000,
  istioInstall: 420_000,
  deployment: 180_000,
  webhook: 120_000,
  pods: 300_000,
  coredns: 120_000,
  server: 90_000,
  probeExec: 20_000,
  probeConverge: 90_000,
  settle: 3_000,
  tool: 30_000,
};

export interface KindPlanOptions {
  /** The case runs (scenario × policy × probe) to observe. */
  cases: CaseRun[];
  /** Only cases whose id matches (`--test REGEX`). */
  testFilter?: RegExp | string;
  runId?: string;
  clusterName?: string;
  /** The run's temp dir (kubeconfig, TLS key and certificate, generated IstioOperators). */
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
  /** argv and container for a probe target; default helpers/probes/commands.ts. */
  probeCommands?: ProbeCommands;
}

export type ProbeCommands = Pick<ProbeToolkit, 'probeCommand' | 'probeContainer'>;

/** Everything the step builders need; fixed for one run. */
export interface PlanContext {
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

export interface ClientSpec {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  injected: boolean;
}

export interface InstallSpec {
  policy: PolicyMode;
  /** The IstioOperator file given to istioctl. */
  iopPath: string;
  /** Set when the file is generated (a scenario's meshConfig merged into the policy's IstioOperator). */
  content?: string;
  /** Same key, same install: consecutive scenarios do not reinstall. */
  key: string;
  /** meshConfig.defaultConfig is read at injection: when it changes the clients are recreated. */
  proxyKey: string;
}

export interface KindPlan {
  context: PlanContext;
  cases: CaseRun[];
  clients: ClientSpec[];
  steps: Step[];
  /** Run last on success, and on failure or Ctrl-C. */
  teardown: Step;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function planContext(opts: Omit<KindPlanOptions, 'cases' | 'probeCommands' | 'testFilter'> = {}): PlanContext {
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
    runLabel: `${RUN_LABEL}=${runId}`,
    preloadImages: opts.preloadImages ?? false,
  };
}

// ---------------------------------------------------------------------------------------------- setup

export function preflightStep(ctx: PlanContext): Step {
  return {
    phase: 'preflight',
    title: 'preflight: Docker reachable, pinned tools',
    actions: [
      {
        type: 'exec',
        argv: ['docker', 'info', '--format', '{{.ServerVersion}}'],
        timeoutMs: ctx.timeouts.docker,
        capture: 'docker.version',
        environmentError:
          'Docker is not reachable (`docker info` failed): the kind lane needs a running Docker engine. ' +
          'Start Docker, or run the lane that needs no Docker: `npm run e2e -- --lane control-plane`',
      },
      {
        type: 'exec',
        argv: ['openssl', 'version'],
        timeoutMs: ctx.timeouts.tool,
        environmentError: 'openssl not found: it generates the HTTPS server\'s self-signed certificate. Install it (apt-get install openssl)',
      },
      { type: 'resolve-tool', tool: 'kind', version: ctx.versions.kind },
      { type: 'resolve-tool', tool: 'istioctl', version: ctx.istioVersion },
    ],
  };
}

export function ownerMarker(ctx: PlanContext): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: OWNER_MARKER.name, namespace: OWNER_MARKER.namespace, labels: { 'egress-conformance.io/managed': 'true' } },
    data: { createdBy: 'istio-egress-conformance', cluster: ctx.clusterName, runId: ctx.runId },
  };
}

export function clusterStep(ctx: PlanContext): Step {
  const kc = ctx.kubeconfig;
  return {
    phase: 'cluster',
    title: `cluster: ${ctx.reuse ? 'reuse or create' : 'create'} kind cluster ${ctx.clusterName}`,
    actions: [
      {
        type: 'ensure-cluster',
        name: ctx.clusterName,
        reuse: ctx.reuse,
        listArgv: ['kind', 'get', 'clusters'],
        createArgv: [
          'kind', 'create', 'cluster',
          '--name', ctx.clusterName,
          '--config', join(ctx.repoRoot, 'clusters', 'kind.yaml'),
          '--image', ctx.versions.kindNodeImage,
          '--kubeconfig', kc,
          '--wait', '180s',
        ],
        exportArgv: ['kind', 'export', 'kubeconfig', '--name', ctx.clusterName, '--kubeconfig', kc],
        // A first `kind create` can fail on a busy host; Istio's CI retries too.
        attempts: 3,
        retryDelayMs: ctx.timeouts.kindCreateRetryDelay,
        timeoutMs: ctx.timeouts.kindCreate,
        marker: ownerMarker(ctx),
      },
      ...(ctx.preloadImages
        ? [{ type: 'exec', argv: ['kind', 'load', 'docker-image', '--name', ctx.clusterName, ...clusterImages(ctx)], timeoutMs: ctx.timeouts.dockerPull } as Action]
        : []),
      { type: 'wait', wait: { for: 'deployment', namespace: 'kube-system', name: 'coredns' }, timeoutMs: ctx.timeouts.deployment },
    ],
  };
}

/**
 * Images the cluster's nodes pull: the clients' and Istio's (istioctl's default hub docker.io/istio, tag =
 * the Istio version). Preloaded in CI so runs do not hit registry rate limits.
 */
export function clusterImages(ctx: PlanContext): string[] {
  return [ctx.versions.images.curl, ctx.versions.images.postgres, `docker.io/istio/pilot:${ctx.istioVersion}`, `docker.io/istio/proxyv2:${ctx.istioVersion}`];
}

export function serversStep(ctx: PlanContext): Step {
  const tls = join(ctx.workDir, 'tls');
  const labels = ['--label', ctx.runLabel, '--label', 'egress-conformance.io/managed=true'];
  const db = serverContainerName(ctx.runId, 'db');
  const web = serverContainerName(ctx.runId, 'web');
  const docker = (argv: string[], timeoutMs = ctx.timeouts.docker, capture?: string): Action => ({
    type: 'exec',
    argv: ['docker', ...argv],
    timeoutMs,
    ...(capture ? { capture } : {}),
  });
  const ipOf = (name: string) => ['inspect', '--format', '{{(index .NetworkSettings.Networks "kind").IPAddress}}', name];
  return {
    phase: 'servers',
    title: 'servers: PostgreSQL and HTTP/HTTPS outside the mesh, on the kind network',
    actions: [
      // kind creates the network; its subnet goes into the report so container IPs can be read against it.
      docker(['network', 'inspect', 'kind', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}'], ctx.timeouts.docker, 'kind.subnets'),
      { type: 'mkdir', path: tls },
      {
        type: 'exec',
        argv: [
          'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
          '-subj', '/CN=api.example.com',
          '-addext', 'subjectAltName=DNS:api.example.com,DNS:unlisted.example.com',
          '-keyout', join(tls, 'tls.key'), '-out', join(tls, 'tls.crt'),
        ],
        timeoutMs: ctx.timeouts.tool,
      },
      docker(['create', '--name', db, '--network', 'kind', ...labels,
        '-e', `POSTGRES_USER=${POSTGRES.user}`, '-e', `POSTGRES_PASSWORD=${POSTGRES.password}`, '-e', `POSTGRES_DB=${POSTGRES.database}`,
        ctx.versions.images.postgres], ctx.timeouts.dockerPull),
      docker(['start', db]),
      { type: 'write-file', path: join(ctx.workDir, 'nginx.conf'), content: nginxConf(ctx, db) },
      docker(['create', '--name', web, '--network', 'kind', ...labels, ctx.versions.images.nginx], ctx.timeouts.dockerPull),
      // docker cp rather than bind mounts: works with a remote Docker daemon and with Docker Desktop file sharing.
      docker(['cp', join(ctx.workDir, 'nginx.conf'), `${web}:/etc/nginx/nginx.conf`]),
      docker(['cp', tls, `${web}:/etc/nginx/tls`]),
      docker(['start', web]),
      { type: 'wait', wait: { for: 'server', argv: ['docker', 'exec', db, 'pg_isready', '-h', '127.0.0.1', '-U', POSTGRES.user, '-d', POSTGRES.database] }, timeoutMs: ctx.timeouts.server },
      { type: 'wait', wait: { for: 'server', argv: ['docker', 'exec', web, 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1/'] }, timeoutMs: ctx.timeouts.server },
      // PostgreSQL through the web server's pass-through, checked from the db container over the kind network.
      { type: 'wait', wait: { for: 'server', argv: ['docker', 'exec', db, 'pg_isready', '-h', web, '-p', '5432', '-U', POSTGRES.user, '-d', POSTGRES.database] }, timeoutMs: ctx.timeouts.server },
      docker(ipOf(db), ctx.timeouts.docker, 'ip.db'),
      docker(ipOf(web), ctx.timeouts.docker, 'ip.web'),
    ],
  };
}

/** fixtures/servers/nginx.conf with the PostgreSQL container as the 5432 upstream. */
export function nginxConf(ctx: PlanContext, dbContainer: string): string {
  return readFileSync(join(ctx.repoRoot, 'fixtures', 'servers', 'nginx.conf'), 'utf8').replaceAll('@DB_UPSTREAM@', dbContainer);
}

export function dnsStep(ctx: PlanContext): Step {
  return {
    phase: 'dns',
    title: 'dns: CoreDNS hosts entries for the external hosts (hosts ttl 1, kubernetes plugin ttl 0), restart CoreDNS',
    actions: [
      {
        type: 'coredns-hosts',
        entries: SERVER_HOSTS.map((h) => ({ host: h.host, ip: VAR(`ip.${h.server}`) })),
        timeoutMs: ctx.timeouts.coredns,
      },
    ],
  };
}

/** Namespaces the run needs: the client ones, plus any a scenario's resources live in. */
export function namespaceManifests(ctx: PlanContext, probeNamespaces: string[], resourceNamespaces: string[]): K8sObject[] {
  const fixed = parseAllDocuments(readFileSync(join(ctx.repoRoot, 'fixtures', 'workloads', 'namespaces.yaml'), 'utf8')).map(
    (d) => d.toJS() as K8sObject,
  );
  const names = new Set(fixed.map((n) => n.metadata.name));
  const out = [...fixed];
  for (const ns of probeNamespaces) {
    if (names.has(ns)) continue;
    names.add(ns);
    out.push(namespaceObject(ns, true));
  }
  for (const ns of resourceNamespaces) {
    if (names.has(ns) || ns === 'istio-system' || ns === 'kube-system') continue;
    names.add(ns);
    out.push(namespaceObject(ns, false));
  }
  return out;
}

function namespaceObject(name: string, injected: boolean): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'istio-injection': injected ? 'enabled' : 'disabled', 'egress-conformance.io/managed': 'true' } },
  };
}

export function namespacesStep(ctx: PlanContext, namespaces: K8sObject[]): Step {
  return {
    phase: 'namespaces',
    title: `namespaces: ${namespaces.map((n) => n.metadata.name).join(', ')} (injection labels set before any client exists)`,
    actions: namespaces.map((manifest) => ({ type: 'apply', manifest })),
  };
}

// ---------------------------------------------------------------------------------------------- istio

/** The IstioOperator for a policy, with the scenario's own meshConfig (other than the policy) merged in. */
export function installSpec(ctx: PlanContext, policy: PolicyMode, mesh?: MeshSettings): InstallSpec {
  const file = join(ctx.repoRoot, 'fixtures', 'istio', `${policy}.yaml`);
  const base = parseYaml(readFileSync(file, 'utf8')) as Record<string, any>;
  const extra = { ...(mesh?.meshConfig ?? {}) } as Record<string, unknown>;
  delete extra.outboundTrafficPolicy;
  const baseMesh = (base.spec?.meshConfig ?? {}) as Record<string, unknown>;
  const merged = deepMerge(baseMesh, extra);
  merged.outboundTrafficPolicy = { ...(merged.outboundTrafficPolicy as object), mode: policy };
  const proxyKey = JSON.stringify(canonical(merged.defaultConfig ?? {}));
  if (Object.keys(extra).length === 0) {
    return { policy, iopPath: file, key: JSON.stringify(canonical(merged)), proxyKey };
  }
  const iop = { ...base, spec: { ...base.spec, meshConfig: merged } };
  const key = JSON.stringify(canonical(merged));
  const name = `istio-${policy}-${shortHash(key)}.yaml`;
  return { policy, iopPath: join(ctx.workDir, name), content: toYaml(iop), key, proxyKey };
}

export function istioStep(ctx: PlanContext, install: InstallSpec): Step {
  const actions: Action[] = [];
  if (install.content !== undefined) actions.push({ type: 'write-file', path: install.iopPath, content: install.content });
  actions.push(
    {
      type: 'exec',
      argv: ['istioctl', 'install', '-y', '-f', install.iopPath, '--kubeconfig', ctx.kubeconfig, '--readiness-timeout', `${Math.round((ctx.timeouts.istioInstall * 0.7) / 1000)}s`],
      timeoutMs: ctx.timeouts.istioInstall,
    },
    { type: 'wait', wait: { for: 'deployment', namespace: 'istio-system', name: 'istiod' }, timeoutMs: ctx.timeouts.deployment },
    // ServiceEntries applied before the validating webhook answers are rejected: probe it with a server-side dry run.
    { type: 'wait', wait: { for: 'webhook', object: webhookProbeObject() }, timeoutMs: ctx.timeouts.webhook },
    { type: 'check-mesh', mode: install.policy },
  );
  return { phase: 'istio', title: `istio ${ctx.istioVersion}: install with outboundTrafficPolicy ${install.policy}`, actions };
}

export function webhookProbeObject(): K8sObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'egress-conformance-webhook-probe', namespace: CONTROL_NAMESPACE },
    spec: { hosts: ['webhook-probe.egress-conformance.invalid'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' },
  };
}

// ---------------------------------------------------------------------------------------------- clients

export function clientFor(source: ProbeSource): ClientSpec {
  const labels = source.labels ?? {};
  const keys = Object.keys(labels).sort();
  const name = keys.length === 0 ? CLIENT_POD : `${CLIENT_POD}-${shortHash(JSON.stringify(keys.map((k) => [k, labels[k]])))}`;
  return { namespace: source.namespace, name, labels, injected: source.namespace !== CONTROL_NAMESPACE };
}

export function controlClient(): ClientSpec {
  return { namespace: CONTROL_NAMESPACE, name: CLIENT_POD, labels: {}, injected: false };
}

/** Annotation holding a hash of what a client was created from (its manifest and the proxy defaults). */
export const CLIENT_HASH_ANNOTATION = 'egress-conformance.io/client-hash';

export function clientManifest(ctx: PlanContext, client: ClientSpec, proxyKey = ''): K8sObject {
  const pod = parseYaml(readFileSync(join(ctx.repoRoot, 'fixtures', 'workloads', 'client.yaml'), 'utf8')) as K8sObject & { spec: { containers: { name: string; image: string }[] } };
  pod.metadata.name = client.name;
  pod.metadata.namespace = client.namespace;
  pod.metadata.labels = { ...pod.metadata.labels, ...client.labels };
  for (const c of pod.spec.containers) {
    if (c.name === 'curl') c.image = ctx.versions.images.curl;
    if (c.name === 'psql') c.image = ctx.versions.images.postgres;
  }
  // A client left by an earlier run on a reused cluster is kept only if it was made the same way
  // (same images, same proxy defaults at injection); otherwise it is recreated.
  pod.metadata.annotations = { ...pod.metadata.annotations, [CLIENT_HASH_ANNOTATION]: shortHash(JSON.stringify(canonical(pod)) + proxyKey) };
  return pod;
}

export function clientsStep(ctx: PlanContext, clients: ClientSpec[], recreate: boolean, proxyKey = ''): Step {
  const actions: Action[] = [];
  for (const c of clients) {
    const manifest = clientManifest(ctx, c, proxyKey);
    if (recreate) actions.push({ type: 'delete', manifest, wait: true, timeoutMs: ctx.timeouts.pods });
    actions.push({ type: 'apply', manifest, ifAbsent: true, replaceIfAnnotationDiffers: CLIENT_HASH_ANNOTATION, timeoutMs: ctx.timeouts.pods });
  }
  for (const c of clients) {
    const containers = c.injected ? ['curl', 'psql', 'istio-proxy'] : ['curl', 'psql'];
    actions.push({ type: 'wait', wait: { for: 'pod-ready', namespace: c.namespace, name: c.name, containers }, timeoutMs: ctx.timeouts.pods });
  }
  return {
    phase: 'clients',
    title: `clients: ${recreate ? 'recreate' : 'deploy if absent'} ${clients.map((c) => `${c.namespace}/${c.name}`).join(', ')}`,
    actions,
  };
}

// ---------------------------------------------------------------------------------------------- scenario

export function scenarioManifests(resources: ResourceSet): K8sObject[] {
  return [...resources.serviceEntries, ...resources.sidecars].map((r) => {
    const m = r.manifest as K8sObject;
    // The catalogue may leave namespace to its default; the API needs it.
    return { ...m, metadata: { ...m.metadata, namespace: m.metadata?.namespace ?? r.namespace } };
  });
}

export function scenarioApplyStep(ctx: PlanContext, name: string, policy: PolicyMode, resources: ResourceSet): Step {
  const manifests = scenarioManifests(resources);
  return {
    phase: 'scenario',
    title: `scenario ${name} (${policy}): apply ${manifests.length} resource(s)`,
    actions: [
      ...manifests.map((manifest): Action => ({ type: 'apply', manifest })),
      { type: 'sleep', ms: ctx.timeouts.settle, why: 'let istiod push the change to the sidecars before the first probe' },
    ],
  };
}

export function probeAction(run: CaseRun, commands: ProbeCommands): ProbeAction {
  const client = clientFor(run.probe.from);
  const control = controlClient();
  return {
    type: 'probe',
    caseId: run.id,
    scenario: run.scenario.name,
    policy: run.policy,
    probe: { from: run.probe.from, to: run.probe.to },
    argv: commands.probeCommand(run.probe.to),
    container: commands.probeContainer(run.probe.to),
    pod: { namespace: client.namespace, name: client.name },
    controlPod: { namespace: control.namespace, name: control.name },
  };
}

export function scenarioClearStep(ctx: PlanContext, name: string, policy: PolicyMode, resources: ResourceSet): Step {
  const manifests = scenarioManifests(resources).reverse();
  return {
    phase: 'scenario',
    title: `scenario ${name} (${policy}): delete its resources`,
    actions: manifests.map((manifest): Action => ({ type: 'delete', manifest, wait: true, timeoutMs: ctx.timeouts.deployment })),
  };
}

// ---------------------------------------------------------------------------------------------- teardown

/** What to run by hand to remove what `--keep` left: the cluster and the run's server containers. */
export function keptCleanupCommands(ctx: PlanContext): string[] {
  return [`kind delete cluster --name ${ctx.clusterName}`, `docker rm -f $(docker ps -aq --filter label=${ctx.runLabel})`];
}

export function teardownStep(ctx: PlanContext): Step {
  const listArgv = ['docker', 'ps', '-aq', '--filter', `label=${ctx.runLabel}`];
  // On a cluster that outlives the run (--keep, --reuse), a scenario interrupted half-way must not leave
  // its ServiceEntries and Sidecars behind for the next run.
  const actions: Action[] = [{ type: 'remove-scenario-leftovers' }];
  if (ctx.keep) {
    // A kept cluster's CoreDNS points db/api/unlisted.example.com at the server containers: they stay too.
    const [deleteCluster, removeContainers] = keptCleanupCommands(ctx);
    actions.push({
      type: 'note',
      text:
        `--keep: kept kind cluster ${ctx.clusterName} and this run's server containers (label ${ctx.runLabel}); ` +
        `kubectl access: kind export kubeconfig --name ${ctx.clusterName}. ` +
        `Remove them with: ${deleteCluster} && ${removeContainers}`,
    });
  } else {
    actions.push(
      { type: 'remove-containers', label: ctx.runLabel, listArgv },
      {
        type: 'delete-cluster',
        name: ctx.clusterName,
        argv: ['kind', 'delete', 'cluster', '--name', ctx.clusterName, '--kubeconfig', ctx.kubeconfig],
        timeoutMs: ctx.timeouts.kindDelete,
      },
    );
  }
  actions.push({ type: 'remove-dir', path: ctx.workDir });
  return {
    phase: 'teardown',
    title: ctx.keep
      ? `teardown (--keep): keep cluster ${ctx.clusterName} and this run's server containers; remove the temp dir`
      : `teardown: remove this run's containers, its cluster (only if this run created it) and temp dir`,
    actions,
  };
}

// ---------------------------------------------------------------------------------------------- whole plan

export function selectCases(cases: CaseRun[], filter?: RegExp | string): CaseRun[] {
  if (filter === undefined) return cases;
  const re = typeof filter === 'string' ? new RegExp(filter) : filter;
  return cases.filter((c) => re.test(c.id));
}

export function buildPlan(opts: KindPlanOptions): KindPlan {
  const ctx = planContext(opts);
  const cases = orderCases(selectCases(opts.cases, opts.testFilter));
  const commands = cases.length > 0 ? (opts.probeCommands ?? requireProbeToolkit()) : undefined;

  const clientsByName = new Map<string, ClientSpec>();
  for (const c of [...INJECTED_NAMESPACES.map((ns) => clientFor({ namespace: ns })), controlClient(), ...cases.map((r) => clientFor(r.probe.from))]) {
    clientsByName.set(`${c.namespace}/${c.name}`, c);
  }
  const clients = [...clientsByName.values()];
  const resourceNamespaces = cases.flatMap((r) => scenarioManifests(r.scenario.resources).map((m) => m.metadata.namespace!));

  const steps: Step[] = [
    preflightStep(ctx),
    clusterStep(ctx),
    serversStep(ctx),
    dnsStep(ctx),
    namespacesStep(ctx, namespaceManifests(ctx, clients.map((c) => c.namespace), resourceNamespaces)),
  ];

  let installed: InstallSpec | undefined;
  let clientsProxyKey: string | undefined;
  for (const group of groupByScenario(cases)) {
    const { scenario, policy } = group[0];
    const install = installSpec(ctx, policy, scenario.resources.mesh);
    if (installed?.key !== install.key) {
      steps.push(istioStep(ctx, install));
      if (installed !== undefined) {
        steps[steps.length - 1].actions.push({ type: 'sleep', ms: ctx.timeouts.settle, why: 'sidecars apply a changed mesh config after a short delay' });
      }
      installed = install;
    }
    // Clients are created after the first install (the injector must exist) and recreated when the proxy
    // defaults they were injected with change.
    if (clientsProxyKey !== install.proxyKey) {
      steps.push(clientsStep(ctx, clients, clientsProxyKey !== undefined, install.proxyKey));
      clientsProxyKey = install.proxyKey;
    }
    steps.push(scenarioApplyStep(ctx, scenario.name, policy, scenario.resources));
    steps.push({
      phase: 'scenario',
      title: `scenario ${scenario.name} (${policy}): ${group.length} probe(s)`,
      actions: group.map((r) => probeAction(r, commands!)),
    });
    steps.push(scenarioClearStep(ctx, scenario.name, policy, scenario.resources));
  }

  return { context: ctx, cases, clients, steps, teardown: teardownStep(ctx) };
}

/** Policies in a fixed order, then scenarios in catalogue order: fewest reinstalls, stable reports. */
function orderCases(cases: CaseRun[]): CaseRun[] {
  const scenarioOrder = new Map<string, number>();
  cases.forEach((c) => scenarioOrder.has(c.scenario.name) || scenarioOrder.set(c.scenario.name, scenarioOrder.size));
  return cases
    .map((c, i) => ({ c, i }))
    .sort(
      (a, b) =>
        POLICY_MODES.indexOf(a.c.policy) - POLICY_MODES.indexOf(b.c.policy) ||
        scenarioOrder.get(a.c.scenario.name)! - scenarioOrder.get(b.c.scenario.name)! ||
        a.i - b.i,
    )
    .map((x) => x.c);
}

function groupByScenario(cases: CaseRun[]): CaseRun[][] {
  const groups: CaseRun[][] = [];
  for (const c of cases) {
    const last = groups[groups.length - 1];
    if (last && last[0].scenario.name === c.scenario.name && last[0].policy === c.policy) last.push(c);
    else groups.push([c]);
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------- utilities

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlain(prev) && isPlain(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isPlain(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0').slice(0, 6);
}

export function toYaml(obj: unknown): string {
  return stringify(obj, { lineWidth: 0 });
}
