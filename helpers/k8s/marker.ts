// The generation marker: which mesh config a proxy's config was built from. Both lanes write it (the
// control-plane lane reads it over ADS, the kind lane from each sidecar's config dump).
/**
 * connectTimeout carries the apply generation. Every cluster istiod generates, PassthroughCluster included,
 * copies the mesh connect timeout, so a fresh ADS fetch shows exactly which mesh istiod has pushed —
 * a deterministic "the change is live" signal instead of a sleep. istiod only accepts millisecond precision
 * ("invalid connect timeout: only durations to ms precision are supported", pkg/config/validation), so the
 * generation goes into 10–59 s plus milliseconds: unique for 50 000 applies, and a connect timeout change
 * nothing a probe can see.
 */
const MARKER_SPAN = 50_000;

export function markerMillis(generation: number): number {
  return 10_000 + (generation % MARKER_SPAN);
}

export function markerTimeout(generation: number): string {
  const ms = markerMillis(generation);
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`;
}

/** The part of a decoded Envoy Cluster the marker lives in (seconds arrive as a string or a Long). */
export interface ConnectTimeoutCarrier {
  connect_timeout?: { seconds?: unknown; nanos?: unknown } | null;
}

/** The marker (in ms) a cluster carries, from its decoded connect_timeout. */
export function markerOf(cluster: ConnectTimeoutCarrier | undefined): number | undefined {
  const ct = cluster?.connect_timeout;
  if (!ct) return undefined;
  return Number(ct.seconds ?? 0) * 1000 + Math.round(Number(ct.nanos ?? 0) / 1e6);
}
