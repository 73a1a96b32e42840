// `expect` answered by the real istiod: the probes asked of istiod on the warm stack (`up`) when it runs
// the build asked for, else on a stack started for this call, through the one driver. Each answer shows
// istiod's path (listener → chain → route → cluster) as its explanation, the model's reason beside it,
// and a plain DIFFERS mark where the model disagrees.
import type { Hop, Observation, PolicyMode, Probe, ResourceSet } from '../../helpers/model/types.ts';
import { formatHop, formatPath } from '../../helpers/model/hops.ts';
import type { PilotDiscoveryPin } from '../../helpers/tools/pilot-discovery.ts';
import { expectProbe } from '../../helpers/oracle/index.ts';
import { formatProbeSource } from '../../helpers/probes/url.ts';
import { xdsPath } from '../../helpers/report/xds-path.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { onInterrupt } from '../../helpers/process/interrupt.ts';
import { runCases, scenarioCases } from '../../helpers/driver/run-cases.ts';
import { acquireStack, type AcquireOptions, usableWarm } from '../../helpers/stack/acquire.ts';
import { askAnswerServer } from '../../helpers/stack/answer-client.ts';
import { buildName, uptime } from '../../helpers/stack/warm.ts';

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
  /** The call proxy by proxy when it goes past the sidecar (an egress gateway): istiod's, then the model's. */
  hops?: Hop[];
  /** Set when the call leaves directly although a gateway route exists for it: names that gateway. */
  bypassesGateway?: string;
  /** The model's answer (`oracle` is kept for scripts written against earlier versions). */
  model: { verdict: string; cluster: string; hops?: Hop[] };
  oracle: { verdict: string; cluster: string; hops?: Hop[] };
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

/** Hops as one comparable line; a call that ends at the sidecar has none. */
/**
 * The hops worth showing, and comparing: any past the sidecar, or a sidecar hop that originates TLS (a
 * DestinationRule's origination is part of the answer even on a one-hop call, and the model can get it wrong).
 */
export function telling(hops: Hop[] | undefined): Hop[] | undefined {
  return hops && (hops.length > 1 || hops.some((h) => h.tls)) ? hops : undefined;
}

const pathOf = (hops: Hop[] | undefined) => (hops ? hops.map((h) => formatHop(h, true)).join(' → ') : '');

/** istiod's path for one call, from the evaluator's evidence: what the sidecar would do, step by step. */
export function istiodPath(o: Observation): string {
  return xdsPath(o) || '(no path: the evaluator recorded none)';
}

interface Answered {
  istioVersion: string;
  /** Who answered, for the summary line. */
  where: string;
  observations: Observation[];
}

export async function expectOnLane(o: LaneExpectOptions): Promise<number> {
  const { pin } = o;
  const policy: PolicyMode = o.policy ?? o.resources.mesh.outboundTrafficPolicy ?? 'ALLOW_ANY';
  const say = (l: string) => o.io.err(l);
  const answered = (await fromAnswerServer(o, policy, say)) ?? (await inThisProcess(o, policy, say));
  if (answered.observations.length !== o.probes.length)
    throw new Error(`${answered.where} answered ${answered.observations.length} of ${o.probes.length} probes`);
  const rows: LaneExpectRow[] = o.probes.map((probe, i) => {
    const seen = answered.observations[i]!;
    const e = expectProbe(o.resources, probe, { istioVersion: pin.istioVersion, policy });
    const cluster = seen.cluster ?? '';
    const modelHops = telling(e.hops);
    const model = { verdict: e.verdict, cluster: e.cluster, ...(modelHops ? { hops: modelHops } : {}) };
    const hops = telling(seen.hops);
    return {
      from: formatProbeSource(probe.from),
      to: probe.to.raw,
      answeredBy: 'istiod',
      verdict: seen.verdict,
      cluster,
      path: istiodPath(seen),
      ...(hops ? { hops } : {}),
      ...(seen.bypassesGateway ? { bypassesGateway: seen.bypassesGateway } : {}),
      reason: e.reason,
      model,
      oracle: model,
      // Past the sidecar too: the same proxies, clusters and TLS, or the model differs.
      agrees: seen.verdict === e.verdict && cluster === e.cluster && pathOf(hops) === pathOf(model.hops),
      evidence: seen.evidence,
      ...(seen.error ? { error: seen.error } : {}),
    };
  });
  const istioVersion = answered.istioVersion;
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
          r.agrees ? 'same' : `DIFFERS: ${r.model.verdict} ${r.model.hops ? formatPath(r.model.hops) : r.model.cluster}`,
        ]),
      ),
    );
    o.io.out(`\nAnswered by istiod ${istioVersion} (${pin.label ?? pin.goModuleVersion}, ${answered.where}), mesh policy ${policy}:`);
    rows.forEach((r, i) => {
      o.io.out(`  ${i + 1}. istiod: ${r.path}`);
      if (r.hops) o.io.out(`     hops: ${formatPath(r.hops)}`);
      if (r.bypassesGateway) o.io.out(`     bypasses the gateway ${r.bypassesGateway}: the call leaves directly`);
      o.io.out(`     model${r.agrees ? '' : ' (DIFFERS)'}: ${r.reason}`);
    });
  }
  const differ = rows.filter((r) => !r.agrees).length;
  if (differ) o.io.err(`${differ} of ${rows.length} probes: the model differs from istiod (istiod's answer is the one above)`);
  return rows.some((r) => r.verdict === 'error') ? 1 : 0;
}

/** The warm stack's answer server, when it runs this command's code; undefined (said why) otherwise. */
async function fromAnswerServer(o: LaneExpectOptions, policy: PolicyMode, say: (l: string) => void): Promise<Answered | undefined> {
  if (o.fresh) return undefined;
  const rec = usableWarm({ pin: o.pin, say: () => {}, ...(o.env ? { env: o.env } : {}) });
  if (!rec?.answerServer) return undefined;
  const got = await askAnswerServer(rec, policy, o.resources, o.probes);
  if ('unavailable' in got) {
    say(`stack: not asking the warm stack's answer server: ${got.unavailable}; answering in this process`);
    return undefined;
  }
  say(`stack: using the warm stack (egress-conformance up, ${buildName(rec.build)}, up ${uptime(rec)}), through its answer server`);
  return { istioVersion: rec.build.istioVersion, where: 'the warm stack', observations: got.observations };
}

/** A lane in this process: on the warm stack when it fits, else on a stack started for this call. */
async function inThisProcess(o: LaneExpectOptions, policy: PolicyMode, say: (l: string) => void): Promise<Answered> {
  const stack = await acquireStack({ pin: o.pin, say, ...(o.fresh ? { fresh: o.fresh } : {}), ...(o.env ? { env: o.env } : {}) });
  // Through the process's one signal owner, which exits 130/143 once a stack started for this call is down.
  const stopListening = onInterrupt(() => stack.release());
  try {
    const info = await stack.lane.setup();
    const observations: Observation[] = [];
    for await (const { observation } of runCases(stack.lane, scenarioCases('expect', policy, o.resources, o.probes)))
      observations.push(observation);
    return { istioVersion: info.istioVersion, where: stack.warm ? 'the warm stack' : 'a stack started for this call', observations };
  } finally {
    stopListening();
    await stack.release();
  }
}
