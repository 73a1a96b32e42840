// `egress-conformance fuzz [--seed N] [--count N] [--minutes M]`: generated scenarios on the real istiod
// (control-plane lane), every probe compared with the oracle and Istio's simulator; each disagreement
// shrunk and written as a rule fixture. Last line: `N scenarios, N probes, N disagreements`.
import { join, relative } from 'node:path';
import { UserError } from '../../helpers/model/errors.ts';
import { createLane } from '../../helpers/lanes/select.ts';
import { warmStackForRun } from '../../helpers/stack/exclusive.ts';
import { PINNED_PILOT } from '../../helpers/tools/pilot-discovery.ts';
import { resolveTarget } from '../../helpers/lanes/target.ts';
import { runFuzz } from '../../helpers/fuzz/run.ts';
import { DEFAULT_REPLAYS } from '../../helpers/fuzz/variance.ts';
import type { FuzzSummary } from '../../helpers/fuzz/summary.ts';
import { writeFixture } from '../../helpers/fuzz/fixture.ts';
import { findSimulatorSync } from '../../helpers/tools/simulator.ts';
import { formatMix } from '../../helpers/fuzz/outcome.ts';
import type { Lane } from '../../helpers/lanes/lane.ts';

export interface FuzzFlags {
  seed?: string;
  count?: string;
  minutes?: string;
  out?: string;
  simulator?: boolean;
  replays?: string;
  path?: string;
}

export interface ParsedFuzzFlags {
  seed: number;
  count: number;
  /** One generated scenario to replay (its fast-check path under the seed), instead of a run of `count`. */
  path?: string;
  minutes?: number;
  replays: number;
  out: string;
  simulator: boolean;
}

function wholeNumber(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v.trim())) throw new UserError(`${flag}: "${v}" must be a whole number from ${min} to ${max}`);
  const n = Number(v);
  if (n < min || n > max) throw new UserError(`${flag}: "${v}" must be a whole number from ${min} to ${max}`);
  return n;
}

export function parseFuzzFlags(f: FuzzFlags, randomSeed: () => number = () => Math.floor(Math.random() * 2 ** 31)): ParsedFuzzFlags {
  const seed = f.seed !== undefined ? wholeNumber('--seed', f.seed, 0, 2 ** 31 - 1) : randomSeed();
  const count = f.count !== undefined ? wholeNumber('--count', f.count, 1, 1_000_000) : 100;
  let minutes: number | undefined;
  if (f.minutes !== undefined) {
    minutes = Number(f.minutes);
    if (!/^\d+(\.\d+)?$/.test(f.minutes.trim()) || !(minutes > 0) || minutes > 24 * 60) {
      throw new UserError(`--minutes: "${f.minutes}" must be a number of minutes greater than 0 (at most 1440), e.g. 2 or 0.5`);
    }
  }
  const replays = f.replays !== undefined ? wholeNumber('--replays', f.replays, 0, 50) : DEFAULT_REPLAYS;
  if (f.path !== undefined) {
    // A path is an index into the seed's stream of generated scenarios: without the seed it names nothing.
    if (f.seed === undefined)
      throw new UserError(`--path ${f.path}: give the seed it was found under as well (--seed N), as the fixture's \`found\` says`);
    wholeNumber('--path', f.path, 0, 10_000_000);
  }
  return {
    seed,
    count: f.path !== undefined ? 1 : count,
    ...(f.path !== undefined ? { path: String(Number(f.path)) } : {}),
    replays,
    ...(minutes !== undefined ? { minutes } : {}),
    out: f.out ?? join('artifacts', 'fuzz'),
    simulator: f.simulator !== false,
  };
}

export function summaryLine(s: Pick<FuzzSummary, 'scenarios' | 'probes' | 'disagreements'>): string {
  return `${s.scenarios} scenarios, ${s.probes} probes, ${s.disagreements} disagreements`;
}

export interface FuzzDeps {
  makeLane?: () => Promise<Lane>;
  simulator?: string | undefined;
  istioVersion?: string;
}

