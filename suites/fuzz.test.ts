// The short fuzz gate of every CI run: generated scenarios at a fixed seed on the control-plane lane,
// each probe answered by the oracle, the real istiod's xDS (through the lane's evaluator) and Istio's own
// simulator, all three required to agree. `egress-conformance fuzz` runs the same search for longer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFuzz } from '../helpers/fuzz/run.ts';
import { ControlPlaneLane } from '../helpers/lanes/control-plane/lane.ts';
import { controlPlaneMissing } from '../helpers/lanes/control-plane/requirements.ts';
import { findSimulatorSync } from '../helpers/tools/simulator.ts';
import { PINNED_PILOT } from '../helpers/tools/pilot-discovery.ts';

const SEED = 1;
const COUNT = Number(process.env.EGRESS_FUZZ_COUNT ?? 60);
const missing =
  controlPlaneMissing() ??
  (findSimulatorSync() ? undefined : "Istio's simulator is not built (egress-conformance tools install simulator)");

describe.skipIf(!!missing)(`short fuzz, seed ${SEED}${missing ? ` — skipped: ${missing}` : ''}`, () => {
  const lane = new ControlPlaneLane();
  beforeAll(async () => {
    await lane.setup();
  });
  afterAll(async () => {
    await lane.teardown();
  });

  it(`${COUNT} generated scenarios: oracle, istiod and Istio's simulator agree on every probe`, async () => {
    const s = await runFuzz({
      lane,
      oracleVersion: PINNED_PILOT.istioVersion,
      seed: SEED,
      count: COUNT,
      simulator: findSimulatorSync(),
      maxShrinks: 0,
    });
    const where = s.findings
      .map((f) => f.path)
      .concat([...s.alsoSeen.values()].flat())
      .join(', ');
    expect(s.scenarios).toBe(COUNT);
    expect(s.probes).toBeGreaterThan(COUNT);
    expect(s.simulatorRuns).toBeGreaterThan(0);
    expect(s.laneErrors, s.laneErrorCauses.join('\n')).toBe(0);
    expect(s.disagreements, `disagreeing scenarios (replay with egress-conformance fuzz --seed ${SEED}): ${where}`).toBe(0);
  }, 900_000);
});
