// `egress-conformance fuzz`: flag handling (one line and exit 2 for a bad flag, before any lane starts), the
// summary line, and exit codes, with a stand-in lane that agrees with the oracle. The real istiod runs in
// `egress-conformance fuzz` itself and in CI's short fixed-seed fuzz.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFuzzFlags, runFuzzCommand, summaryLine } from './fuzz.ts';
import { UserError } from '../../helpers/model/errors.ts';
import type { Lane, ScenarioHandle } from '../../helpers/lanes/lane.ts';
import type { Observation, PolicyMode, Probe, ResourceSet } from '../../helpers/model/types.ts';
import { expectProbe } from '../../helpers/oracle/index.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const V = '1.32.0-alpha.eed52ebb66ad';

/** A lane that answers what the oracle says, optionally wrong on one probe kind. */
function oracleLane(wrongOn?: (p: Probe) => boolean): Lane & { setups: number; teardowns: number } {
  let cur: { h: ScenarioHandle; r: ResourceSet } | undefined;
  return {
    setups: 0,
    teardowns: 0,
    async setup() {
      this.setups++;
      return { lane: 'control-plane', istioVersion: V, details: {} };
    },
    async applyScenario(name: string, policy: PolicyMode, r: ResourceSet) {
      cur = { h: { name, policy }, r };
      return cur.h;
    },
    async observe(h: ScenarioHandle, p: Probe): Promise<Observation> {
      const e = expectProbe(cur!.r, p, { istioVersion: V, policy: h.policy });
      if (wrongOn?.(p)) return { verdict: e.verdict === 'allowed' ? 'blocked' : 'allowed', cluster: 'BlackHoleCluster', evidence: {} };
      return { verdict: e.verdict, cluster: e.cluster, evidence: {} };
    },
    async clearScenario() {},
    async teardown() {
      this.teardowns++;
    },
  };
}

const io = () => {
  const out: string[] = [];
  return { out, io: { out: (s: string) => out.push(s), err: (s: string) => out.push(s) } };
};

describe('fuzz flags', () => {
  it('takes --seed, --count and --minutes, with defaults', () => {
    expect(parseFuzzFlags({ seed: '1', count: '200', minutes: '2' })).toMatchObject({ seed: 1, count: 200, minutes: 2, simulator: true });
    expect(parseFuzzFlags({}, () => 99)).toMatchObject({ seed: 99, count: 100 });
    expect(parseFuzzFlags({ minutes: '0.5', simulator: false })).toMatchObject({ minutes: 0.5, simulator: false });
    // --path replays one generated scenario: one run, and only under the seed it was found with.
    expect(parseFuzzFlags({ seed: '4321', count: '100', path: '042' })).toMatchObject({ seed: 4321, count: 1, path: '42' });
    expect(() => parseFuzzFlags({ path: '42' })).toThrow(/--path 42: give the seed/);
    expect(() => parseFuzzFlags({ seed: '1', path: '4:2' })).toThrow(/--path: "4:2" must be a whole number/);
  });

  it.each([
    [{ seed: 'x' }, /--seed: "x" must be a whole number/],
    [{ seed: '-1' }, /--seed/],
    [{ count: '0' }, /--count: "0" must be a whole number from 1/],
    [{ count: '2.5' }, /--count/],
    [{ minutes: '0' }, /--minutes: "0" must be a number of minutes greater than 0/],
    [{ minutes: 'soon' }, /--minutes/],
  ])('refuses %j with one line naming the flag', (flags, msg) => {
    expect(() => parseFuzzFlags(flags)).toThrow(UserError);
    expect(() => parseFuzzFlags(flags)).toThrow(msg);
  });

  it('on the command line, a bad flag is one line on stderr and exit 2, before any lane starts', async () => {
    const r = await execa('node', [BIN, 'fuzz', '--count', 'many'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--count: "many" must be a whole number/)]);
    expect(r.stdout).toBe('');
  });
});

describe('fuzz command', () => {
  it('ends with the summary line and exit 0 when every probe agrees; the lane is set up once and torn down', async () => {
    const lane = oracleLane();
    const { out, io: sink } = io();
    const code = await runFuzzCommand({ seed: '5', count: '12' }, sink, {
      makeLane: async () => lane,
      simulator: undefined,
      istioVersion: V,
    });
    expect(code).toBe(0);
    expect(out.at(-1)).toMatch(/^12 scenarios, \d+ probes, 0 disagreements$/);
    expect([lane.setups, lane.teardowns]).toEqual([1, 1]);
  });

  it('exits 1 when a probe disagrees, and names the shrunk fixture', async () => {
    const { out, io: sink } = io();
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-cmd-'));
    try {
      const code = await runFuzzCommand({ seed: '5', count: '12', out: dir }, sink, {
        makeLane: async () => oracleLane((p) => p.to.scheme === 'https'),
        simulator: undefined,
        istioVersion: V,
      });
      expect(code).toBe(1);
      expect(out.at(-1)).toMatch(/^12 scenarios, \d+ probes, [1-9]\d* disagreements$/);
      expect(out.some((l) => /→ .*fuzz-s5-\d+\.yaml; review, then move it into fixtures\/rules\//.test(l))).toBe(true);
      expect(readdirSync(dir).some((f) => /^fuzz-s5-\d+\.yaml$/.test(f))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('formats the summary line', () => {
    expect(summaryLine({ scenarios: 3, probes: 10, disagreements: 0 })).toBe('3 scenarios, 10 probes, 0 disagreements');
  });
});
