// `npm run bench:fuzz -- [--count N] [--seed N] [--no-simulator]`: fuzz throughput on one control-plane stack
// for the whole run (scenarios/min, probes/min) and where the time goes: lane apply, observe, clear, and the
// rest (oracle, simulator, generation). The goal on the project's 2-core machine is 150 scenarios/min.
import { Command } from 'commander';
import { runFuzz } from '../helpers/fuzz/run.ts';
import { formatMix } from '../helpers/fuzz/outcome.ts';
import type { Lane } from '../helpers/lanes/lane.ts';
import { createLane } from '../helpers/lanes/select.ts';
import { PINNED_PILOT } from '../helpers/tools/pilot-discovery.ts';
import { findSimulatorSync } from '../helpers/tools/simulator.ts';

type Step = 'apply' | 'observe' | 'clear';
/** The lane's per-scenario calls and the step each is counted in: going from one scenario to the next is `apply`. */
const METHODS = { applyScenario: 'apply', replaceScenario: 'apply', observe: 'observe', clearScenario: 'clear' } as const;

/**
 * Wraps the lane's per-scenario calls to add up their time. Only the outermost call counts: replaceScenario
 * applies through applyScenario, which must not be counted twice.
 */
function timed(lane: Lane, spent: Record<Step, number>, parts: Map<string, number>): Lane {
  let depth = 0;
  const calls = lane as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>;
  for (const [method, step] of Object.entries(METHODS)) {
    const inner = calls[method]?.bind(lane);
    if (!inner) continue;
    calls[method] = async (...a: unknown[]) => {
      const outermost = depth++ === 0;
      const t = performance.now();
      try {
        return await inner(...a);
      } finally {
        depth--;
        if (outermost) spent[step] += performance.now() - t;
        // The control-plane lane's own split of an apply (ControlPlaneLane.lastApply), summed per part.
        const split = (lane as { lastApply?: Record<string, number> }).lastApply;
        if (outermost && step === 'apply' && split)
          for (const [k, v] of Object.entries(split)) if (k.endsWith('Ms') && k !== 'totalMs') parts.set(k, (parts.get(k) ?? 0) + v);
      }
    };
  }
  return lane;
}

const program = new Command('bench-fuzz')
  .option('--count <n>', 'scenarios', '100')
  .option('--seed <n>', 'seed', '1')
  .option('--no-simulator', "without Istio's simulator")
  .action(async (o: { count: string; seed: string; simulator: boolean }) => {
    const spent: Record<Step, number> = { apply: 0, observe: 0, clear: 0 };
    const parts = new Map<string, number>();
    const lane = timed(await createLane('control-plane', { out: (l) => process.stderr.write(`${l}\n`) }), spent, parts);
    const t0 = performance.now();
    try {
      const info = await lane.setup();
      const setupMs = performance.now() - t0;
      const simulator = o.simulator ? findSimulatorSync() : undefined;
      const s = await runFuzz({
        lane,
        oracleVersion: PINNED_PILOT.istioVersion,
        seed: Number(o.seed),
        count: Number(o.count),
        maxShrinks: 0,
        ...(simulator ? { simulator } : {}),
      });
      const min = s.elapsedMs / 60_000;
      const per = (ms: number) => `${(ms / Math.max(1, s.scenarios)).toFixed(0)} ms`;
      console.log(`istiod ${info.istioVersion}; stack setup ${(setupMs / 1000).toFixed(1)} s (once)`);
      console.log(
        `${s.scenarios} scenarios, ${s.probes} probes in ${(s.elapsedMs / 1000).toFixed(1)} s${simulator ? ', simulator on' : ''}`,
      );
      console.log(`${(s.scenarios / min).toFixed(1)} scenarios/min, ${(s.probes / min).toFixed(0)} probes/min (goal: 150 scenarios/min)`);
      const rest = s.elapsedMs - spent.apply - spent.observe - spent.clear;
      console.log(
        `per scenario: apply (the previous scenario's objects deleted, this one's applied) ${per(spent.apply)}, observe ${per(spent.observe)}, clear ${per(spent.clear)}, rest (oracle, simulator, generation) ${per(rest)}`,
      );
      if (parts.size)
        console.log(`apply, within (the lane's own split): ${[...parts].map(([k, v]) => `${k.replace(/Ms$/, '')} ${per(v)}`).join(', ')}`);
      console.log(`outcome mix: ${formatMix(s.mix)}; ${s.disagreements} disagreements`);
    } finally {
      await lane.teardown();
    }
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`bench-fuzz: ${(e as Error).message}\n`);
  process.exit(3);
});
