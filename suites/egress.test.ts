// The conformance suite: every catalogue probe, observed on one lane and compared with the oracle.
// One test per probe, named POLICY/scenario/from→to. The lane comes from EGRESS_LANE (set by
// `egress-conformance run`); under plain `npm test` it is the control-plane lane when the pinned
// pilot-discovery is available, and the suite reports itself skipped, with the reason, when not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { expandCases, loadCatalogue } from '../helpers/catalogue/load.ts';
import type { CaseRun } from '../helpers/catalogue/types.ts';
import type { Lane, LaneInfo, ScenarioHandle } from '../helpers/lanes/lane.ts';
import { createLane, oracleVersionFor, parseLaneName, type LaneName } from '../helpers/lanes/select.ts';
import { expectProbe } from '../helpers/oracle/index.ts';
import { judge, type CaseResult, type RunReport } from '../helpers/report/results.ts';
import { writeReports } from '../helpers/report/write.ts';
import { findPilotDiscoverySync } from '../helpers/tools/pilot-discovery.ts';
import { PINNED } from '../helpers/tools/versions.ts';

const env = process.env;

function pickLane(): { lane?: LaneName; skip?: string } {
  const requested = parseLaneName(env.EGRESS_LANE, 'EGRESS_LANE');
  if (requested !== 'auto') return { lane: requested };
  if (findPilotDiscoverySync()) return { lane: 'control-plane' };
  return { skip: 'no lane can run: no EGRESS_LANE and no pinned pilot-discovery (run `npx egress-conformance tools install pilot-discovery`)' };
}

const { lane: laneName, skip } = pickLane();
const filter = env.EGRESS_TEST ? new RegExp(env.EGRESS_TEST) : undefined;
const cases = expandCases(loadCatalogue(), filter);
const oracleVersion = laneName ? oracleVersionFor(laneName, env.EGRESS_ISTIO_VERSION) : PINNED.istio;

/** Consecutive cases of one scenario under one policy: applied once, probed in turn. */
function blocks(list: CaseRun[]): CaseRun[][] {
  const out: CaseRun[][] = [];
  for (const c of list) {
    const last = out[out.length - 1];
    if (last && last[0].policy === c.policy && last[0].scenario === c.scenario) last.push(c);
    else out.push([c]);
  }
  return out;
}

describe.skipIf(!!skip)(`egress conformance on the ${laneName ?? 'unavailable'} lane${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let lane: Lane | undefined;
  let info: LaneInfo | undefined;
  let setupError: string | undefined;
  const results: CaseResult[] = [];
  const startedAt = new Date().toISOString();

  beforeAll(async () => {
    try {
      lane = await createLane(laneName!, {
        istioVersion: env.EGRESS_ISTIO_VERSION,
        keep: env.EGRESS_KEEP === '1',
        reuse: env.EGRESS_REUSE === '1',
        ...(env.EGRESS_RUN_ID ? { runId: env.EGRESS_RUN_ID } : {}),
      });
      info = await lane.setup();
    } catch (e) {
      setupError = (e as Error).message;
      throw e;
    }
  });

  afterAll(async () => {
    try {
      await lane?.teardown();
    } finally {
      const report: RunReport = {
        lane: laneName!,
        istioVersion: info?.istioVersion ?? oracleVersion,
        versions: { oracleIstioVersion: oracleVersion, ...(info?.details ?? {}) },
        startedAt,
        finishedAt: new Date().toISOString(),
        results,
        ...(setupError ? { setupError } : {}),
      };
      const files = writeReports(env.EGRESS_REPORT_DIR ?? join(process.cwd(), 'artifacts'), report);
      process.stdout.write(`reports: ${files.join(', ')}\n`);
    }
  });

  for (const block of blocks(cases)) {
    const { scenario, policy } = block[0];
    describe(`${policy}/${scenario.name}`, () => {
      let handle: ScenarioHandle | undefined;
      beforeAll(async () => {
        handle = await lane!.applyScenario(scenario.name, policy, scenario.resources);
      });
      afterAll(async () => {
        if (handle) await lane!.clearScenario(handle);
      });

      for (const c of block) {
        it(c.id, async () => {
          const expected = expectProbe(scenario.resources, c.probe, { istioVersion: oracleVersion, policy });
          const observed = await lane!.observe(handle!, c.probe);
          const verdict = judge(expected, observed);
          results.push({ id: c.id, policy, scenario: scenario.name, from: c.probe.from.namespace, to: c.probe.to.raw, expected, observed, ...verdict });
          expect(verdict.outcome, `${verdict.message}\n  oracle: ${expected.reason}\n  evidence: ${JSON.stringify(observed.evidence)}`).toBe('pass');
        });
      }
    });
  }
});
