// `egress-conformance matrix`: the whole catalogue with the oracle's verdicts.
import { loadCatalogue, expandCases } from '../../helpers/catalogue/load.ts';
import { expectProbe } from '../../helpers/oracle/index.ts';
import { pinFor } from '../../helpers/catalogue/pins.ts';
import { findPinnedBuild } from '../../helpers/tools/pilot-discovery.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { istioVersionFlag } from './options.ts';

export interface MatrixFlags {
  json?: boolean;
  istioVersion?: string;
}

export function runMatrix(flags: MatrixFlags, io: { out: (s: string) => void }): number {
  // A pinned istiod build's label stands for the rules of its oracle version.
  const istioVersion = istioVersionFlag(
    flags.istioVersion === undefined ? undefined : (findPinnedBuild(flags.istioVersion)?.istioVersion ?? flags.istioVersion),
  );
  const rows = expandCases(loadCatalogue()).map((c) => {
    const e = expectProbe(c.scenario.resources, c.probe, { istioVersion, policy: c.policy });
    const pin = pinFor(c.probe, c.policy, istioVersion)!;
    return {
      scenario: c.scenario.name,
      policy: c.policy,
      from: c.probe.from.namespace,
      to: c.probe.to.raw,
      verdict: e.verdict,
      cluster: e.cluster,
      ...(e.signal ? { signal: e.signal } : {}),
      pinned: pin.verdict === e.verdict && pin.cluster === e.cluster ? 'agrees' : `DISAGREES (${pin.verdict} ${pin.cluster})`,
      reason: e.reason,
    };
  });
  if (flags.json) {
    io.out(JSON.stringify({ istioVersion, cases: rows }, null, 2));
    return 0;
  }
  io.out(
    renderTable(
      ['SCENARIO', 'POLICY', 'FROM', 'TO', 'VERDICT', 'CLUSTER', 'HOW'],
      rows.map((r) => [r.scenario, r.policy, r.from, r.to, r.verdict + (r.pinned === 'agrees' ? '' : ' (!)'), r.cluster, r.signal ?? '']),
    ),
  );
  io.out(
    `${rows.length} cases, Istio ${istioVersion}${rows.some((r) => r.pinned !== 'agrees') ? '; (!) marks a case whose pinned verdict disagrees with the oracle' : ''}`,
  );
  return 0;
}
