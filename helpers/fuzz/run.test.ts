// The fuzz loop's machinery, with a stand-in lane whose answers are known: it agrees with the oracle except
// on one planted rule, so the test can check that the run finds that rule, shrinks the scenario to a minimal
// one, and writes a rule fixture that loads like any other. The real lane runs in `egress-conformance fuzz`.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Observation } from '../model/types.ts';
import { ModelAnsweringLane } from '../testing/model-lane.ts';
import { loadCatalogue } from '../catalogue/load.ts';
import { differences, signature } from './disagreement.ts';
import { runFuzz } from './run.ts';
import { writeFixture } from './fixture.ts';
import { sameAnswer } from './referee.ts';

const V = '1.32.0-alpha.eed52ebb66ad';

/** Answers as the oracle does, except that raw TCP to port 5432 always gets out (the planted disagreement). */
const PASSTHROUGH: Observation = {
  verdict: 'allowed',
  cluster: 'PassthroughCluster',
  evidence: { listener: 'virtualOutbound', listenerMatch: 'virtualOutbound', cluster: 'PassthroughCluster' },
};
class PlantedLane extends ModelAnsweringLane {
  constructor() {
    super(V, (_, probe) => (probe.to.scheme === 'tcp' && probe.to.port === 5432 ? PASSTHROUGH : undefined));
  }
}

