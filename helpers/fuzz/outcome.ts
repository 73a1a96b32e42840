// Where a probe landed, in the categories the fuzzer reports as its outcome mix: a ServiceEntry's HTTP route,
// TCP chain or SNI chain; the passthrough or blackhole of a port's listener; no listener for the port
// (virtualOutbound decides); the mesh's dynamic forward proxy catch-all (ALLOW_ANY_DYNAMIC_DNS). Read from the lane's xDS walk where there is
// one, else from the model's answer.
import type { Expectation, Observation, OutcomeCategory } from '../model/types.ts';

export type Category = OutcomeCategory | 'error';
export const CATEGORIES: readonly Category[] = [
  'route',
  'tcp-chain',
  'sni-chain',
  'passthrough',
  'blackhole',
  'no-listener',
  'dfp',
  'error',
];
/** A ServiceEntry's own route or chain: what the generator aims at. */
export const SERVICE_ENTRY_CATEGORIES: ReadonlySet<Category> = new Set(['route', 'tcp-chain', 'sni-chain']);

const LABEL: Record<Category, string> = {
  route: 'route',
  'tcp-chain': 'TCP chain',
  'sni-chain': 'SNI chain',
  passthrough: 'passthrough',
  blackhole: 'blackhole',
  'no-listener': 'no listener',
  dfp: 'DFP',
  error: 'error',
};

/** Istio's cluster for ALLOW_ANY_DYNAMIC_DNS (pilot/pkg/networking/util/util.go AllowAnyDynamicDNSCluster). */
export const ALLOW_ANY_DFP_CLUSTER = 'AllowAnyDynamicDNSCluster';
/** The category of the lane's answer, from the evaluator's evidence (listener match, chain steps, virtual host). */
export function categoryOfObservation(o: Observation): Category {
  if (o.xds?.category) return o.xds.category;
  const ev = o.evidence as Record<string, unknown>;
  if (ev.listenerMatch === 'virtualOutbound') return o.verdict === 'error' ? 'error' : 'no-listener';
  // `dfp` is the mesh's ALLOW_ANY_DYNAMIC_DNS catch-all only. A DYNAMIC_DNS entry's own forward-proxy cluster
  // is that entry's route or chain, like any cluster of its own (the model, which sees no CDS, and the
  // referee's signal draw the same line, by the cluster's name).
  if (o.cluster === ALLOW_ANY_DFP_CLUSTER) return 'dfp';
  if (o.verdict === 'error') return 'error';
  if (o.verdict === 'blocked') return 'blackhole';
  if (o.cluster === 'PassthroughCluster') return 'passthrough';
  if (ev.virtualHost) return 'route';
  const steps = (ev.filterChainSteps as string[] | undefined) ?? [];
  return steps.includes('server_names: matched') ? 'sni-chain' : 'tcp-chain';
}

/** The category of the model's answer, from its listener, cluster and the landing it gives as its reason. */
export function categoryOfExpectation(e: Expectation): Category {
  if (e.listener === 'virtualOutbound') return 'no-listener';
  if (e.cluster === ALLOW_ANY_DFP_CLUSTER) return 'dfp';
  if (e.verdict === 'blocked') return 'blackhole';
  if (e.cluster === 'PassthroughCluster') return 'passthrough';
  if (/virtual host /.test(e.reason)) return 'route';
  if (/SNI chain|with SNI /.test(e.reason)) return 'sni-chain';
  return 'tcp-chain';
}

export type Mix = Record<Category, number>;

export function emptyMix(): Mix {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Mix;
}

/** Share of probes in a ServiceEntry's route or chain (0 when there are none). */
export function serviceEntryShare(mix: Mix): number {
  const total = CATEGORIES.reduce((n, c) => n + mix[c], 0);
  const se = [...SERVICE_ENTRY_CATEGORIES].reduce((n, c) => n + mix[c], 0);
  return total === 0 ? 0 : se / total;
}

/** `route N, TCP chain N, SNI chain N, passthrough N, blackhole N, no listener N, DFP N` (and errors when any). */
export function formatMix(mix: Mix): string {
  const parts = CATEGORIES.filter((c) => c !== 'error' || mix.error > 0).map((c) => `${LABEL[c]} ${mix[c]}`);
  return `${parts.join(', ')} (${Math.round(serviceEntryShare(mix) * 100)}% in a ServiceEntry route or chain)`;
}
