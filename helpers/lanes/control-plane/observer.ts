// Observes a probe as the sidecar of its source Pod: one fresh ADS fetch per source and scenario (istiod
// is asked as that Pod: its namespace, IP, labels, and the mesh's proxyMetadata), then the evaluator
// reads the verdict from that xDS. Other hops (an egress gateway) are observers of their own beside this.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsProxyLookup } from '../../model/dns-proxy.ts';
import type { Observation, Probe } from '../../model/types.ts';
import type { SidecarIdentity } from './proxy-node.ts';
import type { XdsSnapshot } from './xds-types.ts';
import { evaluate } from './evaluator.ts';
import type { GatewayHop } from './gateway-hop.ts';
import type { Istiod } from './istiod.ts';
import type { ClientPod } from './pods.ts';

/** What the lane has applied, as the observer needs it. */
export interface AppliedScenario {
  generation: number;
  /** ISTIO_META_* of the live mesh's defaultConfig.proxyMetadata, as pilot-agent would send them. */
  proxyMetadata: Record<string, string>;
}

/**
 * Where a hostname resolves: 203.0.113.x (TEST-NET-3), outside every ServiceEntry address a case would use,
 * stable per host so evidence is reproducible. IP literals are used as they are.
 */
export function externalAddressFor(host: string): string {
  let h = 0;
  for (const c of host) h = (h * 33 + c.charCodeAt(0)) >>> 0;
  return `203.0.113.${1 + (h % 254)}`;
}

/** ISTIO_META_<NAME> entries of defaultConfig.proxyMetadata become node metadata <NAME>, verbatim as strings. */
export function proxyMetadataOf(mesh: Record<string, unknown>): Record<string, string> {
  const pm = (mesh.defaultConfig as { proxyMetadata?: Record<string, unknown> } | undefined)?.proxyMetadata ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pm)) if (k.startsWith('ISTIO_META_')) out[k.slice('ISTIO_META_'.length)] = String(v);
  return out;
}