export async function runFuzzCommand(
  flags: FuzzFlags,
  io: { out: (s: string) => void; err: (s: string) => void },
  deps: FuzzDeps = {},
): Promise<number> {
  const p = parseFuzzFlags(flags);
  const oracleVersion = deps.istioVersion ?? resolveTarget('control-plane', undefined).rules;
  const simulator = !p.simulator ? undefined : 'simulator' in deps ? deps.simulator : findSimulatorSync();
  io.out(
    `fuzz: seed ${p.seed}, ${p.path !== undefined ? `the generated scenario at path ${p.path} alone` : `up to ${p.count} scenarios${p.minutes ? ` or ${p.minutes} min` : ''}`}, oracle rules of Istio ${oracleVersion}; ` +
      `referees: the real istiod (control-plane lane)${simulator ? ` and Istio's simulator (${simulator})` : p.simulator ? "; Istio's simulator is not built (`egress-conformance tools install simulator`), so two-way only" : ''}`,
  );
  const target = resolveTarget('control-plane', undefined);
  const warm = deps.makeLane
    ? undefined
    : await warmStackForRun({ pin: target.pin ?? PINNED_PILOT, what: 'egress-conformance fuzz', say: io.err });
  const lane = deps.makeLane ? await deps.makeLane() : (warm?.lane ?? (await createLane('control-plane', { target, out: io.err })));
  let summary: FuzzSummary;
  try {
    const info = await lane.setup();
    io.out(`lane: ${info.lane}, istiod ${info.istioVersion}`);
    summary = await runFuzz({
      lane,
      oracleVersion,
      seed: p.seed,
      count: p.count,
      ...(p.path !== undefined ? { path: p.path } : {}),
      ...(p.minutes ? { timeLimitMs: p.minutes * 60_000 } : {}),
      ...(simulator ? { simulator } : {}),
      replays: p.replays,
      say: io.out,
    });
    const rejects = [...summary.rejectReasons]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([k, n]) => `${n}× ${k}`);
    io.out(`${summary.rejected} generated scenarios rejected by admission${rejects.length ? `: ${rejects.join('; ')}` : ''}`);
    const dropped = [...summary.droppedResources].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× ${k}`);
    if (dropped.length) io.out(`generated resources dropped alone (no small repair made them valid): ${dropped.slice(0, 5).join('; ')}`);
    if (summary.unknownTypes.size)
      io.out(
        `xDS types the simulator did not know (it ran without them): ${[...summary.unknownTypes].map(([t, n]) => `${t} (${n} snapshots)`).join(', ')}`,
      );
    if (summary.simulatorMissing) io.out(`${summary.simulatorMissing} probe(s) the simulator could not answer (counted as disagreements)`);
    const minutes = summary.elapsedMs / 60_000;
    io.out(
      `${(summary.scenarios / Math.max(minutes, 1e-9)).toFixed(1)} scenarios/min over ${minutes.toFixed(1)} min${summary.interrupted ? ' (stopped by --minutes)' : ''}` +
        (simulator ? `; simulator compared on ${summary.simulatorRuns} probes` : ''),
    );
    if (summary.laneErrors)
      io.out(
        `${summary.laneErrors} generated scenario(s) the lane failed to apply or observe (not counted): ${summary.laneErrorCauses.join('; ')}`,
      );
    if (summary.disagreements)
      io.out(`disagreements: oracle≠lane on ${summary.oracleLane} probe(s), simulator≠lane on ${summary.simulatorLane}`);
    if (summary.varied.length)
      io.out(
        `istiod itself answered ${summary.varied.length} probe(s) two ways (each scenario applied ${p.replays} more times, and as many again on a fresh istiod when those never varied; in one run the model, istiod and the simulator agreed), not counted as disagreements: ${summary.varied.slice(0, 5).join('; ')}${summary.varied.length > 5 ? '; …' : ''}`,
      );
    for (const [sig, paths] of summary.alsoSeen)
      if (paths.length) io.out(`same kind as above, not shrunk: ${sig} — generated scenario(s) ${paths.join(', ')}`);
    for (const f of summary.findings) {
      const file = writeFixture(p.out, f, { seed: p.seed, istio: info.istioVersion });
      io.out(
        `shrunk scenario ${f.path} (${f.shrinkSteps} step(s)) → ${relative(process.cwd(), file)}; review, then move it into fixtures/rules/`,
      );
    }
  } finally {
    await lane.teardown();
    await warm?.release();
  }
  io.out(`outcome mix (istiod's xDS): ${formatMix(summary.mix)}`);
  io.out(summaryLine(summary));
  return summary.disagreements > 0 || summary.laneErrors > 0 ? 1 : 0;
}
