// A disagreement made as small as it goes with the lane in the loop: fast-check replays the generated
// scenario's path and shrinks it, failing on any disagreement, then a greedy pass trims what fast-check's
// shrinkers cannot reach. Every step is a scenario applied on the lane.
import fc from 'fast-check';
import type { Lane } from '../lanes/lane.ts';
import type { Simulator } from '../tools/simulator.ts';
import type { ScenarioOutcome } from './probe-outcome.ts';
import { runScenario } from './run-scenario.ts';
import { admit, type FuzzScenario } from './scenario.ts';
import { settleByReplay } from './variance.ts';

export interface Finding {
  /** fast-check path of the generated scenario (replay: same seed, this path). */
  path: string;
  original: FuzzScenario;
  shrunk: FuzzScenario;
  shrinkPath: string;
  shrinkSteps: number;
  outcome: ScenarioOutcome;
}

export interface ShrinkContext {
  lane: Lane;
  oracleVersion: string;
  simulator?: Simulator;
  /**
   * Each step that still disagrees is applied this many more times, and counts only if its disagreement holds
   * (variance.ts): a shrink must not drift into a scenario where istiod itself answers two ways. Default 2; 0: never.
   */
  replays?: number;
}

export const SHRINK_REPLAYS = 2;

/** Does the scenario still disagree, every replay included? A probe istiod answers otherwise on a replay is dropped. */
async function stillDisagrees(s: FuzzScenario, outcome: ScenarioOutcome, ctx: ShrinkContext): Promise<boolean> {
  if (outcome.disagreeing.length === 0) return false;
  await settleByReplay(ctx.lane, s, outcome, ctx, ctx.replays ?? SHRINK_REPLAYS, { freshProcess: false });
  return outcome.disagreeing.length > 0;
}

/** A disagreeing scenario as the main pass met it. */
export interface Found {
  path: string;
  scenario: FuzzScenario;
  outcome: ScenarioOutcome;
}

/**
 * fast-check's array shrinkers keep a suffix when they cut a list, so a needed first element can pin an
 * unneeded second one. Finish by hand: keep only the disagreeing probes (a probe's answer never depends on
 * the other probes), then drop each resource and each mesh setting the disagreement does not need, one lane
 * run per attempt.
 */
async function greedyTrim(
  start: { s: FuzzScenario; outcome: ScenarioOutcome },
  opts: ShrinkContext,
  step: () => void,
): Promise<{ s: FuzzScenario; outcome: ScenarioOutcome }> {
  if (start.outcome.disagreeing.length === 0) return start;
  const keep = new Set(start.outcome.disagreeing);
  let cur = {
    s: { ...start.s, probes: start.outcome.probes.filter((p) => keep.has(p)).map((p) => p.raw) },
    outcome: { probes: start.outcome.disagreeing, disagreeing: start.outcome.disagreeing, unknownTypes: start.outcome.unknownTypes },
  };
  const attempt = async (candidate: FuzzScenario): Promise<boolean> => {
    if (!admit(candidate).ok) return false;
    let outcome: ScenarioOutcome;
    try {
      outcome = await runScenario(opts.lane, candidate, opts);
    } catch {
      return false;
    }
    if (!(await stillDisagrees(candidate, outcome, opts))) return false;
    step();
    cur = { s: candidate, outcome };
    return true;
  };
  for (let i = cur.s.manifests.length - 1; i >= 0; i--) {
    await attempt({ ...cur.s, manifests: cur.s.manifests.filter((_, j) => j !== i) });
  }
  for (const k of Object.keys(cur.s.meshConfig)) {
    const { [k]: _drop, ...rest } = cur.s.meshConfig;
    await attempt({ ...cur.s, meshConfig: rest });
  }
  return cur;
}

/** Shrinks one found disagreement: replays its path under `arb` and `seed`, fast-check's shrink bounded by `shrinkTimeMs`. */
export async function shrinkFinding(
  f: Found,
  arb: fc.Arbitrary<FuzzScenario>,
  opts: { seed: number; shrinkTimeMs?: number },
  ctx: ShrinkContext,
): Promise<Finding> {
  let steps = 0;
  let last: { s: FuzzScenario; outcome: ScenarioOutcome } = { s: f.scenario, outcome: f.outcome };
  const r = await fc.check(
    fc.asyncProperty(arb, async (s) => {
      fc.pre(admit(s).ok);
      let outcome: ScenarioOutcome;
      try {
        outcome = await runScenario(ctx.lane, s, ctx);
      } catch {
        return true; // a lane failure is not the disagreement being shrunk
      }
      if (!(await stillDisagrees(s, outcome, ctx))) return true;
      steps++;
      last = { s, outcome };
      return false;
    }),
    { seed: opts.seed, path: f.path, numRuns: 1, interruptAfterTimeLimit: opts.shrinkTimeMs ?? 180_000 },
  );
  last = await greedyTrim(last, ctx, () => steps++);
  return {
    path: f.path,
    original: f.scenario,
    shrunk: last.s,
    shrinkPath: r.counterexamplePath ?? f.path,
    shrinkSteps: Math.max(0, steps - 1),
    outcome: last.outcome,
  };
}
