// `egress-conformance compare --from A --to B`: upgrade validation. Runs the catalogue, the rule
// scenarios and the user's case files on version A and on version B (two real istiod builds on the
// control-plane lane, one after the other; or the model's rules with --lane model), lists only the
// probes whose verdict, cluster or path changes, each with the version-gated rule behind it or UNEXPLAINED,
// and exits 0 only when every observed change is predicted and no predicted change is missing; with
// --fail-on, 1 exactly when a change goes that way (or a probe could not be observed).
import { join, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Lane } from '../../helpers/lanes/lane.ts';
import { EnvironmentError, UserError } from '../../helpers/model/errors.ts';
import { findIstioctlBuildSync, findPilotDiscoverySync } from '../../helpers/tools/pilot-locate.ts';
import { prepareReportDir } from '../../helpers/report/dir.ts';
import { gatherCases } from '../../helpers/compare/gather.ts';
import { parseCompareLane, resolveTarget, type CompareTarget } from '../../helpers/compare/targets.ts';
import { observe } from '../../helpers/compare/observe.ts';
import { compareObservations } from '../../helpers/compare/diff.ts';
import { gateExit, parseFailOn } from '../../helpers/compare/fail-on.ts';
import { renderMarkdown } from '../../helpers/compare/markdown.ts';
import { renderTerminal, summaryLine, toDocument } from '../../helpers/compare/report.ts';
import { onInterrupt } from '../../helpers/process/interrupt.ts';

export interface CompareFlags {
  from?: string;
  to?: string;
  file?: string[];
  cases?: string;
  lane?: string;
  json?: boolean;
  reportDir?: string;
  /** commander's --no-builtin. */
  builtin?: boolean;
  failOn?: string;
}

/** Both builds must be in the cache before either starts: one line naming the commands that build them. */
function requireBuilds(targets: CompareTarget[], env: NodeJS.ProcessEnv = process.env): void {
  if (env.PILOT_DISCOVERY) {
    throw new UserError(
      'PILOT_DISCOVERY is set, but compare runs two pinned istiod builds from the cache, one per side; unset PILOT_DISCOVERY',
    );
  }
  const commands = targets.flatMap((t) => [
    ...(findPilotDiscoverySync(t.pin, env) ? [] : [`tools install pilot-discovery --version ${t.label}`]),
    ...(findIstioctlBuildSync(t.pin, env) ? [] : [`tools install istioctl-build --version ${t.label}`]),
  ]);
  if (commands.length) {
    throw new EnvironmentError(
      `compare on the control-plane lane needs both istiod builds; run ${commands.map((c) => `\`egress-conformance ${c}\``).join(', ')} (needs Go, a few minutes each), or use --lane model`,
    );
  }
}

export async function runCompare(flags: CompareFlags, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const failOn = parseFailOn(flags.failOn);
  const lane = parseCompareLane(flags.lane, io.err);
  const from = resolveTarget(flags.from, '--from', lane);
  const to = resolveTarget(flags.to, '--to', lane);
  if (from.oracleVersion === to.oracleVersion && from.label === to.label)
    throw new UserError(`--to: "${flags.to}" is the same build as --from; compare two different versions`);
  if (lane === 'control-plane') requireBuilds([from, to]);
  const cases = gatherCases({ files: flags.file, casesDir: flags.cases, builtin: flags.builtin });
  const reportDir = prepareReportDir(resolve(flags.reportDir ?? join('artifacts', 'compare')));

  // Ctrl-C while an istiod build runs: tear down what the lane started, then exit as interrupted.
  let current: Lane | undefined;
  // Through the process's one signal owner, which exits 130/143 once the lane is down.
  const stopListening = onInterrupt(async (sig) => {
    io.err(`\n${sig}: stopping the comparison; tearing the lane down…`);
    await current?.teardown();
  });
  try {
    const say = (l: string) => io.err(l);
    say(
      `compare: ${cases.length} probes on ${from.label} (rules of ${from.oracleVersion}), then ${to.label} (rules of ${to.oracleVersion}), ${lane} lane`,
    );
    const a = await observe(lane, cases, from, { say, onLane: (l) => (current = l) });
    const b = await observe(lane, cases, to, { say, onLane: (l) => (current = l) });
    const comparison = compareObservations(cases, from, to, a.observations, b.observations);
    const doc = toDocument(lane, from, to, comparison, { from: a.details, to: b.details });
    writeFileSync(join(reportDir, 'compare.json'), `${JSON.stringify(doc, null, 2)}\n`);
    writeFileSync(join(reportDir, 'compare.md'), renderMarkdown(doc));
    if (flags.json) {
      io.out(JSON.stringify(doc, null, 2));
      io.err(summaryLine(doc));
    } else io.out(renderTerminal(doc));
    io.err(`reports: ${join(reportDir, 'compare.json')}, ${join(reportDir, 'compare.md')}`);
    const gate = gateExit(comparison, failOn);
    if (gate.reason) io.err(gate.reason);
    return gate.code;
  } finally {
    stopListening();
  }
}
