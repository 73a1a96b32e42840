// `egress-conformance rules`: the version-gated rules of the oracle, and which pinned builds have each.
import { CHECKED_NOT_GATES, GATES, gateOpen, ORACLE_BEYOND, ORACLE_FIRST, parseIstioVersion } from '../../helpers/oracle/version.ts';
import { PINNED_BUILDS } from '../../helpers/tools/pilot-discovery.ts';
import { renderTable } from '../../helpers/report/table.ts';

export interface RulesFlags {
  json?: boolean;
  /** Mark which rules this version has. */
  istioVersion?: string;
}

export function runRules(flags: RulesFlags, io: { out: (s: string) => void }): number {
  const asked = flags.istioVersion ? parseIstioVersion(flags.istioVersion) : undefined;
  const builds = PINNED_BUILDS.map((b) => ({
    label: b.label ?? b.goModuleVersion,
    goModuleVersion: b.goModuleVersion,
    istioVersion: b.istioVersion,
    v: parseIstioVersion(b.istioVersion, 'fixtures/versions.json'),
  }));
  const rules = GATES.map((g) => ({
    id: g.id,
    since: g.since,
    title: g.title,
    before: g.before,
    after: g.after,
    upstream: g.upstream,
    source: g.source,
    builds: Object.fromEntries(builds.map((b) => [b.label, gateOpen(b.v, g.id)])),
    ...(asked ? { applies: gateOpen(asked, g.id) } : {}),
  }));
  if (flags.json) {
    io.out(
      JSON.stringify(
        {
          knownVersions: { from: ORACLE_FIRST, before: ORACLE_BEYOND },
          builds: builds.map(({ v: _v, ...b }) => b),
          rules,
          checkedNotGates: CHECKED_NOT_GATES,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const cols = ['RULE', 'SINCE', 'UPSTREAM', ...(asked ? [flags.istioVersion!] : []), ...builds.map((b) => b.label)];
  io.out(
    renderTable(
      cols,
      rules.map((r) => [
        r.id,
        r.since,
        r.upstream.split(' ')[0]!,
        ...(asked ? [r.applies ? 'yes' : 'no'] : []),
        ...builds.map((b) => (r.builds[b.label] ? 'yes' : 'no')),
      ]),
    ),
  );
  io.out('');
  for (const r of rules) {
    io.out(`${r.id} — ${r.title} (since ${r.since}; ${r.upstream})`);
    io.out(`  before: ${r.before}`);
    io.out(`  since:  ${r.after}`);
    io.out(`  source: ${r.source.join('; ')}`);
  }
  for (const c of CHECKED_NOT_GATES) io.out(`\nChecked, not a gate: ${c.claim} (${c.upstream}): ${c.finding}.`);
  io.out(
    `\nThe oracle knows Istio ${ORACLE_FIRST} up to master before ${ORACLE_BEYOND}; pinned builds: ${builds.map((b) => `${b.label} = rules of ${b.istioVersion}`).join(', ')}.`,
  );
  return 0;
}
