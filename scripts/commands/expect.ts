// `egress-conformance expect`: the oracle's verdict for probes against resources from YAML files.
import type { Expectation } from '../../helpers/model/types.ts';
import { UserError } from '../../helpers/model/errors.ts';
import { loadResourceFiles } from '../../helpers/istio/load.ts';
import { formatProbeSource, parseProbeFlag } from '../../helpers/probes/url.ts';
import { unknownSourceNotes } from '../../helpers/istio/namespaces.ts';
import { expectProbe } from '../../helpers/oracle/index.ts';
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
  if (flags.lane !== undefined && flags.lane !== 'oracle' && flags.lane !== 'control-plane')
    throw new UserError(`--lane: "${flags.lane}" is not a lane expect can ask; use oracle (default) or control-plane (the real istiod)`);
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
  const rows: ExpectRow[] = probes.map(({ from, target }) => {
    const e = expectProbe(resources, { from, to: target }, { istioVersion, ...(policy ? { policy } : {}) });
    return { from: formatProbeSource(from), to: target.raw, verdict: e.verdict, cluster: e.cluster, reason: e.reason };
  });
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
