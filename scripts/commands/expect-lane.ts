// `expect --lane control-plane`: the same probes asked of the real istiod (the control-plane lane) through
// the one driver, each answer set beside the model's, with a flag where they differ.
import type { PolicyMode, Probe, ResourceSet } from '../../helpers/model/types.ts';
import type { Lane } from '../../helpers/lanes/lane.ts';
import { controlPlanePin, createLane } from '../../helpers/lanes/select.ts';
import { expectProbe } from '../../helpers/oracle/index.ts';
import { formatProbeSource } from '../../helpers/probes/url.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { onInterrupt } from '../../helpers/process/interrupt.ts';
import { runCases, scenarioCases, withLane } from '../../helpers/driver/run-cases.ts';

export interface LaneExpectRow {
  from: string;
  to: string;
  /** What the real istiod programs: the verdict and cluster the sidecar would take. */
  verdict: 'allowed' | 'blocked' | 'error';
  cluster: string;
  /** The oracle's reason (for the oracle's answer). */
  reason: string;
  oracle: { verdict: string; cluster: string };
  agrees: boolean;
  /** The lane's path through listener → chain → route → cluster, or why it could not observe. */
  evidence: Record<string, unknown>;
  error?: string;
}

export interface LaneExpectOptions {
  resources: ResourceSet;
  probes: Probe[];
  policy?: PolicyMode;
  istioVersion?: string;
  json?: boolean;
  io: { out: (s: string) => void; err: (s: string) => void };
  createLane?: typeof createLane;
}

export async function expectOnLane(o: LaneExpectOptions): Promise<number> {
  const pin = controlPlanePin(o.istioVersion, process.env);
  const policy: PolicyMode = o.policy ?? o.resources.mesh.outboundTrafficPolicy ?? 'ALLOW_ANY';
  const lane: Lane = await (o.createLane ?? createLane)('control-plane', { pin, out: o.io.err });
  // Through the process's one signal owner, which exits 130/143 once the lane is down.
  const stopListening = onInterrupt(() => lane.teardown());
  const rows: LaneExpectRow[] = [];
  let istioVersion = pin.istioVersion;
  try {
    await withLane(lane, async (info) => {
      istioVersion = info.istioVersion;
      for await (const { case: c, observation: seen } of runCases(lane, scenarioCases('expect', policy, o.resources, o.probes))) {
        const e = expectProbe(o.resources, c.probe, { istioVersion: pin.istioVersion, policy });
        const cluster = seen.cluster ?? '';
        rows.push({
          from: formatProbeSource(c.probe.from),
          to: c.probe.to.raw,
          verdict: seen.verdict,
          cluster,
          reason: e.reason,
          oracle: { verdict: e.verdict, cluster: e.cluster },
          agrees: seen.verdict === e.verdict && cluster === e.cluster,
          evidence: seen.evidence,
          ...(seen.error ? { error: seen.error } : {}),
        });
      }
    });
  } finally {
    stopListening();
  }
  if (o.json) o.io.out(JSON.stringify(rows, null, 2));
  else {
    o.io.out(
      renderTable(
        ['#', 'FROM', 'TO', 'VERDICT', 'CLUSTER', 'ORACLE'],
        rows.map((r, i) => [
          String(i + 1),
          r.from,
          r.to,
          r.verdict,
          r.cluster || (r.error ?? ''),
          r.agrees ? 'agrees' : `DIFFERS: ${r.oracle.verdict} ${r.oracle.cluster}`,
        ]),
      ),
    );
    o.io.out(
      `\nAnswered by the real istiod ${istioVersion} (${pin.label ?? pin.goModuleVersion}, control-plane lane), mesh policy ${policy}. The oracle's reasons (rules of ${pin.istioVersion}):`,
    );
    rows.forEach((r, i) => o.io.out(`  ${i + 1}. ${r.reason}`));
  }
  const differ = rows.filter((r) => !r.agrees).length;
  if (differ) o.io.err(`${differ} of ${rows.length} probes: the real istiod and the oracle differ`);
  return differ ? 1 : 0;
}
