// A probe is istiod varying only when istiod was seen answering it two ways and one run agreed on every side:
// stand-in lanes whose answers to one probe change from one application to the next (or never do).
import { describe, expect, it } from 'vitest';
import type { Observation } from '../model/types.ts';
import { ModelAnsweringLane, type Planted } from '../testing/model-lane.ts';
import { checkModel, type CorpusScenario } from './corpus.ts';
import { runScenario } from './run-scenario.ts';
import { runFuzz } from './run.ts';
import type { Answer } from './referee.ts';
import type { FuzzScenario } from './scenario.ts';
import { settleByReplay, variesOf, withinVaries } from './variance.ts';

const V = '1.32.0-alpha.eed52ebb66ad';
const PASSTHROUGH: Observation = {
  verdict: 'allowed',
  cluster: 'PassthroughCluster',
  evidence: { listener: 'virtualOutbound', listenerMatch: 'virtualOutbound', cluster: 'PassthroughCluster' },
};
const ELSEWHERE: Observation = {
  verdict: 'blocked',
  cluster: 'BlackHoleCluster',
  evidence: { listener: 'virtualOutbound', listenerMatch: 'virtualOutbound', cluster: 'BlackHoleCluster' },
};

/** Answers as the oracle does, except where `turn(application number, probe)` answers. */
const TurningLane = (turn: Planted) => new ModelAnsweringLane(V, turn);

const scenario: FuzzScenario = {
  policy: 'REGISTRY_ONLY',
  meshConfig: {},
  manifests: [],
  probes: [
    { from: 'frontend', to: 'tcp://db.example.com:5432' },
    { from: 'frontend', to: 'http://a.example.com/' },
  ],
};
const ctx = { oracleVersion: V };

