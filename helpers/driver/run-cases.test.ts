// The one driver: blocks applied once and cleared before the next, failures as `error` observations
// (never a verdict), abort between cases; and the model lane behind the same interface.
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue } from '../catalogue/load.ts';
import type { Lane, ScenarioHandle } from '../lanes/lane.ts';
import { ModelLane } from '../lanes/model/lane.ts';
import { ORACLE_ALIAS_NOTE, parseLaneName } from '../lanes/select.ts';
import type { Observation, PolicyMode, Probe, ProbeSource, ResourceSet } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';
import { PINNED } from '../tools/versions.ts';
import { observeAll, runCases, withLane } from './run-cases.ts';

const cases = expandCases(loadCatalogue());

/** Records every call; fails where told to. */
class Recorder implements Lane {
  calls: string[] = [];
  constructor(
    private readonly failApply = new Set<string>(),
    private readonly failProbe = new Set<string>(),
  ) {}
  async setup() {
    this.calls.push('setup');
    return { lane: 'model' as const, istioVersion: 'x', details: {} };
  }
  async applyScenario(name: string, policy: PolicyMode, _r: ResourceSet): Promise<ScenarioHandle> {
    this.calls.push(`apply ${policy}/${name}`);
    if (this.failApply.has(name)) throw new Error(`no room for ${name}\nsecond line`);
    return { name, policy };
  }
  async observe(h: ScenarioHandle, p: Probe): Promise<Observation> {
    this.calls.push(`observe ${h.name} ${p.to.raw}`);
    if (this.failProbe.has(p.to.raw)) throw new Error('connection reset');
    return { verdict: 'allowed', cluster: 'PassthroughCluster', evidence: {} };
  }
  async clearScenario(h: ScenarioHandle) {
    this.calls.push(`clear ${h.policy}/${h.name}`);
  }
  async teardown() {
    this.calls.push('teardown');
  }
}

