// Hops as text and back: one line per proxy, the form case files pin (`via:`) and reports print.
//   sidecar outbound|80|egressgateway|istio-egressgateway.istio-system.svc.cluster.local tls:ISTIO_MUTUAL
//   istio-system/istio-egressgateway outbound|443||edition.example.com tls:SIMPLE:edition.example.com
// In a pin the source sidecar is written `sidecar` (its Pod name is the lane's business); a gateway by its
// workload, `NAMESPACE/APP`.
import type { Hop, HopTls, Scheme, TlsOrigin } from './types.ts';

const TLS_MODES = new Set(['SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']);

export function formatHopTls(tls: HopTls | undefined): string {
  if (!tls) return '';
  return `tls:${tls.mode}${tls.sni ? `:${tls.sni}` : ''}`;
}

/** `PROXY CLUSTER [tls:MODE[:SNI]]`, the sidecar written as `sidecar` when `pinForm` is set. */
export function formatHop(hop: Hop, pinForm = false): string {
  const proxy = pinForm && hop.kind === 'sidecar' ? 'sidecar' : hop.proxy;
  return [proxy, hop.cluster, formatHopTls(hop.tls)].filter(Boolean).join(' ');
}

/** `a → b → c`, for tables and one-line messages. */
export function formatPath(hops: Hop[]): string {
  return hops.map((h) => `${h.proxy} ${h.cluster}${h.tls ? ` (${formatHopTls(h.tls)})` : ''}`).join(' → ');
}

export interface PinnedHop {
  /** `sidecar` or a gateway workload `NAMESPACE/APP`. */
  proxy: string;
  cluster: string;
  tls?: HopTls;
}

/** Parses one pinned hop; returns a message naming what is wrong instead of throwing. */
export function parsePinnedHop(text: unknown): PinnedHop | string {
  if (typeof text !== 'string') return 'a hop is "PROXY CLUSTER [tls:MODE[:SNI]]"';
  const [proxy, cluster, tls, ...rest] = text.trim().split(/\s+/);
  if (!proxy || !cluster || rest.length) return `"${text}" is not "PROXY CLUSTER [tls:MODE[:SNI]]"`;
  if (proxy !== 'sidecar' && !/^[a-z0-9-]+\/[a-z0-9][-a-z0-9.]*$/.test(proxy))
    return `hop proxy "${proxy}" is not "sidecar" or NAMESPACE/APP of a gateway`;
  if (tls === undefined) return { proxy, cluster };
  const [tag, mode, sni, ...more] = tls.split(':');
  if (tag !== 'tls' || !mode || !TLS_MODES.has(mode) || more.length) return `hop TLS "${tls}" is not tls:SIMPLE|MUTUAL|ISTIO_MUTUAL[:SNI]`;
  return { proxy, cluster, tls: { mode: mode as HopTls['mode'], ...(sni ? { sni } : {}) } };
}

/** Whether an observed or modelled path is the pinned one: same proxies, clusters and TLS, in order. */
export function hopsMatch(pinned: PinnedHop[], hops: Hop[]): boolean {
  if (pinned.length !== hops.length) return false;
  return pinned.every((p, i) => {
    const h = hops[i]!;
    const proxyOk = p.proxy === 'sidecar' ? h.kind === 'sidecar' : h.kind === 'gateway' && h.proxy === p.proxy;
    return proxyOk && p.cluster === h.cluster && formatHopTls(p.tls) === formatHopTls(h.tls);
  });
}

/**
 * Where TLS towards the destination starts: the last hop that originates SIMPLE or MUTUAL TLS (ISTIO_MUTUAL
 * is mesh-internal and ends at the next proxy), else the client when it speaks https, else nowhere.
 */
export function tlsOrigin(hops: Hop[], scheme: Scheme): TlsOrigin {
  const last = hops.at(-1);
  if (last?.tls && last.tls.mode !== 'ISTIO_MUTUAL') return last.kind === 'sidecar' ? 'sidecar' : 'gateway';
  return scheme === 'https' ? 'client' : 'none';
}

export const TLS_ORIGINS: readonly TlsOrigin[] = ['client', 'sidecar', 'gateway', 'none'];
