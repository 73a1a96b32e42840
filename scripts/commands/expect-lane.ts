// `expect` answered by the real istiod: the probes asked of istiod on the warm stack (`up`) when it runs
// the build asked for, else on a stack started for this call, through the one driver. Each answer shows
// istiod's path (listener → chain → route → cluster) as its explanation, the model's reason beside it,
// and a plain DIFFERS mark where the model disagrees.
import type { Observation, PolicyMode, Probe, ResourceSet } from '../../helpers/model/types.ts';
import type { PilotDiscoveryPin } from '../../helpers/tools/pilot-discovery.ts';
import { expectProbe } from '../../helpers/oracle/index.ts';
import { formatProbeSource } from '../../helpers/probes/url.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { onInterrupt } from '../../helpers/process/interrupt.ts';
import { runCases, scenarioCases } from '../../helpers/driver/run-cases.ts';
import { acquireStack, type AcquireOptions } from '../../helpers/stack/acquire.ts';

export interface LaneExpectRow {
  from: string;
  to: string;
  /** Who answered: the real istiod. */
  answeredBy: 'istiod';
  /** What the real istiod programs: the verdict and cluster the sidecar would take. */
  verdict: 'allowed' | 'blocked' | 'error';
  cluster: string;
  /** istiod's path for this call: listener → chain → route → cluster, from the xDS it sent. */
  path: string;
  /** The model's reason for its own answer. */
  reason: string;
  /** The model's answer (`oracle` is kept for scripts written against earlier versions). */
  model: { verdict: string; cluster: string };
  oracle: { verdict: string; cluster: string };
  agrees: boolean;
  evidence: Record<string, unknown>;
  error?: string;
}

export interface LaneExpectOptions {
  resources: ResourceSet;
  probes: Probe[];
  policy?: PolicyMode;
  pin: PilotDiscoveryPin;
  json?: boolean;
  io: { out: (s: string) => void; err: (s: string) => void };
  /** Tests start their stack their own way. */
  fresh?: AcquireOptions['fresh'];
  env?: NodeJS.ProcessEnv;
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** istiod's path for one call, from the evaluator's evidence: what the sidecar would do, step by step. */
export function istiodPath(o: Observation): string {
  const e = o.evidence ?? {};
  const steps: string[] = [];
  const listener = str(e.listener);
  if (listener) steps.push(`listener ${listener}${str(e.listenerMatch) && e.listenerMatch !== listener ? ` (${e.listenerMatch})` : ''}`);
  if (str(e.filterChain)) steps.push(`chain ${e.filterChain}`);
  if (str(e.routeConfig)) {
    const vh = str(e.virtualHost);
    const route = str(e.route);
    steps.push(`route ${e.routeConfig}${vh ? ` / virtual host ${vh}` : ''}${route ? ` / ${route}` : ''}`);
  }
  if (e.directResponse !== undefined) steps.push(`direct response ${String(e.directResponse)}`);
  if (o.cluster) steps.push(`cluster ${o.cluster}`);
  if (o.error) steps.push(`error: ${o.error}`);
  return steps.join(' → ') || '(no path: the evaluator recorded none)';
}

export async function expectOnLane(o: LaneExpectOptions): Promise<number> {
  const { pin } = o;
  const policy: PolicyMode = o.policy ?? o.resources.mesh.outboundTrafficPolicy ?? 'ALLOW_ANY';
  const say = (l: string) => o.io.err(l);
  const stack = await acquireStack({ pin, say, ...(o.fresh ? { fresh: o.fresh } : {}), ...(o.env ? { env: o.env } : {}) });
  // Through the process's one signal owner, which exits 130/143 once a stack started for this call is down.
  const stopListening = onInterrupt(() => stack.release());
  const rows: LaneExpectRow[] = [];
  let istioVersion = pin.istioVersion;
  try {
    const info = await stack.lane.setup();
    istioVersion = info.istioVersion;
    for await (const { case: c, observation: seen } of runCases(stack.lane, scenarioCases('expect', policy, o.resources, o.probes))) {
      const e = expectProbe(o.resources, c.probe, { istioVersion: pin.istioVersion, policy });
      const cluster = seen.cluster ?? '';
      const model = { verdict: e.verdict, cluster: e.cluster };
      rows.push({
        from: formatProbeSource(c.probe.from),
        to: c.probe.to.raw,
        answeredBy: 'istiod',
        verdict: seen.verdict,
        cluster,
        path: istiodPath(seen),
        reason: e.reason,
        model,
        oracle: model,
        agrees: seen.verdict === e.verdict && cluster === e.cluster,
        evidence: seen.evidence,
        ...(seen.error ? { error: seen.error } : {}),
      });
    }
  } finally {
    stopListening();
    await stack.release();
  }
  if (o.json) o.io.out(JSON.stringify(rows, null, 2));
  else {
    o.io.out(
      renderTable(
        ['#', 'FROM', 'TO', 'VERDICT', 'CLUSTER', 'MODEL'],
        rows.map((r, i) => [
          String(i + 1),
          r.from,
          r.to,
          r.verdict,
          r.cluster || (r.error ?? ''),
          r.agrees ? 'same' : `DIFFERS: ${r.model.verdict} ${r.model.cluster}`,
        ]),
      ),
    );
    o.io.out(
      `\nAnswered by istiod ${istioVersion} (${pin.label ?? pin.goModuleVersion}, ${stack.warm ? 'the warm stack' : 'a stack started for this call'}), mesh policy ${policy}:`,
    );
    rows.forEach((r, i) => {
      o.io.out(`  ${i + 1}. istiod: ${r.path}`);
      o.io.out(`     model${r.agrees ? '' : ' (DIFFERS)'}: ${r.reason}`);
    });
  }
  const differ = rows.filter((r) => !r.agrees).length;
  if (differ) o.io.err(`${differ} of ${rows.length} probes: the model differs from istiod (istiod's answer is the one above)`);
  return rows.some((r) => r.verdict === 'error') ? 1 : 0;
}
