// Every lab is solvable and not solved by its starting state: its reference solution passes and the
// start alone fails, graded by the oracle and, where pilot-discovery is built, by the real istiod.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { findLab, LABS_DIR, loadLabs } from './load.ts';
import { gradeLab } from './grade.ts';
import { FIXTURES_DIR } from '../catalogue/load.ts';
import { PINNED } from '../tools/versions.ts';
import { findPilotDiscoverySync, PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { ControlPlaneLane } from '../lanes/control-plane/lane.ts';
import { UserError } from '../model/errors.ts';

const labs = loadLabs();
const solution = (name: string) => join(LABS_DIR, findLab(name).solution);

describe('labs graded by the oracle', () => {
  it('there are labs, each with checks and hints', () => {
    expect(labs.length).toBeGreaterThanOrEqual(3);
    for (const l of labs) {
      expect(l.checks.length).toBeGreaterThan(1);
      expect(l.hints.length).toBeGreaterThan(0);
    }
  });

  it.each(labs.map((l) => [l.name]))('%s: the reference solution passes', async (name) => {
    const g = await gradeLab(findLab(name), [solution(name)], { oracle: PINNED.istio });
    expect(g.results.filter((r) => !r.pass).map((r) => r.check.to.raw)).toEqual([]);
    expect(g.passed).toBe(true);
  });

  it.each(labs.map((l) => [l.name]))('%s: the starting state alone does not pass', async (name) => {
    const g = await gradeLab(findLab(name), [], { oracle: PINNED.istio });
    expect(g.passed).toBe(false);
  });

  it('the course ServiceEntry (no exportTo) fails the db lab: default can reach the database too', async () => {
    const g = await gradeLab(findLab('db-for-frontend-only'), [join(FIXTURES_DIR, 'serviceentries/db-course.yaml')], { oracle: PINNED.istio });
    expect(g.passed).toBe(false);
    expect(g.results.find((r) => !r.pass)).toMatchObject({ check: { from: { namespace: 'default' } }, got: 'allowed' });
  });

  it('a solution Istio would reject is bad input, not a grade', async () => {
    await expect(gradeLab(findLab('api-over-http'), [join(FIXTURES_DIR, 'istio/ALLOW_ANY.yaml'), '/nonexistent.yaml'], { oracle: PINNED.istio })).rejects.toBeInstanceOf(UserError);
  });
});

describe.skipIf(!findPilotDiscoverySync())(`labs graded by the real istiod${findPilotDiscoverySync() ? '' : ' — skipped: pilot-discovery not built'}`, () => {
  const lane = new ControlPlaneLane({ pin: PINNED_PILOT });
  beforeAll(async () => {
    await lane.setup();
  });
  afterAll(async () => {
    await lane.teardown();
  });

  it.each(labs.map((l) => [l.name]))('%s: the reference solution passes, the starting state does not', async (name) => {
    const lab = findLab(name);
    const ok = await gradeLab(lab, [solution(name)], { lane, name: 'istiod' });
    expect(ok.results.filter((r) => !r.pass).map((r) => `${r.check.to.raw}: ${r.got}`)).toEqual([]);
    const start = await gradeLab(lab, [], { lane, name: 'istiod' });
    expect(start.passed).toBe(false);
  });
});