describe('runCases', () => {
  it('applies each block once, observes its probes in turn, clears it before the next and at the end', async () => {
    const lane = new Recorder();
    const some = cases.slice(0, 12);
    const seen = await observeAll(lane, some);
    expect(seen.map((s) => s.case.id)).toEqual(some.map((c) => c.id));
    const blocks = new Set(some.map((c) => `${c.policy}/${c.scenario.name}`));
    expect(lane.calls.filter((c) => c.startsWith('apply'))).toEqual([...blocks].map((b) => `apply ${b}`));
    expect(lane.calls.filter((c) => c.startsWith('clear'))).toEqual([...blocks].map((b) => `clear ${b}`));
    // Every clear comes before the next apply.
    const order = lane.calls.filter((c) => /^(apply|clear)/.test(c)).map((c) => c.split(' ')[0]);
    expect(order.join(',')).toBe(Array(blocks.size).fill('apply,clear').join(','));
  });

  it('a lane that replaces one scenario by the next in one step is asked to, and the last scenario is still cleared', async () => {
    class Replacer extends Recorder {
      async replaceScenario(previous: ScenarioHandle, name: string, policy: PolicyMode, _r: ResourceSet): Promise<ScenarioHandle> {
        this.calls.push(`replace ${previous.policy}/${previous.name} -> ${policy}/${name}`);
        return { name, policy };
      }
    }
    const lane = new Replacer();
    const some = cases.slice(0, 40);
    const seen = await observeAll(lane, some);
    expect(seen.map((s) => s.case.id)).toEqual(some.map((c) => c.id));
    const blocks = [...new Set(some.map((c) => `${c.policy}/${c.scenario.name}`))];
    expect(blocks.length).toBeGreaterThan(1);
    expect(lane.calls.filter((c) => /^(apply|replace|clear)/.test(c))).toEqual([
      `apply ${blocks[0]}`,
      ...blocks.slice(1).map((b, i) => `replace ${blocks[i]} -> ${b}`),
      `clear ${blocks.at(-1)}`,
    ]);
  });

  it('applies each block knowing the sources its probes come from, each once', async () => {
    class Sources extends Recorder {
      asked: string[][] = [];
      override async applyScenario(name: string, policy: PolicyMode, r: ResourceSet, sources: ProbeSource[] = []) {
        this.asked.push(sources.map((s) => `${s.namespace}${s.labels ? JSON.stringify(s.labels) : ''}`));
        return super.applyScenario(name, policy, r);
      }
    }
    const lane = new Sources();
    const some = cases.slice(0, 40);
    await observeAll(lane, some);
    const blocks = [...new Set(some.map((c) => `${c.policy}/${c.scenario.name}`))];
    expect(lane.asked).toHaveLength(blocks.length);
    blocks.forEach((b, i) => {
      const want = new Set(
        some
          .filter((c) => `${c.policy}/${c.scenario.name}` === b)
          .map((c) => `${c.probe.from.namespace}${c.probe.from.labels ? JSON.stringify(c.probe.from.labels) : ''}`),
      );
      expect(lane.asked[i]).toEqual([...want]);
    });
  });

  it("a scenario that fails to apply: each of its probes is an `error` with the cause's first line, and the next scenario still runs", async () => {
    const [first, ...rest] = cases;
    const failing = first!.scenario.name;
    const lane = new Recorder(new Set([failing]));
    const some = [first!, ...rest.slice(0, 30)];
    const seen = await observeAll(lane, some);
    const bad = seen.filter((s) => s.case.scenario.name === failing);
    expect(bad.length).toBeGreaterThan(0);
    for (const s of bad) {
      expect(s.failed).toBe('apply');
      expect(s.observation).toMatchObject({
        verdict: 'error',
        error: `applying ${s.case.policy}/${failing} failed: no room for ${failing}`,
      });
    }
    expect(seen.filter((s) => s.case.scenario.name !== failing).every((s) => s.observation.verdict === 'allowed')).toBe(true);
    expect(lane.calls.some((c) => c.startsWith(`clear`) && c.endsWith(`/${failing}`))).toBe(false);
  });

  it('a probe whose observe throws is an `error`; its neighbours are observed', async () => {
    const some = cases.slice(0, 3);
    const lane = new Recorder(new Set(), new Set([some[1]!.probe.to.raw]));
    const seen = await observeAll(lane, some);
    const failed = seen.filter((s) => s.failed === 'observe');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.observation).toMatchObject({ verdict: 'error', error: 'observing failed: connection reset' });
    expect(seen.some((s) => s.observation.verdict === 'allowed')).toBe(true);
  });

  it('stops starting cases once aborted, and still clears what it applied', async () => {
    const lane = new Recorder();
    const abort = new AbortController();
    const ids: string[] = [];
    for await (const s of runCases(lane, cases.slice(0, 10), { signal: abort.signal })) {
      ids.push(s.case.id);
      if (ids.length === 2) abort.abort();
    }
    expect(ids).toHaveLength(2);
    expect(lane.calls.at(-1)).toMatch(/^clear /);
  });

  it('withLane tears down also when the work throws', async () => {
    const lane = new Recorder();
    await expect(
      withLane(lane, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(lane.calls).toEqual(['setup', 'teardown']);
  });
});

describe('the model lane', () => {
  it("answers every catalogue probe as the model does, with the model's reason as summary and evidence", async () => {
    const lane = new ModelLane({ istioVersion: PINNED.istio });
    const seen = await withLane(lane, () => observeAll(lane, cases));
    expect(seen).toHaveLength(cases.length);
    for (const { case: c, observation: o } of seen) {
      const e = expectProbe(c.scenario.resources, c.probe, { istioVersion: PINNED.istio, policy: c.policy });
      expect([o.verdict, o.cluster, o.signal, o.summary]).toEqual([e.verdict, e.cluster, e.signal, e.reason]);
      expect(o.evidence.listener).toBe(e.listener);
    }
  });

  it('`oracle` is accepted for `model`, saying that it is an alias; an unknown lane is one line', () => {
    const said: string[] = [];
    expect(parseLaneName('oracle', '--lane', (l) => said.push(l))).toBe('model');
    expect(said).toEqual([ORACLE_ALIAS_NOTE]);
    expect(ORACLE_ALIAS_NOTE).toContain('the word promises a truth the model does not have');
    expect(parseLaneName('model', '--lane', (l) => said.push(l))).toBe('model');
    expect(said).toHaveLength(1);
    expect(() => parseLaneName('kwok')).toThrow(/--lane: "kwok" is not a lane; use kind, control-plane, model or auto/);
  });
});
