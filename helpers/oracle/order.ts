// Istio orders configs by metadata.creationTimestamp (whole seconds), then by name
// (pilot/pkg/model/push_context.go configCompareByCreationTime, SortServicesByCreationTime).
// Resources created together usually share a second, so the name decides; a timestamp written in the
// manifest is honoured.

export function creationSeconds(manifest: Record<string, unknown>): number {
  const ts = (manifest.metadata as Record<string, unknown> | undefined)?.creationTimestamp;
  if (ts instanceof Date) return Math.floor(ts.getTime() / 1000);
  if (typeof ts === 'string') {
    const t = Date.parse(ts);
    if (!Number.isNaN(t)) return Math.floor(t / 1000);
  }
  return 0;
}
