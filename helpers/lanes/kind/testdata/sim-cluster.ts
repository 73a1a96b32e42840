// FakeK8s plus what istiod and the client sidecars answer in a kind cluster, for orchestration tests:
// /debug/configz and /debug/syncz from `pilot-discovery request` in istiod, a config_dump whose
// PassthroughCluster carries the mesh connectTimeout (after a chosen number of polls, or never), and an
// access-log line in Istio's default TEXT format for each probe a client runs. The cluster a probe lands
// in is the test's choice (`route`); with `egressGateway` the install's egress gateway Pod and Service exist,
// and a call the route sends through it leaves the gateway's line in that Pod's log too (sim-gateway.ts).
import { parse as parseYaml } from 'yaml';
import type { ExecResult } from '../../../k8s/client.ts';
import { GENERATION_ANNOTATION } from '../../../k8s/manifests.ts';
import type { K8sObject, ObjectRef } from '../runner.ts';
import { FakeK8s, type FakeK8sOptions } from './fake-k8s.ts';
import { GATEWAY_NAMESPACE, GATEWAY_POD, gatewayCallLines, gatewayPod, gatewayService, selects } from './sim-gateway.ts';

export interface ProbeRoute {
  exitCode: number;
  /** The cluster the sidecar logs; undefined: no access-log line at all (the call bypassed the sidecar). */
  cluster?: string;
  stdout?: string;
  stderr?: string;
  /**
   * The call goes through the egress gateway (`egressGateway`): what the gateway logs, its cluster or `(no route)`
   * for its own 404. The sidecar then logs the gateway's Service cluster (its `cluster` is not used).
   */
  gateway?: string;
  /** The HTTP status the client sidecar logs for a call through the gateway (default the gateway's). */
  status?: number;
}

export interface SimOptions extends FakeK8sOptions {
  /** How many istiod installs happened (an install rewrites the mesh config and drops the marker). */
  installs?: () => number;
  /** The result and cluster of a probe command run in a client's curl or psql container. */
  route?: (namespace: string, pod: string, argv: string[]) => ProbeRoute;
  /** config_dump polls a sidecar answers with its old config before it has the new one. */
  syncLag?: number;
  /** Sidecars (`ns/pod`) that never get a new config. */
  neverSync?: string[];
  /** The install's egress gateway Pod and Service exist once Istio is installed. */
  egressGateway?: boolean;
  /** Hosts the egress gateway's routes take (its config_dump's virtual host domains). */
  gatewayRoutes?: string[];
}

const ISTIOD_POD = 'istiod-7c9d8b6f5-x2x9q';

/** The probe URL in a command, when it has one. */
function urlOf(argv: string[]): { scheme: 'http' | 'https'; host: string; port: number } | undefined {
  const m = argv.map((a) => /^(https?):\/\/([^/:]+)(?::(\d+))?/.exec(a)).find(Boolean);
  if (!m) return undefined;
  const scheme = m[1] === 'https' ? 'https' : 'http';
  return { scheme, host: m[2] ?? '', port: m[3] ? Number(m[3]) : scheme === 'https' ? 443 : 80 };
}