describe('istiod varying', () => {
  it('is two distinct answers at least; an error is never one of them', () => {
    const a: Answer = { verdict: 'allowed', cluster: 'PassthroughCluster', listener: 'virtualOutbound', signal: 'no-listener' };
    const b: Answer = { verdict: 'blocked', cluster: 'BlackHoleCluster', listener: 'virtualOutbound', signal: 'no-listener' };
    const err: Answer = { verdict: 'error', error: 'no xDS' };
    expect(variesOf([a, a, err])).toBeUndefined();
    expect(variesOf([a, err, err])).toBeUndefined();
    expect(variesOf([a, b, a, err])).toEqual({
      runs: 4,
      answers: [
        { answer: a, times: 2 },
        { answer: b, times: 1 },
      ],
    });
    expect(withinVaries(b, variesOf([a, b]))).toBe(true);
    expect(withinVaries({ ...b, cluster: 'outbound|5432||db.example.com' }, variesOf([a, b]))).toBe(false);
    expect(withinVaries(a, undefined)).toBe(false);
  });

  it('settles a disagreement when a replay answers as the model on every side and istiod answered otherwise before', async () => {
    // First application: passthrough (the model says blocked under REGISTRY_ONLY); later ones as the model.
    const lane = TurningLane((n, p) => (n === 1 && p.to.port === 5432 ? PASSTHROUGH : undefined));
    const outcome = await runScenario(lane, scenario, ctx);
    expect(outcome.disagreeing).toHaveLength(1);
    expect(await settleByReplay(lane, scenario, outcome, ctx, 3)).toBe(1);
    expect(lane.applied).toBe(4);
    expect(outcome.disagreeing).toEqual([]);
    const [p] = outcome.probes;
    expect(p?.differences).toEqual([]);
    expect(p?.varies?.runs).toBe(4);
    expect(p?.varies?.answers.map((t) => [t.answer.cluster, t.times])).toEqual([
      ['PassthroughCluster', 1],
      ['BlackHoleCluster', 3],
    ]);
  });

  it('leaves a disagreement that every replay repeats, or that no replay agrees on, as it is', async () => {
    const always = TurningLane((_, p) => (p.to.port === 5432 ? PASSTHROUGH : undefined));
    const first = await runScenario(always, scenario, ctx);
    expect(await settleByReplay(always, scenario, first, ctx, 4)).toBe(0);
    expect(first.disagreeing).toHaveLength(1);
    expect(first.probes[0]?.varies).toBeUndefined();
    // istiod answers two ways, but never as the model: still the model's disagreement.
    const turning = TurningLane((n, p) =>
      p.to.port !== 5432 ? undefined : n % 2 ? PASSTHROUGH : { ...ELSEWHERE, cluster: 'outbound|5432||other', evidence: {} },
    );
    const second = await runScenario(turning, scenario, ctx);
    expect(await settleByReplay(turning, scenario, second, ctx, 4)).toBe(0);
    expect(second.disagreeing).toHaveLength(1);
  });

  it("replays on a fresh control plane when the lane's own never answered otherwise, and only then", async () => {
    // The lane's process always passes the call through; a fresh one answers as the model.
    const state = { fresh: false, freshStarts: 0 };
    const lane = Object.assign(
      TurningLane((_, p) => (p.to.port === 5432 && !state.fresh ? PASSTHROUGH : undefined)),
      {
        async withFreshControlPlane<T>(fn: () => Promise<T>): Promise<T> {
          state.fresh = true;
          state.freshStarts++;
          try {
            return await fn();
          } finally {
            state.fresh = false;
          }
        },
      },
    );
    const outcome = await runScenario(lane, scenario, ctx);
    expect(await settleByReplay(lane, scenario, outcome, ctx, 3)).toBe(1);
    expect(state.freshStarts).toBe(1);
    expect(lane.applied).toBe(7);
    expect(outcome.probes[0]?.varies?.answers.map((t) => [t.answer.cluster, t.times])).toEqual([
      ['PassthroughCluster', 4],
      ['BlackHoleCluster', 3],
    ]);
    // Shrink steps keep to the lane's own process.
    const again = await runScenario(lane, scenario, ctx);
    expect(await settleByReplay(lane, scenario, again, ctx, 3, { freshProcess: false })).toBe(0);
    expect(state.freshStarts).toBe(1);
    // A disagreement the lane's own replays already settle starts no fresh control plane.
    const turning = Object.assign(
      TurningLane((n, p) => (n === 1 && p.to.port === 5432 ? PASSTHROUGH : undefined)),
      {
        withFreshControlPlane: lane.withFreshControlPlane,
      },
    );
    const first = await runScenario(turning, scenario, ctx);
    expect(await settleByReplay(turning, scenario, first, ctx, 3)).toBe(1);
    expect(state.freshStarts).toBe(1);
  });

  it('a fresh control plane that cannot start leaves the disagreement standing, says so, and does not end the run', async () => {
    const said: string[] = [];
    const lane = Object.assign(
      TurningLane((_, p) => (p.to.port === 5432 ? PASSTHROUGH : undefined)),
      {
        async withFreshControlPlane<T>(): Promise<T> {
          throw new Error('pilot-discovery ended (exit 255): listen tcp 127.0.0.1:1: bind: address already in use');
        },
      },
    );
    const outcome = await runScenario(lane, scenario, ctx);
    expect(await settleByReplay(lane, scenario, outcome, ctx, 2, { say: (l) => said.push(l) })).toBe(0);
    expect(outcome.disagreeing).toHaveLength(1);
    expect(said).toEqual([expect.stringMatching(/^replays on a fresh istiod failed, the disagreement stands: .*address already in use/)]);
  });

  it('the fuzzer counts a varying probe apart from disagreements, and replays nothing with --replays 0', async () => {
    // Every third application, istiod "passes every call through".
    const flip = () => TurningLane((n) => (n % 3 === 1 ? PASSTHROUGH : undefined));
    const settled = await runFuzz({ lane: flip(), oracleVersion: V, seed: 3, count: 5, replays: 2, maxShrinks: 0 });
    const never = await runFuzz({ lane: flip(), oracleVersion: V, seed: 3, count: 5, replays: 0, maxShrinks: 0 });
    expect(never.disagreements).toBeGreaterThan(0);
    expect(settled.varied.length).toBeGreaterThan(0);
    // Every disagreement here is the turning istiod: each one settled by its replays.
    expect(settled.disagreements).toBe(0);
    expect(settled.varied[0]).toMatch(/^\d+#\d+: .+ ×\d+ \| .+ ×\d+$/);
  });

  it('in the corpus, the model agrees with a varying probe by giving any answer istiod gave, and with no other', () => {
    const blocked = {
      verdict: 'blocked' as const,
      cluster: 'BlackHoleCluster',
      listener: 'virtualOutbound',
      signal: 'no-listener' as const,
    };
    const passthrough = { ...blocked, verdict: 'allowed' as const, cluster: 'PassthroughCluster' };
    const line = (varies?: CorpusScenario['probes'][number]['varies']): CorpusScenario => ({
      id: 's1-0',
      policy: 'REGISTRY_ONLY',
      meshConfig: {},
      manifests: [],
      probes: [
        { from: 'frontend', to: 'tcp://db.example.com:5432', istiod: passthrough, simulator: passthrough, ...(varies ? { varies } : {}) },
      ],
    });
    expect([...checkModel([line()], V).disagreements.keys()]).toEqual(['s1-0#0']);
    const varying = checkModel(
      [
        line({
          runs: 3,
          answers: [
            { answer: passthrough, times: 2 },
            { answer: blocked, times: 1 },
          ],
        }),
      ],
      V,
    );
    expect(varying.disagreements.size).toBe(0);
    expect(varying.withinVaries).toBe(1);
    const otherwise = checkModel([line({ runs: 2, answers: [{ answer: passthrough, times: 2 }] })], V);
    expect(otherwise.disagreements.size).toBe(1);
  });
});
