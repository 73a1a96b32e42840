// The fuzz loop: generated scenarios applied one at a time on a lane, every probe compared three ways
// (oracle, the lane's evaluator, Istio's simulator on the same xDS), and each disagreement shrunk by
// fast-check with the lane in the loop, then written as a rule fixture.
import fc from 'fast-check';
import type { Lane } from '../lanes/lane.ts';
import { StepError } from '../model/errors.ts';
import { Simulator } from '../tools/simulator.ts';
import { signature } from './disagreement.ts';
import { scenarioArb, type ScenarioArbOptions } from './generate.ts';
import type { ScenarioOutcome } from './probe-outcome.ts';
import { finishScenarios, runScenario } from './run-scenario.ts';
import { admit, type FuzzScenario } from './scenario.ts';
import { type Found, SHRINK_REPLAYS, shrinkFinding } from './shrink.ts';
import { DEFAULT_REPLAYS, settleByReplay } from './variance.ts';
import { countLaneError, countRejected, countScenario, emptySummary, type FuzzSummary } from './summary.ts';

export interface FuzzOptions {
  lane: Lane;
  oracleVersion: string;
  seed: number;
  /** Scenarios to run (admitted ones; rejected ones come on top). */
  count: number;
  /** Replay the one generated scenario at this fast-check path (the index printed as `path N`) under `seed`. */
  path?: string;
  /** Stop starting scenarios after this long (ms); shrinking of what was found still happens. */
  timeLimitMs?: number;
  /** The simulator binary; undefined runs the comparison two ways (oracle, lane). */
  simulator?: string;
  /** Bound per shrink (ms): each step is a scenario on the lane. */
  shrinkTimeMs?: number;
  /**
   * How many times a disagreeing scenario is applied again before its disagreement counts: a probe istiod then
   * answers otherwise, all three sides agreeing in one of the runs, is istiod varying, not the model (variance.ts).
   */
  replays?: number;
  /** How many distinct kinds of disagreement to shrink (the rest are listed by path). */
  maxShrinks?: number;
  arb?: ScenarioArbOptions;
  say?: (line: string) => void;
  /** Called with every scenario the lane answered (its fast-check path, the scenario, every probe's answers). */
  onScenario?: (path: string, scenario: FuzzScenario, outcome: ScenarioOutcome) => void;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const say = opts.say ?? (() => {});
  const arb = scenarioArb(opts.arb);
  const started = Date.now();
  const summary = emptySummary();
  const found: Found[] = [];
  const simulator = opts.simulator ? new Simulator(opts.simulator) : undefined;
  // A shrink step replays fewer times than a found scenario (each step is a lane run), never more; --replays 0: none.
  const ctx = {
    lane: opts.lane,
    oracleVersion: opts.oracleVersion,
    replays: Math.min(opts.replays ?? DEFAULT_REPLAYS, SHRINK_REPLAYS),
    ...(simulator ? { simulator } : {}),
  };
  try {
    // With a path, fast-check starts at that generated value: the index goes on from there.
    let index = opts.path !== undefined ? Number(opts.path) - 1 : -1;
    let consecutiveErrors = 0;
    const deadline = opts.timeLimitMs !== undefined ? started + opts.timeLimitMs : undefined;

    // Main pass: every property call is one generated value, so its index is fast-check's replay path.
    const main = await fc.check(
      fc.asyncProperty(arb, async (s) => {
        index++;
        if (deadline !== undefined && Date.now() > deadline) {
          summary.interrupted = true;
          return true; // fast-check's own interrupt is checked between runs; this ends the run promptly
        }
        const a = admit(s);
        if (!a.ok) {
          countRejected(summary, a.why);
          fc.pre(false);
        }
        let outcome: ScenarioOutcome;
        try {
          outcome = await runScenario(opts.lane, s, ctx);
          consecutiveErrors = 0;
        } catch (e) {
          // A lane that times out once is reported and the run goes on; one that keeps failing ends it.
          countLaneError(summary, (e as Error).message.split('\n')[0] ?? '');
          say(`generated scenario ${index}: the lane failed: ${(e as Error).message.split('\n')[0]}`);
          if (++consecutiveErrors >= 3)
            throw new StepError(`the lane failed on 3 scenarios in a row; last: ${(e as Error).message.split('\n')[0]}`);
          fc.pre(false); // skipped, like a rejected scenario, so the run still reaches --count scenarios
          return true;
        }
        if (outcome.disagreeing.length > 0) {
          const varied = await settleByReplay(opts.lane, s, outcome, ctx, opts.replays ?? DEFAULT_REPLAYS, { say });
          if (varied)
            say(`scenario ${summary.scenarios + 1} (path ${index}): istiod answered ${varied} probe(s) otherwise when applied again`);
        }
        countScenario(summary, String(index), s, outcome, !!opts.simulator);
        opts.onScenario?.(String(index), s, outcome);
        const [firstDisagreeing] = outcome.disagreeing;
        if (firstDisagreeing) {
          const sig = signature(firstDisagreeing);
          const seen = summary.alsoSeen.get(sig);
          if (seen) seen.push(String(index));
          else if (found.length < (opts.maxShrinks ?? 5)) {
            summary.alsoSeen.set(sig, []);
            found.push({ path: String(index), scenario: s, outcome });
          } else summary.alsoSeen.set(sig, [String(index)]);
          say(
            `scenario ${summary.scenarios} (path ${index}): ${outcome.disagreeing.length} disagreeing probe(s): ${firstDisagreeing.differences[0]}`,
          );
        } else if (summary.scenarios % 25 === 0) {
          say(
            `${summary.scenarios} scenarios, ${summary.probes} probes, ${summary.disagreements} disagreements (${Math.round((Date.now() - started) / 1000)} s)`,
          );
        }
        return true;
      }),
      {
        seed: opts.seed,
        numRuns: opts.count,
        ...(opts.path !== undefined ? { path: opts.path } : {}),
        // Two thirds of generated scenarios are admitted; leave room for rejects.
        maxSkipsPerRun: 20,
        // The main pass only fails when the lane is broken: no shrinking then.
        endOnFailure: true,
        ...(opts.timeLimitMs !== undefined ? { interruptAfterTimeLimit: opts.timeLimitMs } : {}),
      },
    );
    if (main.failed && main.errorInstance instanceof Error) throw main.errorInstance;
    if (deadline !== undefined && Date.now() > deadline) summary.interrupted = true;

    for (const f of found) {
      say(`shrinking the scenario at path ${f.path} (each step runs on the lane)…`);
      summary.findings.push(await shrinkFinding(f, arb, { seed: opts.seed, shrinkTimeMs: opts.shrinkTimeMs }, ctx));
    }
  } finally {
    await finishScenarios(opts.lane);
    await simulator?.close();
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}
