// Istio's simulator (the built wrapper) on a sidecar snapshot istiod produced, checked against this
// project's evaluator on the same calls: the referee and the evaluator must agree on these plain cases,
// and the wrapper must decode every resource of the snapshot. Skipped, with the reason, when not built.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findSimulatorSync, Simulator } from './simulator.ts';
import { evaluate } from '../lanes/control-plane/evaluator.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { simCall, fromSimulator, fromObservation } from '../fuzz/referee.ts';

const binary = findSimulatorSync();
const snap = JSON.parse(
  readFileSync(fileURLToPath(new URL('../lanes/control-plane/testdata/snapshot-frontend-REGISTRY_ONLY.json', import.meta.url)), 'utf8'),
);

describe.skipIf(!binary)(
  `Istio's simulator on an istiod snapshot${binary ? '' : ' — skipped: not built (`egress-conformance tools install simulator`)'}`,
  () => {
    const sim = binary ? new Simulator(binary) : undefined;
    afterAll(() => sim?.close());

    const cases: [string, string][] = [
      ['tcp://db.example.com:5432', '203.0.113.7'],
      ['tcp://unlisted.example.com:5432', '203.0.113.8'],
      ['http://api.example.com/', '203.0.113.9'],
      ['http://unlisted.example.com/', '203.0.113.10'],
      ['https://api.example.com/', '203.0.113.9'],
      ['https://unlisted.example.com/', '203.0.113.10'],
      ['tcp://192.0.2.10:5433', '192.0.2.10'],
      ['tcp://unlisted.example.com:7000', '203.0.113.11'],
    ];

    it('decodes the whole snapshot and agrees with the evaluator call by call', async () => {
      const targets = cases.map(([url, ip]) => ({ t: parseProbeUrl(url), ip }));
      const { results, unknownTypes } = await sim!.run(
        snap,
        targets.map(({ t, ip }) => simCall(t, ip)),
      );
      expect(unknownTypes).toEqual([]);
      const known = new Set<string>(snap.clusters.map((c: { name: string }) => c.name));
      expect(results).toHaveLength(targets.length);
      const got = targets.map(({ t, ip }, i) => ({
        url: t.raw,
        sim: fromSimulator(results[i]!, known),
        evaluator: fromObservation(evaluate(snap, t, ip)),
      }));
      for (const g of got) expect(g.sim, g.url).toEqual(g.evaluator);
      expect(got.map((g) => `${g.sim.verdict} ${g.sim.cluster}`)).toEqual([
        'allowed outbound|5432||db.example.com',
        'allowed outbound|5432||db.example.com',
        'allowed outbound|80||api.example.com',
        'blocked BlackHoleCluster',
        'allowed outbound|443||api.example.com',
        'blocked BlackHoleCluster',
        'allowed outbound|5433||pinned-db.example.com',
        'blocked BlackHoleCluster',
      ]);
      expect(results[3]).toMatchObject({ virtualHost: 'block_all', directResponse: 502 });
    });

    it('answers requests in order on one process', async () => {
      const one = await sim!.run(snap, [simCall(parseProbeUrl('tcp://x.example.com:7000'), '203.0.113.1')]);
      const two = await sim!.run(snap, [simCall(parseProbeUrl('http://api.example.com/'), '203.0.113.9')]);
      expect(one.results[0]?.listener).toBe('virtualOutbound');
      expect(two.results[0]?.listener).toBe('0.0.0.0_80');
    });
  },
);