describe('fuzz run', () => {
  it('finds a planted disagreement, shrinks it to one probe, and writes a fixture that loads', async () => {
    const lane = new PlantedLane();
    const summary = await runFuzz({ lane, oracleVersion: V, seed: 7, count: 40, shrinkTimeMs: 30_000 });
    expect(summary.scenarios).toBe(40);
    // Resources Istio would refuse are repaired or dropped alone: no whole scenario is rejected.
    expect(summary.rejected).toBe(0);
    expect(lane.cleared).toBe(lane.applied);
    expect(summary.disagreements).toBeGreaterThan(0);
    expect(summary.findings.length).toBeGreaterThan(0);
    // The planted one among the findings (the stand-in lane answers other probes without the Pods the
    // referee tells the model of, so another small finding may come first).
    const f = summary.findings.find((x) => /^tcp:\/\/.*:5432$/.test(String(x.shrunk.probes[0]?.to)));
    if (!f)
      throw new Error(
        `the planted disagreement was not among the findings: ${summary.findings.map((x) => x.shrunk.probes[0]?.to).join(', ')}`,
      );
    // Shrunk: one probe, the planted one, and nothing the disagreement does not need.
    expect(f.shrunk.probes).toHaveLength(1);
    expect(f.shrunk.probes[0]?.to).toMatch(/^tcp:\/\/.*:5432$/);
    expect(f.shrunk.manifests.length).toBeLessThanOrEqual(f.original.manifests.length);
    expect(f.outcome.disagreeing[0]?.differences[0]).toMatch(/≠ lane allowed PassthroughCluster/);

    const dir = mkdtempSync(join(tmpdir(), 'fuzz-fixture-'));
    try {
      const file = writeFixture(dir, f, { seed: 7, istio: V });
      const doc = parse(readFileSync(file, 'utf8'));
      expect(doc.found.disagreements[0]).toMatchObject({
        lane: 'allowed PassthroughCluster',
        xdsPath: expect.stringContaining('listener virtualOutbound'),
      });
      expect(doc.probes[0].expect[f.shrunk.policy]).toBe('allowed PassthroughCluster');
      const [scenario] = loadCatalogue(dir, undefined, { requirePins: false });
      if (!scenario) throw new Error(`${file}: loadCatalogue found no scenario`);
      expect(scenario.name).toBe(doc.name);
      expect(scenario.probes[0]?.expect[f.shrunk.policy]).toEqual({ verdict: 'allowed', cluster: 'PassthroughCluster' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a scenario the lane fails on and goes on; three failures in a row end the run', async () => {
    const flaky = new PlantedLane();
    const apply = flaky.applyScenario.bind(flaky);
    flaky.applyScenario = async (...a) => {
      if (flaky.applied === 2) {
        flaky.applied++;
        throw new Error('istiod did not reflect config files within 20000 ms');
      }
      return apply(...a);
    };
    const s = await runFuzz({ lane: flaky, oracleVersion: V, seed: 3, count: 6, maxShrinks: 0 });
    expect(s.laneErrors).toBe(1);
    expect(s.laneErrorCauses[0]).toMatch(/did not reflect/);
    expect(s.scenarios).toBe(6);

    const broken = new PlantedLane();
    broken.applyScenario = async () => {
      throw new Error('connection refused');
    };
    await expect(runFuzz({ lane: broken, oracleVersion: V, seed: 3, count: 6 })).rejects.toThrow(
      /3 scenarios in a row; last: connection refused/,
    );
  });

  it('is deterministic per seed', async () => {
    const a = await runFuzz({ lane: new PlantedLane(), oracleVersion: V, seed: 11, count: 15, maxShrinks: 0 });
    const b = await runFuzz({ lane: new PlantedLane(), oracleVersion: V, seed: 11, count: 15, maxShrinks: 0 });
    expect([a.scenarios, a.probes, a.rejected, a.disagreements]).toEqual([b.scenarios, b.probes, b.rejected, b.disagreements]);
    expect([...a.alsoSeen]).toEqual([...b.alsoSeen]);
  });

  it('compares three answers pairwise and names every pair that differs', () => {
    const oracle = {
      verdict: 'blocked' as const,
      cluster: 'BlackHoleCluster',
      reason: '',
      listener: 'virtualOutbound',
      policy: 'REGISTRY_ONLY' as const,
    };
    const lane: Observation = { verdict: 'allowed', cluster: 'PassthroughCluster', evidence: {} };
    expect(differences({ oracle, lane, simulator: { cluster: 'PassthroughCluster' } })).toEqual([
      'oracle blocked BlackHoleCluster [no-listener, at virtualOutbound] ≠ lane allowed PassthroughCluster',
      'oracle blocked BlackHoleCluster [no-listener, at virtualOutbound] ≠ simulator allowed PassthroughCluster',
    ]);
    expect(
      differences({
        oracle: { ...oracle, listener: '0.0.0.0_80', signal: 'http-502' },
        lane: { verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502', evidence: { listener: '0.0.0.0_80' } },
        simulator: { listener: '0.0.0.0_80', directResponse: 502, route: 'block_all' },
      }),
    ).toEqual([]);
    // Same verdict and cluster, another signal: a 502 from an HTTP route is not a closed connection.
    const port80 = { ...oracle, listener: '0.0.0.0_80', signal: 'http-502' as const };
    expect(
      differences({
        oracle: port80,
        lane: { verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'tcp-close', evidence: { listener: '0.0.0.0_80' } },
      }),
    ).toEqual(['oracle blocked BlackHoleCluster [http-502, at 0.0.0.0_80] ≠ lane blocked BlackHoleCluster [tcp-close, at 0.0.0.0_80]']);
    // Same verdict and cluster, another listener.
    expect(
      differences({
        oracle: { ...port80, verdict: 'allowed', cluster: 'PassthroughCluster', signal: undefined },
        lane: { verdict: 'allowed', cluster: 'PassthroughCluster', evidence: { listener: '0.0.0.0_8080' } },
      }),
    ).toHaveLength(1);
    // An error on both sides is a disagreement, never agreement.
    const err: Observation = { verdict: 'error', error: 'no virtual host for a.example.com', evidence: { listener: '0.0.0.0_80' } };
    expect(differences({ oracle: port80, lane: err, simulator: { error: 'protocol error' } })).toHaveLength(3);
    expect(sameAnswer({ verdict: 'error', error: 'x' }, { verdict: 'error', error: 'x' })).toBe(false);
    // The simulator asked but without an answer is counted, never a silent two-way comparison.
    expect(
      differences(
        {
          oracle: port80,
          lane: { verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502', evidence: { listener: '0.0.0.0_80' } },
          simulatorMissing: 'no snapshot',
        },
        true,
      ),
    ).toEqual(['simulator gave no answer: no snapshot']);
    // A cluster CDS does not carry: Envoy fails the call, for the evaluator's error and the simulator alike.
    const missing: Observation = {
      verdict: 'blocked',
      cluster: 'outbound|8080|v1|b.example.com',
      signal: 'tcp-close',
      evidence: {
        listener: '0.0.0.0_8080',
        clusterNotFound: 'route points at cluster outbound|8080|v1|b.example.com, which is not in the CDS snapshot',
      },
    };
    expect(
      differences({
        oracle: { ...oracle, cluster: 'outbound|8080|v1|b.example.com', listener: '0.0.0.0_8080' },
        lane: missing,
        simulator: { listener: '0.0.0.0_8080', cluster: 'outbound|8080|v1|b.example.com' },
        simulatorClusters: new Set(['PassthroughCluster']),
      }),
    ).toEqual([]);
  });

  it('groups disagreements by kind, not by names', () => {
    const d = (s: string) => signature({ differences: [s], raw: { from: 'default', to: 'tcp://a:1' } });
    expect(d('oracle allowed outbound|443||a.example.com ≠ lane blocked outbound|443||a.example.com (x)')).toBe(
      d('oracle allowed outbound|80||b.example.com ≠ lane blocked outbound|80||b.example.com (y)'),
    );
    expect(d('oracle allowed PassthroughCluster ≠ lane blocked BlackHoleCluster')).not.toBe(
      d('oracle blocked BlackHoleCluster ≠ lane allowed PassthroughCluster'),
    );
  });
});

describe('fuzz replay of one path', () => {
  it('`path` runs exactly the scenario the full run met at that path, under the same seed', async () => {
    const seen = new Map<string, unknown>();
    await runFuzz({
      lane: new ModelAnsweringLane(V, () => undefined),
      oracleVersion: V,
      seed: 11,
      count: 12,
      onScenario: (path, s) => seen.set(path, s),
    });
    const [path, scenario] = [...seen].at(-2)!;
    const replayed: [string, unknown][] = [];
    const summary = await runFuzz({
      lane: new ModelAnsweringLane(V, () => undefined),
      oracleVersion: V,
      seed: 11,
      count: 1,
      path,
      onScenario: (p, s) => replayed.push([p, s]),
    });
    expect(summary.scenarios).toBe(1);
    expect(replayed).toEqual([[path, scenario]]);
  });
});

describe('fuzz shrinking', () => {
  it('takes no step whose disagreement istiod does not repeat when the step is applied again', async () => {
    // Every probe disagrees for the whole main pass (its 10 replays included); while shrinking, only on every
    // other application: each smaller scenario disagrees once, then not when applied again.
    const mainPass = 11;
    const lane = new ModelAnsweringLane(V, (application) => (application <= mainPass || application % 2 === 1 ? PASSTHROUGH : undefined));
    const summary = await runFuzz({ lane, oracleVersion: V, seed: 3, count: 1, shrinkTimeMs: 20_000 });
    const [f] = summary.findings;
    if (!f) throw new Error('the planted disagreement was not found');
    expect(lane.applied).toBeGreaterThan(mainPass);
    expect(f.shrinkSteps).toBe(0);
    expect(f.shrunk.manifests).toEqual(f.original.manifests);
  });
});
