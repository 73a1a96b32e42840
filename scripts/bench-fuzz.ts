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

type Step = 'applyScenario' | 'observe' | 'clearScenario';

/** Wraps the lane's per-scenario calls to add up their time. */
function timed(lane: Lane, spent: Record<Step, number>): Lane {
  for (const step of ['applyScenario', 'observe', 'clearScenario'] as Step[]) {
    const inner = (lane[step] as (...a: unknown[]) => Promise<unknown>).bind(lane);
    (lane as unknown as Record<Step, (...a: unknown[]) => Promise<unknown>>)[step] = async (...a: unknown[]) => {
      const t = performance.now();
      try {
        return await inner(...a);
      } finally {
        spent[step] += performance.now() - t;
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
    const spent: Record<Step, number> = { applyScenario: 0, observe: 0, clearScenario: 0 };
    const lane = timed(await createLane('control-plane', { out: (l) => process.stderr.write(`${l}\n`) }), spent);
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
      const rest = s.elapsedMs - spent.applyScenario - spent.observe - spent.clearScenario;
      console.log(
        `per scenario: apply ${per(spent.applyScenario)}, observe ${per(spent.observe)}, clear ${per(spent.clearScenario)}, rest (oracle, simulator, generation) ${per(rest)}`,
      );
      console.log(`outcome mix: ${formatMix(s.mix)}; ${s.disagreements} disagreements`);
    } finally {
      await lane.teardown();
    }
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`bench-fuzz: ${(e as Error).message}\n`);
  process.exit(3);
});