function portOf(argv: string[]): number {
  const p = argv.indexOf('-p');
  if (p >= 0) return Number(argv[p + 1]);
  const url = argv.at(-1) ?? '';
  const m = /:(\d+)(?:\/|$)/.exec(url.replace(/^\w+:\/\//, 'x://'));
  return m ? Number(m[1]) : url.startsWith('https') ? 443 : 80;
}

export class SimCluster extends FakeK8s {
  private marker: { installs: number; timeout: string } | undefined;
  private readonly polls = new Map<string, number>();
  private readonly applied = new Map<string, string>();
  private readonly accessLogs = new Map<string, string[]>();
  private remotePort = 40000;

  constructor(private readonly sim: SimOptions = {}) {
    super(sim);
  }

  private installs(): number {
    return this.sim.installs?.() ?? 0;
  }

  override async apply(obj: K8sObject): Promise<void> {
    await super.apply(obj);
    if (obj.kind === 'ConfigMap' && obj.metadata.namespace === 'istio-system' && obj.metadata.name === 'istio') {
      const mesh = (parseYaml((obj.data as Record<string, string>).mesh ?? '') ?? {}) as { connectTimeout?: string };
      this.marker = mesh.connectTimeout ? { installs: this.installs(), timeout: mesh.connectTimeout } : undefined;
    }
  }

  /** The mesh connectTimeout in force: ours until the next `istioctl install` rewrites the ConfigMap. */
  meshConnectTimeout(): string {
    return this.marker && this.marker.installs === this.installs() ? this.marker.timeout : '10s';
  }

  override async get(ref: ObjectRef): Promise<K8sObject | undefined> {
    const o = await super.get(ref);
    if (
      !o &&
      ref.kind === 'Service' &&
      ref.namespace === GATEWAY_NAMESPACE &&
      ref.name === gatewayService.metadata.name &&
      this.gatewayUp()
    )
      return structuredClone(gatewayService);
    // The API server sets a CRD Established once it serves it.
    if (o && ref.kind === 'CustomResourceDefinition') return { ...o, status: { conditions: [{ type: 'Established', status: 'True' }] } };
    if (o && ref.kind === 'ConfigMap' && ref.namespace === 'istio-system' && ref.name === 'istio' && this.meshConnectTimeout() !== '10s') {
      const data = o.data as Record<string, string>;
      return { ...o, data: { ...data, mesh: `${data.mesh}connectTimeout: ${this.meshConnectTimeout()}\n` } };
    }
    return o;
  }

  /** The gateway Pod and Service exist once Istio is installed. */
  private gatewayUp(): boolean {
    return !!this.sim.egressGateway && this.sim.meshMode?.() !== undefined;
  }

  override async listPods(namespace: string, labelSelector?: string): Promise<K8sObject[]> {
    if (namespace === 'istio-system') {
      await super.listPods(namespace);
      if (this.sim.meshMode?.() === undefined) return [];
      const istiod: K8sObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: ISTIOD_POD, namespace, labels: { app: 'istiod' } } };
      const pods = this.gatewayUp() ? [istiod, structuredClone(gatewayPod)] : [istiod];
      return pods.filter((p) => selects(labelSelector, p.metadata.labels));
    }
    return super.listPods(namespace);
  }

  override async list(apiVersion: string, kind: string, namespace?: string): Promise<K8sObject[]> {
    const base = await super.list(apiVersion, kind, namespace);
    const gw = apiVersion === 'v1' && kind === 'Pod' && (namespace ?? GATEWAY_NAMESPACE) === GATEWAY_NAMESPACE && this.gatewayUp();
    return gw ? [...base, structuredClone(gatewayPod)] : base;
  }

  private configz(): string {
    // istiod's store holds every Istio config kind (the real /debug/configz lists VirtualServices too).
    const kinds = new Set(['ServiceEntry', 'Sidecar', 'Gateway', 'VirtualService', 'DestinationRule']);
    const items = [...this.store.values()].filter((o) => kinds.has(o.kind));
    return JSON.stringify(
      items.map((o) => ({
        kind: o.kind,
        apiVersion: o.apiVersion,
        metadata: { ...o.metadata, resourceVersion: '1234', creationTimestamp: '2026-11-29T18:40:00Z' },
        spec: o.spec,
      })),
    );
  }

  private syncz(): string {
    const pods = [...this.store.values()].filter((o) => o.kind === 'Pod' && o.metadata.namespace !== 'egress-control');
    // The install's gateway is a proxy istiod serves too (node type router).
    if (this.gatewayUp()) pods.push(gatewayPod);
    return JSON.stringify(
      pods.map((p) => ({
        cluster_id: 'Kubernetes',
        // The proxy's ID, as the pinned istiod prints it (sync-istiod.test.ts).
        proxy: `${p.metadata.name}.${p.metadata.namespace}`,
        proxy_type: p === gatewayPod ? 'router' : 'sidecar',
        istio_version: '1.30.3',
        cluster_sent: 'a1b2c3d4',
        cluster_acked: 'a1b2c3d4',
        listener_sent: 'e5f6a7b8',
        listener_acked: 'e5f6a7b8',
        route_sent: 'c9d0e1f2',
        route_acked: 'c9d0e1f2',
        endpoint_sent: '0a1b2c3d',
        endpoint_acked: '0a1b2c3d',
      })),
    );
  }

  /**
   * What this proxy's Envoy has applied: the new timeout after `syncLag` polls, the old one before, on the
   * cluster asked for (name_regex). A gateway has BlackHoleCluster but no PassthroughCluster.
   */
  private configDump(pod: string, argv: string[]): string {
    const n = (this.polls.get(pod) ?? 0) + 1;
    this.polls.set(pod, n);
    const current = this.meshConnectTimeout();
    if (this.applied.get(pod) !== current && n > (this.sim.syncLag ?? 0) && !(this.sim.neverSync ?? []).includes(pod)) {
      this.applied.set(pod, current);
      this.polls.set(pod, 0);
    }
    const timeout = this.applied.get(pod) ?? '10s';
    if (argv.join(' ').includes('resource=dynamic_route_configs')) return this.routeDump(pod);
    const asked = /name_regex=([A-Za-z]+)/.exec(argv.join(' '))?.[1] ?? 'PassthroughCluster';
    const has = pod === `${GATEWAY_NAMESPACE}/${GATEWAY_POD}` ? ['BlackHoleCluster'] : ['PassthroughCluster', 'BlackHoleCluster'];
    if (!has.includes(asked)) return JSON.stringify({ configs: [] });
    return JSON.stringify({
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
          version_info: '2026-11-29T18:40:01Z/7',
          cluster: {
            '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
            name: asked,
            type: asked === 'PassthroughCluster' ? 'ORIGINAL_DST' : 'STATIC',
            connect_timeout: timeout,
            lb_policy: 'CLUSTER_PROVIDED',
          },
          last_updated: '2026-11-29T18:40:01.512Z',
        },
      ],
    });
  }

  /** The gateway's route configuration: one virtual host per host it routes (a sidecar's are not simulated). */
  private routeDump(pod: string): string {
    const hosts = pod === `${GATEWAY_NAMESPACE}/${GATEWAY_POD}` ? (this.sim.gatewayRoutes ?? []) : [];
    return JSON.stringify({
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
          dynamic_route_configs: [
            {
              route_config: {
                '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
                name: 'http.8080',
                virtual_hosts: [
                  ...hosts.map((h) => ({ name: `${h}:80`, domains: [h, `${h}:*`] })),
                  { name: 'blackhole:80', domains: ['*'] },
                ],
              },
            },
          ],
        },
      ],
    });
  }

  override async exec(namespace: string, pod: string, container: string, argv: string[]): Promise<ExecResult> {
    const key = `${namespace}/${pod}`;
    if (namespace === 'istio-system' && argv[0] === 'pilot-discovery') {
      await super.exec(namespace, pod, container, argv);
      return {
        exitCode: 0,
        stdout: argv[3] === '/debug/configz' ? this.configz() : argv[3] === '/debug/syncz' ? this.syncz() : '[]',
        stderr: '',
      };
    }
    if (container === 'istio-proxy' && argv[0] === 'pilot-agent') {
      await super.exec(namespace, pod, container, argv);
      return { exitCode: 0, stdout: this.configDump(key, argv), stderr: '' };
    }
    const base = await super.exec(namespace, pod, container, argv);
    if (!this.sim.route) return base;
    const r = this.sim.route(namespace, pod, argv);
    const url = urlOf(argv);
    if (namespace !== 'egress-control' && r.gateway !== undefined && url && this.gatewayUp()) {
      const lines = gatewayCallLines({ ...url, gateway: r.gateway, ...(r.status ? { status: r.status } : {}) }, this.remotePort);
      this.remotePort += 2;
      this.logLine(key, lines.sidecar);
      this.logLine(`${GATEWAY_NAMESPACE}/${GATEWAY_POD}`, lines.gateway);
    } else if (namespace !== 'egress-control' && r.cluster !== undefined) {
      const port = portOf(argv);
      const remote = this.remotePort++;
      const line =
        r.cluster === 'block_all'
          ? `[2026-11-29T18:41:05.${String(remote % 1000).padStart(3, '0')}Z] "GET / HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "curl/8.11.1" "0c6a9c55-3e0d-4b7f-9a21-${String(remote).padStart(12, '0')}" "unlisted.example.com" "-" - - 172.18.0.4:${port} 10.244.0.9:${remote} - block_all`
          : `[2026-11-29T18:41:05.${String(remote % 1000).padStart(3, '0')}Z] "- - -" 0 ${r.cluster === 'BlackHoleCluster' ? 'UH' : '-'} - - "-" 0 0 1 - "-" "-" "-" "-" "${r.cluster === 'BlackHoleCluster' ? '-' : `172.18.0.4:${port}`}" ${r.cluster} - 172.18.0.4:${port} 10.244.0.9:${remote} - -`;
      this.logLine(key, line);
    }
    return { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  private logLine(pod: string, line: string): void {
    this.accessLogs.set(pod, [...(this.accessLogs.get(pod) ?? []), line]);
  }

  override async logs(namespace: string, pod: string, container: string, tailLines = 500): Promise<string> {
    const base = await super.logs(namespace, pod, container);
    if (container !== 'istio-proxy') return base;
    const lines = [`2026-11-29T18:40:01.004791Z\tinfo\tEnvoy proxy is ready`, ...(this.accessLogs.get(`${namespace}/${pod}`) ?? [])];
    return `${lines.slice(-tailLines).join('\n')}\n`;
  }

  /** The generation annotation of each scenario object in the store. */
  generations(): Record<string, string | undefined> {
    return Object.fromEntries(
      [...this.store.values()]
        .filter((o) => o.kind === 'ServiceEntry' || o.kind === 'Sidecar')
        .map((o) => [o.metadata.name, o.metadata.annotations?.[GENERATION_ANNOTATION]]),
    );
  }
}
