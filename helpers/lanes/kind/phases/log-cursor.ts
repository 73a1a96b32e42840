// Which access-log lines of a proxy belong to the probe being observed: the lines already in the log when the
// probe starts (or read for an earlier attempt) are marked seen per Pod, so each read takes only new ones.
// Used for the client sidecar and for the egress gateway Pods alike.
import { parseAccessLog, type AccessLogEntry } from '../probes/access-log.ts';
import type { RunnerK8s } from '../runner.ts';
import type { RunState } from '../state.ts';

export interface PodRef {
  namespace: string;
  name: string;
}

const LOG_TAIL = 400;
const CURSOR_LIMIT = 5_000;

const keyOf = (p: PodRef) => `${p.namespace}/${p.name}`;

/** The access-log lines of the Pod's istio-proxy not yet attributed to a probe. */
export async function freshEntries(k: RunnerK8s, state: RunState, p: PodRef): Promise<AccessLogEntry[]> {
  const seen = state.logCursors.get(keyOf(p)) ?? new Set<string>();
  return parseAccessLog(await k.logs(p.namespace, p.name, 'istio-proxy', LOG_TAIL)).filter((e) => !seen.has(e.line));
}

export function markSeen(state: RunState, p: PodRef, entries: AccessLogEntry[]): void {
  let seen = state.logCursors.get(keyOf(p)) ?? new Set<string>();
  // Only the last LOG_TAIL lines can come back from a read: older ones need not be remembered.
  if (seen.size > CURSOR_LIMIT) seen = new Set([...seen].slice(-LOG_TAIL));
  for (const e of entries) seen.add(e.line);
  state.logCursors.set(keyOf(p), seen);
}
