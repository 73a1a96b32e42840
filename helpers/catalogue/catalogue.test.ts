// The hand-pinned verdicts of the catalogue and the oracle must agree, probe by probe.
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue } from './load.ts';
import { expectProbe } from '../oracle/index.ts';
import { PINNED } from '../tools/versions.ts';
import { PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { pinFor } from './pins.ts';

const scenarios = loadCatalogue();
const cases = expandCases(scenarios);

describe('case catalogue', () => {
  it('covers what the foundation asks for: both sources, both policies, the six destinations', () => {
    const names = scenarios.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'no-serviceentry',
        'course-db-serviceentry',
        'db-serviceentry-own-namespace',
        'api-serviceentries',
        'sidecar-default-registry-only',
        'sidecar-default-allow-any',
        'sidecar-default-imports-local',
      ]),
    );
    for (const s of scenarios) {
      expect(s.policies).toEqual(['ALLOW_ANY', 'REGISTRY_ONLY']);
      const seen = new Set(s.probes.map((p) => `${p.from.namespace} ${p.to.raw}`));
      for (const ns of ['frontend', 'default']) {
        for (const host of ['db.example.com', 'unlisted.example.com']) expect(seen).toContain(`${ns} tcp://${host}:5432`);
        for (const host of ['api.example.com', 'unlisted.example.com']) {
          expect(seen).toContain(`${ns} http://${host}/`);
          expect(seen).toContain(`${ns} https://${host}/`);
        }
      }
    }
  });

  it("the course ServiceEntry is the learner's: in frontend, no exportTo", () => {
    const course = scenarios.find((s) => s.name === 'course-db-serviceentry')!;
    expect(course.resources.serviceEntries).toHaveLength(1);
    expect(course.resources.serviceEntries[0]).toMatchObject({ namespace: 'frontend', exportTo: [], hosts: ['db.example.com'] });
  });

  // The kind lane's release and every pinned istiod build: version-gated cases pin each side of a gate.
  const versions = [PINNED.istio, ...PINNED_BUILDS.map((b) => b.istioVersion)];
  it.each(cases.flatMap((c) => versions.map((v) => [c.id, v, c] as const)))(
    '%s at %s: oracle agrees with the pinned verdict',
    (_id, v, c) => {
      const got = expectProbe(c.scenario.resources, c.probe, { istioVersion: v, policy: c.policy });
      const pin = pinFor(c.probe, c.policy, v)!;
      expect({ verdict: got.verdict, cluster: got.cluster, ...(pin.signal ? { signal: got.signal } : {}) }).toEqual(pin);
    },
  );
});
