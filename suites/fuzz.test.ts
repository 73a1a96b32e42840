// The short fuzz gate of every CI run: generated scenarios at a fixed seed on the control-plane lane (one stack),
// each probe answered by the oracle, the real istiod's xDS (through the lane's evaluator) and Istio's own
// simulator. The gate holds the referees to their job: the simulator answers every probe, the lane fails on
// no scenario, and the probes reach what the scenarios declare. The model's own disagreements are printed
// here and held to the committed corpus by helpers/fuzz/corpus.test.ts (a shrinking known list) until the
// model agrees; `egress-conformance fuzz` runs the same search for longer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMix, serviceEntryShare } from '../helpers/fuzz/outcome.ts';
import { runFuzz } from '../helpers/fuzz/run.ts';
import { controlPlaneMissing } from '../helpers/lanes/control-plane/requirements.ts';
import type { Lane } from '../helpers/lanes/lane.ts';
import { createLane } from '../helpers/lanes/select.ts';
import { PINNED_PILOT } from '../helpers/tools/pilot-discovery.ts';
import { findSimulatorSync } from '../helpers/tools/simulator.ts';

const SEED = 1;
// 150, not 60: the mix of 60 scenarios moves a few points from run to run (istiod breaks some ties in map
// order) and seed 1's first 60-80 land near 60 % even by the model; 150 land 65 % by the model.
const COUNT = Number(process.env.EGRESS_FUZZ_COUNT ?? 150);
const missing =
  controlPlaneMissing() ??
  (findSimulatorSync() ? undefined : "Istio's simulator is not built (egress-conformance tools install simulator)");

describe.skipIf(!!missing)(`short fuzz, seed ${SEED}${missing ? ` — skipped: ${missing}` : ''}`, () => {
  let lane: Lane;
  beforeAll(async () => {
    lane = await createLane('control-plane');
    await lane.setup();
  }, 300_000);
  afterAll(async () => {
    await lane?.teardown();
  });

  it(`${COUNT} generated scenarios: the simulator answers every probe, the lane never fails, 60% reach a ServiceEntry route or chain`, async () => {
    const s = await runFuzz({
      lane,
      oracleVersion: PINNED_PILOT.istioVersion,
      seed: SEED,
      count: COUNT,
      simulator: findSimulatorSync(),
      maxShrinks: 0,
    });
    console.log(
      `short fuzz: ${s.scenarios} scenarios, ${s.probes} probes, ${s.disagreements} disagreements (oracle≠lane ${s.oracleLane}, simulator≠lane ${s.simulatorLane}); mix ${formatMix(s.mix)}`,
    );
    expect(s.scenarios).toBe(COUNT);
    expect(s.laneErrors, s.laneErrorCauses.join('\n')).toBe(0);
    expect(s.simulatorRuns).toBe(s.probes);
    expect(s.simulatorMissing).toBe(0);
    expect(serviceEntryShare(s.mix)).toBeGreaterThanOrEqual(0.6);
  }, 900_000);
});
