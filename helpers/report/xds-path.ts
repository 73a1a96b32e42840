// istiod's path for one call as the control-plane evaluator recorded it in an observation's evidence, in one
// wording for every command that shows it (expect, lab check, the fuzzer and its corpus).
import type { Observation } from '../model/types.ts';

const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/**
 * `listener L (how) → chain C → route R / virtual host V / route name → direct response N | redirect N → cluster C`,
 * with `dial ADDRESS` first when asked; empty when the evidence holds no xDS step (the kind lane's, the model's).
 */
export function xdsPath(o: Observation, opts: { dial?: boolean } = {}): string {
  const e = o.evidence ?? {};
  const steps: string[] = [];
  if (opts.dial && text(e.destination)) steps.push(`dial ${e.destination}`);
  const listener = text(e.listener);
  if (listener) steps.push(`listener ${listener}${text(e.listenerMatch) && e.listenerMatch !== listener ? ` (${e.listenerMatch})` : ''}`);
  if (text(e.filterChain)) steps.push(`chain ${e.filterChain}`);
  if (text(e.routeConfig)) {
    const vh = text(e.virtualHost);
    const route = text(e.route);
    steps.push(`route ${e.routeConfig}${vh ? ` / virtual host ${vh}` : ''}${route ? ` / ${route}` : ''}`);
  }
  if (e.directResponse !== undefined) steps.push(`direct response ${String(e.directResponse)}`);
  const redirect = e.redirect as { status?: unknown } | undefined;
  if (redirect) steps.push(`redirect ${String(redirect.status ?? '')}`.trim());
  const cluster = o.cluster ?? text(e.cluster);
  if (cluster) steps.push(`cluster ${cluster}`);
  if (o.error) steps.push(`error: ${o.error}`);
  return steps.join(' → ');
}
