// The second hop on the kind lane: when the client sidecar sent a probe's call to a gateway's Service, the
// call is looked up in the access log of that gateway's Pods and joined with the client's answer
// (gateway-log.ts withGatewayHop: the gateway's cluster, or its own 404 ending the call there).
//
// Which Pods: the sidecar's cluster `outbound|PORT|SUBSET|NAME.NS.svc.cluster.local` names the Service; its
// selector picks the Pods, and a Pod counts as a gateway when its istio-proxy container runs pilot-agent as
// `proxy router` (the node type istioctl's gateway Deployment starts, manifests/charts/gateways/*/templates/
// deployment.yaml; a sidecar runs `proxy sidecar`). The hop is named `NS/NAME`: istioctl names the gateway's
// Service after its `app` label (istio-system/istio-egressgateway), which is how a hop names a proxy.
//
// Which lines: as for the sidecar (log-cursor.ts), the lines each gateway Pod held when the probe started
// are this run's past, so `baseline` marks them seen before the first attempt; every attempt then reads
// only new lines. Every replica is read: the Service may send the call to any of them.
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Observation, ProbeTarget } from '../../../model/types.ts';
import { gatewayHop, withGatewayHop } from '../gateway-log.ts';
import type { AccessLogEntry } from '../probes/access-log.ts';
import type { K8sObject, RunnerK8s } from '../runner.ts';
import type { RunState } from '../state.ts';
import { gatewayRouting, runsRouter } from './gateway-routes.ts';

import { freshEntries, markSeen, type PodRef } from './log-cursor.ts';

export interface GatewayReadOptions {
  /** Bound on the gateway's line appearing (the same bound as the sidecar's line). */
  accessLogMs: number;
  pollMs?: number;
  signal?: AbortSignal;
}

const SERVICE_CLUSTER = /^outbound\|\d+\|[^|]*\|([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/;

const podRef = (p: K8sObject): PodRef => ({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name });

export class GatewayLogs {
  /** Why the gateways' logs could not be marked at the start: lines read later could be an earlier probe's. */
  private baselineProblem: string | undefined;

  constructor(
    private readonly k: RunnerK8s,
    private readonly state: RunState,
    private readonly opts: GatewayReadOptions,
  ) {}

  /** Marks every gateway Pod's present lines seen. A failure is kept, and makes a later gateway hop an error. */
  async baseline(): Promise<void> {
    try {
      for (const p of (await this.k.list('v1', 'Pod')).filter(runsRouter))
        markSeen(this.state, podRef(p), await freshEntries(this.k, this.state, podRef(p)));
    } catch (err) {
      this.baselineProblem = `the gateways' logs could not be read before the probe: ${(err as Error).message}`;
    }
  }

  /** The gateway workload (`NS/NAME`) and its Pods a sidecar cluster sends to; undefined when the cluster is no gateway's. */
  async gatewayOf(cluster: string | undefined): Promise<{ workload: string; pods: PodRef[] } | undefined> {
    const m = cluster ? SERVICE_CLUSTER.exec(cluster) : null;
    if (!m) return undefined;
    const [, name = '', namespace = ''] = m;
    const svc = await this.k.get({ apiVersion: 'v1', kind: 'Service', namespace, name });
    const selector = (svc?.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
    if (Object.keys(selector).length === 0) return undefined;
    const sel = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = (await this.k.listPods(namespace, sel)).filter(runsRouter);
    return pods.length ? { workload: `${namespace}/${name}`, pods: pods.map(podRef) } : undefined;
  }

  /**
   * The new lines of the gateway's Pods, polled (when `wait`) until one is the probe's or the bound passes; all
   * are marked seen.
   */
  private async read(pods: PodRef[], workload: string, target: ProbeTarget, wait: boolean): Promise<AccessLogEntry[]> {
    const deadline = wait ? Date.now() + this.opts.accessLogMs : 0;
    for (;;) {
      const perPod = await Promise.all(pods.map(async (p) => ({ p, entries: await freshEntries(this.k, this.state, p) })));
      const entries = perPod.flatMap((x) => x.entries);
      if (gatewayHop(entries, workload, target).lines.length > 0 || Date.now() >= deadline) {
        for (const { p, entries: e } of perPod) markSeen(this.state, p, e);
        return entries;
      }
      await sleepFor(this.opts.pollMs ?? 250, undefined, this.opts.signal ? { signal: this.opts.signal } : undefined);
    }
  }

  /**
   * The observation with its hops: the sidecar's alone for a call that did not go to a gateway, both when it
   * did. `lines` are the gateway lines read for this attempt (also when the verdict needed none of them, so
   * they are not taken for the next attempt's).
   */
  async follow(first: Observation, sidecarProxy: string, target: ProbeTarget): Promise<{ obs: Observation; lines?: string[] }> {
    let gw: Awaited<ReturnType<GatewayLogs['gatewayOf']>>;
    try {
      gw = await this.gatewayOf(first.cluster);
    } catch (err) {
      return { obs: { ...first, verdict: 'error', error: `finding the gateway of ${first.cluster} failed: ${(err as Error).message}` } };
    }
    if (!gw) {
      const direct = withGatewayHop(first, sidecarProxy, () => [], [], target);
      if (direct.verdict === 'error') return { obs: direct };
      // Left directly: would a gateway have taken it? Then it bypasses that gateway (said, never a verdict).
      try {
        const by = await gatewayRouting(this.k, target.host, this.opts.accessLogMs);
        return { obs: by ? { ...direct, bypassesGateway: by } : direct };
      } catch (err) {
        return {
          obs: {
            ...direct,
            evidence: { ...direct.evidence, bypassCheck: `could not read the gateways' routes: ${(err as Error).message}` },
          },
        };
      }
    }
    if (this.baselineProblem) return { obs: { ...first, verdict: 'error', error: this.baselineProblem } };
    const { workload, pods } = gw;
    let entries: AccessLogEntry[];
    try {
      // The join reads the gateway only for an answer that passed it (withGatewayHop): only then is its line awaited.
      const needed = first.verdict === 'allowed' || (first.verdict === 'blocked' && first.signal === 'http-404');
      entries = await this.read(pods, workload, target, needed);
    } catch (err) {
      if (this.opts.signal?.aborted) throw err;
      return {
        obs: { ...first, verdict: 'error', error: `the access log of gateway ${workload} could not be read: ${(err as Error).message}` },
      };
    }
    const obs = withGatewayHop(first, sidecarProxy, () => entries, [workload], target);
    return { obs, lines: entries.map((e) => e.line) };
  }
}