/** The spellings strconv.ParseBool reads as true. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

export class SidecarObserver {
  private readonly snapshots = new Map<string, XdsSnapshot>();
  /** Fetches under way (prefetch, or a first observe), so a source is fetched once per scenario. */
  private readonly fetching = new Map<string, Promise<XdsSnapshot>>();

  constructor(
    private readonly istiod: Istiod,
    private readonly istioVersion: string,
    /** Follows a call past the sidecar (an egress gateway); without it an observation has the sidecar's hop only. */
    private readonly next?: GatewayHop,
  ) {}

  /** Forget every fetched snapshot (the scenario changed). */
  reset(): void {
    this.snapshots.clear();
    this.fetching.clear();
    this.next?.reset();
  }

  identityOf(pod: ClientPod, applied: AppliedScenario | undefined): SidecarIdentity {
    return {
      namespace: pod.namespace,
      ip: pod.ip,
      podName: pod.name,
      labels: pod.labels,
      istioVersion: this.istioVersion,
      extraMetadata: applied?.proxyMetadata,
    };
  }

  /** The xDS the Pod's sidecar receives under the current scenario (fetched once per scenario). */
  async snapshotFor(
    pod: ClientPod,
    applied: AppliedScenario | undefined,
  ): Promise<{ snapshot: XdsSnapshot; identity: SidecarIdentity; fresh: boolean }> {
    const identity = this.identityOf(pod, applied);
    const key = `${pod.name}/${pod.namespace}`;
    const cached = this.snapshots.get(key);
    if (cached) return { snapshot: cached, identity, fresh: false };
    const snapshot = await this.fetch(key, identity);
    // The first observation of a scenario's source is the fresh fetch, whether or not it was started ahead.
    const fresh = !this.snapshots.has(key);
    this.snapshots.set(key, snapshot);
    return { snapshot, identity, fresh };
  }

  /**
   * Starts the fetches of these Pods' sidecars at once, after the scenario is applied and before its first
   * probe: istiod builds one while the lane decodes another. Each is the fetch the Pod's first probe would
   * have made (a fresh stream, after the barrier); a failure is reported by that probe.
   */
  prefetch(pods: ClientPod[], applied: AppliedScenario): void {
    for (const pod of pods) this.fetch(`${pod.name}/${pod.namespace}`, this.identityOf(pod, applied)).catch(() => {});
  }

  private fetch(key: string, identity: SidecarIdentity): Promise<XdsSnapshot> {
    const under = this.fetching.get(key);
    if (under) return under;
    // pilot-agent runs its DNS proxy, and asks for the name table, when ISTIO_META_DNS_CAPTURE parses as a
    // Go bool that is true (pkg/env bool variables use strconv.ParseBool; anything else is the default, off).
    const dnsProxy = GO_TRUE.has(identity.extraMetadata?.DNS_CAPTURE ?? '');
    const started = this.istiod.snapshot(identity, { nameTable: dnsProxy });
    this.fetching.set(key, started);
    // A failed fetch is not kept: the source's next probe asks again, as it did before fetches were shared.
    started.catch(() => {
      if (this.fetching.get(key) === started) this.fetching.delete(key);
    });
    return started;
  }

  async observe(pod: ClientPod, applied: AppliedScenario, probe: Probe): Promise<Observation> {
    let got: Awaited<ReturnType<SidecarObserver['snapshotFor']>>;
    try {
      got = await this.snapshotFor(pod, applied);
    } catch (err) {
      return { verdict: 'error', error: `ADS fetch failed: ${(err as Error).message}`, evidence: { istiodLog: this.istiod.logFile } };
    }
    const { snapshot: snap, identity, fresh } = got;
    const t = probe.to;
    let resolved: string;
    let resolvedBy: string;
    // Entries without an address are not in the table (pkg/dns/server/name_table.go), so each found one answers.
    const fromNds = dnsProxyLookup(t.host, (name) => snap.nameTable?.[name]?.ips?.[0]);
    if (t.isIp) {
      resolved = t.host;
      resolvedBy = 'ip-literal';
    } else if (fromNds) {
      // The sidecar's DNS proxy answers from the name table istiod sent (NDS), as it would in the pod.
      resolved = fromNds.found;
      resolvedBy =
        fromNds.name === t.host.toLowerCase() ? 'istio-dns-proxy (NDS)' : `istio-dns-proxy (NDS, wildcard entry ${fromNds.name})`;
    } else {
      resolved = externalAddressFor(t.host);
      resolvedBy = 'external-dns (TEST-NET-3 stand-in)';
    }
    const obs = evaluate(
      snap,
      { scheme: t.scheme, host: t.host, port: t.port, isIp: t.isIp, path: t.path, ...(t.absolute ? { absolute: t.absolute } : {}) },
      resolved,
    );
    obs.evidence = {
      ...obs.evidence,
      resolvedBy,
      node: {
        pod: `${identity.namespace}/${identity.podName}`,
        ip: identity.ip,
        labels: identity.labels,
        metadata: identity.extraMetadata ?? {},
      },
      xdsVersions: snap.versions,
      generation: applied.generation,
      freshFetch: fresh,
      attempts: 1,
    };
    return this.next ? this.next.follow(obs, { snapshot: snap, identity }, probe, applied.proxyMetadata) : obs;
  }

  /** The source sidecar's xDS and istiod's log, for a failed probe. Best effort. */
  diagnose(pod: { name: string; namespace: string }, dir: string): string[] {
    const files: string[] = [];
    try {
      mkdirSync(dir, { recursive: true });
      const snap = this.snapshots.get(`${pod.name}/${pod.namespace}`);
      if (snap) {
        writeFileSync(join(dir, `xds-${pod.namespace}.json`), JSON.stringify(snap, null, 1));
        files.push(`xds-${pod.namespace}.json`);
      }
      copyFileSync(this.istiod.logFile, join(dir, 'istiod.log'));
      files.push('istiod.log');
    } catch {
      /* best effort */
    }
    return files;
  }
}
