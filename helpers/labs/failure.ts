// Why a check failed, named in the task's terms: the first thing about the call that is not what the check asks,
// from the verdict to the route's settings. Past the verdict, the path comes before the cluster: a call that
// leaves from the sidecar when the check pins a gateway "bypasses the gateway" (whatever cluster it took), and
// one whose TLS starts anywhere but where the check says has its TLS named before its cluster.
import { formatHop, formatPath, hopsMatch, tlsOrigin } from '../model/hops.ts';
import type { Hop, Observation, TlsOrigin } from '../model/types.ts';
import type { LabCheck } from './load.ts';

/** The reasons, in the order they are looked for; a wrong answer may name the one it must fail by (`fails:`). */
export const FAILURES = [
  'not observed',
  'verdict',
  'block signal',
  'bypasses the gateway',
  'does not originate TLS',
  'TLS elsewhere',
  'cluster',
  'path',
  'discovery',
  'route',
  'constraint',
] as const;
export type FailureKind = (typeof FAILURES)[number];

export interface CheckFailure {
  kind: FailureKind;
  /** What happened, in one line (never the fix). */
  detail: string;
}

const ORIGIN_WORDS: Record<TlsOrigin, string> = {
  client: 'the application',
  sidecar: 'the sidecar',
  gateway: 'the gateway',
  none: 'nowhere (plain text)',
};

const pinned = (check: LabCheck) => (check.via ?? []).map((h) => formatHop(h as Hop, true)).join(' → ');

/** The failure of `check` for what was observed, or undefined when the check passes. */
export function failureOf(check: LabCheck, o: Observation): CheckFailure | undefined {
  if (o.verdict === 'error') return { kind: 'not observed', detail: o.error ?? 'the call could not be observed' };
  const hops = o.hops;
  const last = hops?.at(-1);
  if (o.verdict !== check.want) {
    const at = o.verdict === 'blocked' && last?.kind === 'gateway' ? `, ending at ${last.proxy} ${last.cluster}` : '';
    return { kind: 'verdict', detail: `${o.verdict} instead of ${check.want}${at}` };
  }
  if (check.signal && check.signal !== o.signal)
    return { kind: 'block signal', detail: `blocked by ${o.signal ?? 'an unrecorded signal'} instead of ${check.signal}` };
  const needsPath = !!(check.via || check.tls || check.discovery);
  if (needsPath && !hops) return { kind: 'path', detail: 'the path past the sidecar was not observed' };
  const gateway = check.via?.find((h) => h.proxy !== 'sidecar')?.proxy;
  if (gateway && hops && !hops.some((h) => h.kind === 'gateway'))
    return {
      kind: 'bypasses the gateway',
      detail: `the call leaves from the sidecar through ${hops[0]?.cluster ?? o.cluster ?? 'an unrecorded cluster'}, not through ${gateway}`,
    };
  if (check.tls && hops) {
    const got = tlsOrigin(hops, check.to.scheme);
    if (got !== check.tls) {
      const none = (check.tls === 'sidecar' || check.tls === 'gateway') && (got === 'none' || got === 'client');
      return none
        ? {
            kind: 'does not originate TLS',
            detail: `no proxy originates TLS to ${check.to.host}; the task wants ${ORIGIN_WORDS[check.tls]} to`,
          }
        : { kind: 'TLS elsewhere', detail: `TLS to ${check.to.host} starts at ${ORIGIN_WORDS[got]}, not ${ORIGIN_WORDS[check.tls]}` };
    }
  }
  if (check.cluster && check.cluster !== o.cluster)
    return { kind: 'cluster', detail: `through ${o.cluster ?? 'no recorded cluster'} instead of ${check.cluster}` };
  if (check.via && hops && !hopsMatch(check.via, hops))
    return { kind: 'path', detail: `path ${formatPath(hops)} instead of ${pinned(check)}` };
  if (check.discovery && last?.discovery !== check.discovery)
    return {
      kind: 'discovery',
      detail: `the call leaves through a cluster of type ${last?.discovery ?? '(unknown)'}, not ${check.discovery}`,
    };
  const facts = hops?.[0]?.route ?? [];
  const missing = (check.route ?? []).filter((f) => !facts.includes(f));
  if (missing.length)
    return {
      kind: 'route',
      detail: `the route carries ${facts.length ? facts.join(', ') : 'no timeout or retries'}, not ${missing.join(', ')}`,
    };
  return undefined;
}
