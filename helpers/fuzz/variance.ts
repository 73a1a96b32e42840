// Where istiod's own answer varies from one application of a scenario to the next. Some of Istio's choices are
// left to a Go map's iteration order: an entry with several addresses becomes one Service per address and
// istiod keeps one per host in map order (pilot/pkg/serviceregistry/serviceentry/conversion.go
// convertServices, pilot/pkg/networking/core/httproute.go servicesByName); virtual hosts of hosts sharing an
// address are built iterating a map (pilot/pkg/networking/core/route/route.go). No model can pin such an
// answer. A probe counts as varying only when istiod was seen answering it two ways, by applying the same
// scenario again on the lane: never inferred from the rule it touches.
import type { Lane } from '../lanes/lane.ts';
import type { Simulator } from '../tools/simulator.ts';
import type { ProbeOutcome, ScenarioOutcome } from './probe-outcome.ts';
import { type Answer, fromObservation, sameAnswer } from './referee.ts';
import { runScenario } from './run-scenario.ts';
import type { FuzzScenario } from './scenario.ts';

/** Replays that settle a disagreeing scenario: a three-way tie (seen in the corpus: hosts sharing an address) hides an answer from all of them 1.7 % of the time. */
export const DEFAULT_REPLAYS = 10;

export interface Varies<A extends Answer = Answer> {
  /** How many times the scenario was applied (the first run included). */
  runs: number;
  /** Each distinct answer istiod gave, with how many runs gave it; at least two. */
  answers: Array<{ answer: A; times: number }>;
}

/**
 * The distinct answers among `answers` and how often each came (an error is never an answer istiod gave: it is
 * left out), or undefined when fewer than two distinct ones remain: one answer is no variance.
 */
export function variesOf<A extends Answer>(answers: A[]): Varies<A> | undefined {
  const tally: Array<{ answer: A; times: number }> = [];
  for (const a of answers) {
    if (a.verdict === 'error') continue;
    const seen = tally.find((t) => sameAnswer(t.answer, a));
    if (seen) seen.times++;
    else tally.push({ answer: a, times: 1 });
  }
  return tally.length >= 2 ? { runs: answers.length, answers: tally } : undefined;
}

/** Whether `model` is one of the answers istiod was seen giving. */
export function withinVaries(model: Answer, varies: Varies | undefined): boolean {
  return varies?.answers.some((t) => sameAnswer(model, t.answer)) ?? false;
}

/** The scenario applied `times` more times on the lane, each run compared as the first one was. */
export async function replayScenario(
  lane: Lane,
  s: FuzzScenario,
  ctx: { oracleVersion: string; simulator?: Simulator },
  times: number,
): Promise<ScenarioOutcome[]> {
  const out: ScenarioOutcome[] = [];
  for (let i = 0; i < times; i++) out.push(await runScenario(lane, s, ctx));
  return out;
}

/** Whether istiod was seen answering `p` of `outcome` two ways in `replays`, one run agreeing on every side. */
function variesOnReplay(outcome: ScenarioOutcome, p: ProbeOutcome, replays: ScenarioOutcome[]): Varies | undefined {
  const i = outcome.probes.indexOf(p);
  const again = replays.map((r) => r.probes[i]).filter((q) => q !== undefined);
  if (!again.some((q) => q.differences.length === 0)) return undefined;
  return variesOf([fromObservation(p.lane), ...again.map((q) => fromObservation(q.lane))]);
}

/**
 * Settles a disagreeing scenario by replaying it: a disagreeing probe is taken out of `disagreeing` (and given
 * `varies`) only when, in some replay, the model, istiod and the simulator all agreed on it, while istiod
 * answered it otherwise in another run. Anything else stays a disagreement. Returns how many probes varied.
 *
 * The replays run on the lane's istiod first. A process that has run many scenarios can keep one map order
 * for good (a Go map that once grew holds its entries far apart, and iteration starts at a random slot: nearly
 * always in the same gap), so when a probe is still unsettled the scenario is applied as many times again on a
 * fresh istiod, where the lane can start one (Lane.withFreshControlPlane): seed 1's scenario 5 answered the same
 * way 11 times in one long run, and three ways over 51 runs in a process of its own. `freshProcess: false` (each
 * shrink step) keeps to the lane's istiod: a step costs a start of istiod otherwise.
 */
export async function settleByReplay(
  lane: Lane,
  s: FuzzScenario,
  outcome: ScenarioOutcome,
  ctx: { oracleVersion: string; simulator?: Simulator },
  times: number,
  opts: { freshProcess?: boolean; say?: (line: string) => void } = {},
): Promise<number> {
  if (outcome.disagreeing.length === 0 || times < 1) return 0;
  let replays = await replayScenario(lane, s, ctx, times);
  if ((opts.freshProcess ?? true) && lane.withFreshControlPlane && outcome.disagreeing.some((p) => !variesOnReplay(outcome, p, replays))) {
    // A second istiod that cannot start (a port taken meanwhile) settles nothing: the disagreement stays, said aloud,
    // and the run goes on.
    try {
      const fresh = await lane.withFreshControlPlane(() => replayScenario(lane, s, ctx, times));
      replays = [...replays, ...fresh];
    } catch (e) {
      opts.say?.(`replays on a fresh istiod failed, the disagreement stands: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  let varied = 0;
  for (const p of outcome.disagreeing) {
    const varies = variesOnReplay(outcome, p, replays);
    if (!varies) continue;
    p.varies = varies;
    p.differences = [];
    varied++;
  }
  outcome.disagreeing = outcome.disagreeing.filter((p) => p.differences.length > 0);
  return varied;
}
