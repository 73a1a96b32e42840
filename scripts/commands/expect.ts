// `egress-conformance expect`: the oracle's verdict for probes against resources from YAML files.
import type { Expectation } from '../../helpers/model/types.ts';
import { UserError } from '../../helpers/model/errors.ts';
import { loadResourceFiles } from '../../helpers/istio/load.ts';
import { formatProbeSource, parseProbeFlag } from '../../helpers/probes/url.ts';
import { unknownSourceNotes } from '../../helpers/istio/namespaces.ts';
import type { PolicyMode, Probe, ResourceSet } from '../../helpers/model/types.ts';
import { meshMode } from '../../helpers/oracle/policy.ts';
import { ModelLane } from '../../helpers/lanes/model/lane.ts';
import { ORACLE_ALIAS_NOTE } from '../../helpers/lanes/select.ts';
import { observeAll, scenarioCases } from '../../helpers/driver/run-cases.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { istioVersionFlag, parsePolicy } from './options.ts';

export interface ExpectFlags {
  file?: string[];
  probe?: string[];
  policy?: string;
  istioVersion?: string;
  json?: boolean;
  /** `control-plane`: ask the real istiod too (expect-lane.ts). */
  lane?: string;
}

export interface ExpectRow {
  from: string;
  to: string;
  verdict: Expectation['verdict'];
  cluster: string;
  reason: string;
}

export function runExpect(flags: ExpectFlags, io: { out: (s: string) => void; err: (s: string) => void }): number | Promise<number> {
  if (!flags.file?.length)
    throw new UserError(
      '-f: give at least one file, e.g. -f fixtures/serviceentries/db-course.yaml (IstioOperator, ServiceEntry and Sidecar resources)',
    );
  if (!flags.probe?.length) throw new UserError('--probe: give at least one, e.g. --probe frontend=tcp://db.example.com:5432');
  const policy = parsePolicy(flags.policy);
  if (flags.lane !== undefined && !['model', 'oracle', 'control-plane'].includes(flags.lane))
    throw new UserError(`--lane: "${flags.lane}" is not a lane expect can ask; use model (default) or control-plane (the real istiod)`);
  if (flags.lane === 'oracle') io.err(ORACLE_ALIAS_NOTE);
  const onLane = flags.lane === 'control-plane';
  // On the lane, --istio-version names the istiod build (a pinned build's label too); the oracle follows it.
  const istioVersion = onLane ? '' : istioVersionFlag(flags.istioVersion);
  const probes = flags.probe.map(parseProbeFlag);
  const notes: string[] = [];
  const resources = loadResourceFiles(flags.file, notes);
  notes.push(
    ...unknownSourceNotes(
      resources,
      probes.map((p, i) => ({ namespace: p.namespace, flag: `--probe ${flags.probe![i]}` })),
    ),
  );
  for (const n of notes) io.err(`note: ${n}`);
  if (onLane) {
    return import('./expect-lane.ts').then(({ expectOnLane }) =>
      expectOnLane({
        resources,
        probes: probes.map((p) => ({ from: p.from, to: p.target })),
        policy,
        istioVersion: flags.istioVersion,
        json: flags.json,
        io,
      }),
    );
  }
  return onModel(
    flags,
    io,
    resources,
    probes.map((p) => ({ from: p.from, to: p.target })),
    istioVersion,
    policy,
  );
}

/** The model lane's answers, through the one driver; the reason is the observation's summary. */
async function onModel(
  flags: ExpectFlags,
  io: { out: (s: string) => void },
  resources: ResourceSet,
  probes: Probe[],
  istioVersion: string,
  policy: PolicyMode | undefined,
): Promise<number> {
  const lane = new ModelLane({ istioVersion });
  const rows: ExpectRow[] = [];
  for (const { case: c, observation: o } of await observeAll(
    lane,
    scenarioCases('expect', meshMode(resources, policy), resources, probes),
  )) {
    if (o.verdict === 'error') throw new Error(`the model failed on ${c.probe.to.raw}: ${o.error}`);
    rows.push({
      from: formatProbeSource(c.probe.from),
      to: c.probe.to.raw,
      verdict: o.verdict,
      cluster: o.cluster ?? '',
      reason: o.summary ?? '',
    });
  }
  if (flags.json) io.out(JSON.stringify(rows, null, 2));
  else {
    io.out(
      renderTable(
        ['#', 'FROM', 'TO', 'VERDICT', 'CLUSTER'],
        rows.map((r, i) => [String(i + 1), r.from, r.to, r.verdict, r.cluster]),
      ),
    );
    io.out(`\nWhy (Istio ${istioVersion}, mesh policy ${policy ?? resources.mesh.outboundTrafficPolicy ?? "ALLOW_ANY, Istio's default"}):`);
    rows.forEach((r, i) => io.out(`  ${i + 1}. ${r.reason}`));
  }
  return 0;
}
