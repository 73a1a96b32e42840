// The model against every committed answer of the real istiod (fixtures/corpus/<build>/), in seconds and
// without Go. Until the model agrees everywhere, a disagreement is allowed only where
// known-disagreements.json lists it by probe id; an entry the model now gets right must be removed, so the
// list only shrinks. The agreement per rule area is printed on every run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Observation } from '../model/types.ts';
import { PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { checkModel, type CorpusScenario, corpusLine, formatAreas, readCorpus, rederive } from './corpus.ts';
import { sidecarView } from './disagreement.ts';
import type { ProbeOutcome } from './probe-outcome.ts';
import { describeAnswer, sameAnswer } from './referee.ts';
import { variesOf, withinVaries } from './variance.ts';

const CORPUS = fileURLToPath(new URL('../../fixtures/corpus/', import.meta.url));
// EGRESS_CORPUS_SEEDS=1-57 checks those seeds only: the mutation run (vitest.mutation.config.ts) reruns this test
// for every mutant and takes the corpus's first part; CI and `npm test` take all of it.
// Ranges joined by commas (`1-57,141-180`); unset or malformed: every seed.
const RANGES = (process.env.EGRESS_CORPUS_SEEDS ?? '')
  .split(',')
  .map((r) => /^(\d+)-(\d+)$/.exec(r.trim()))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => [Number(m[1]), Number(m[2])] as const);
const SEEDS = RANGES.length > 0 ? process.env.EGRESS_CORPUS_SEEDS : undefined;
const seedIn = (seed: number) => !SEEDS || RANGES.some(([a, b]) => seed >= a && seed <= b);
const seedOf = (id: string) => Number(/^s(\d+)-/.exec(id)?.[1]);
const inSeeds = (id: string) => seedIn(seedOf(id));
// EGRESS_CORPUS_PER_SEED=1 (the mutation run) checks each seed in a test of its own.
const PER_SEED = process.env.EGRESS_CORPUS_PER_SEED === '1';

for (const build of PINNED_BUILDS) {
  const dir = join(CORPUS, build.label ?? build.goModuleVersion);
  const corpus = readCorpus(dir, seedIn).filter((l) => inSeeds(l.id));
  const skip =
    corpus.length === 0 ? ` — skipped: no corpus for ${build.label} yet (npm run corpus -- --refresh --istio-version ${build.label})` : '';
  const part = SEEDS ? ` (seeds ${SEEDS} only, EGRESS_CORPUS_SEEDS)` : '';
  describe.skipIf(corpus.length === 0)(`corpus of istiod ${build.label} answers${part}${skip}`, () => {
    const known = existsSync(join(dir, 'known-disagreements.json'))
      ? (JSON.parse(readFileSync(join(dir, 'known-disagreements.json'), 'utf8')) as Record<string, string>)
      : {};
    const agrees = (part: CorpusScenario[], inPart: (id: string) => boolean, label: string) => {
      const c = checkModel(part, build.istioVersion);
      console.log(
        `corpus ${build.label}${label}: model agrees on ${c.probes - c.disagreements.size}/${c.probes} probes (${c.withinVaries} by another answer istiod gave when applied again); per area: ${formatAreas(c)}`,
      );
      const unlisted = [...c.disagreements].filter(([id]) => !(id in known)).map(([id, d]) => `${id}: ${d}`);
      const fixed = Object.keys(known).filter((id) => inPart(id) && !c.disagreements.has(id));
      expect(unlisted, 'disagreements not in known-disagreements.json').toEqual([]);
      expect(fixed, 'known disagreements the model now gets right: remove them from known-disagreements.json').toEqual([]);
    };
    if (PER_SEED) {
      // The mutation run: one test per seed, so a mutant is killed by the first seed it breaks and the rest are
      // not run (Stryker stops at a mutant's first failing test).
      const seeds = [...new Set(corpus.map((l) => seedOf(l.id)))].sort((a, b) => a - b);
      for (const seed of seeds)
        it(`seed ${seed}: the model agrees with istiod on every probe, except the listed known disagreements`, () => {
          agrees(
            corpus.filter((l) => seedOf(l.id) === seed),
            (id) => seedOf(id) === seed,
            ` seed ${seed}`,
          );
        });
    } else
      it('the model agrees with istiod on every probe, except the listed known disagreements', () => {
        agrees(corpus, inSeeds, '');
      });

    it('holds real answers: every probe answered by istiod with its xDS path, and by the simulator or said why not', () => {
      const probes = corpus.flatMap((s) => s.probes);
      for (const p of probes) {
        expect(p.istiod.verdict).toMatch(/^(allowed|blocked|error)$/);
        if (p.istiod.verdict !== 'error') expect(p.istiod.path).toMatch(/listener /);
        expect('missing' in p.simulator ? p.simulator.missing : p.simulator.verdict).toBeTruthy();
      }
      expect(new Set(corpus.map((s) => s.id)).size).toBe(corpus.length);
    });

    it('a probe stored as varying was answered at least two ways by istiod, its stored answer among them', () => {
      const bad = corpus.flatMap((s) =>
        s.probes.flatMap((p, i) => {
          if (!p.varies) return [];
          const again = variesOf(p.varies.answers.map((t) => t.answer));
          const runs = p.varies.answers.reduce((n, t) => n + t.times, 0);
          const ok =
            again?.answers.length === p.varies.answers.length &&
            runs === p.varies.runs &&
            p.varies.answers.every((t) => t.times >= 1) &&
            withinVaries(p.istiod, p.varies);
          return ok ? [] : [`${s.id}#${i}`];
        }),
      );
      expect(bad).toEqual([]);
    });

    it("the simulator agrees with istiod's sidecar hop on every probe it answered (a call followed to a gateway: the sidecar's part)", () => {
      const differ = corpus.flatMap((s) =>
        s.probes.flatMap((p, i) =>
          'missing' in p.simulator || sameAnswer(sidecarView(p.istiod), p.simulator)
            ? []
            : [`${s.id}#${i}: istiod ${describeAnswer(p.istiod)} ≠ simulator ${describeAnswer(p.simulator)}`],
        ),
      );
      expect(differ).toEqual([]);
    });
  });
}

describe('corpus lines', () => {
  it('carry the scenario and, per probe, both answers with their paths; a model error never agrees', () => {
    const lane: Observation = {
      verdict: 'allowed',
      cluster: 'outbound|80||a.example.com',
      evidence: {
        destination: '203.0.113.9:80',
        listener: '0.0.0.0_80',
        listenerMatch: 'wildcard',
        filterChain: 'filter_chains[0]',
        routeConfig: '80',
        virtualHost: 'a.example.com:80',
        cluster: 'outbound|80||a.example.com',
      },
    };
    const probe: ProbeOutcome = {
      probe: { from: { namespace: 'default' }, to: { scheme: 'http', host: 'a.example.com', port: 80, path: '/', isIp: false, raw: '' } },
      raw: { from: 'default', to: 'http://a.example.com:80/' },
      oracle: { verdict: 'allowed', cluster: 'outbound|80||a.example.com', listener: '0.0.0.0_80', reason: '', policy: 'ALLOW_ANY' },
      lane,
      simulator: { listener: '0.0.0.0_80', routeConfig: '80', virtualHost: 'a.example.com:80', cluster: 'outbound|80||a.example.com' },
      simulatorClusters: new Set(['outbound|80||a.example.com']),
      differences: [],
      category: 'route',
    };
    const manifest = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'a', namespace: 'default' },
      spec: { hosts: ['a.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' },
    };
    const line = corpusLine('s1-0', { policy: 'ALLOW_ANY', meshConfig: {}, manifests: [manifest], probes: [probe.raw] }, [probe]);
    const back = JSON.parse(JSON.stringify(line)) as CorpusScenario;
    expect(back.probes[0]?.istiod).toMatchObject({ verdict: 'allowed', listener: '0.0.0.0_80', signal: 'forwarded', category: 'route' });
    expect(back.probes[0]?.istiod.path).toBe(
      'dial 203.0.113.9:80 → listener 0.0.0.0_80 (wildcard) → chain filter_chains[0] → route 80 / virtual host a.example.com:80 → cluster outbound|80||a.example.com',
    );
    expect(back.probes[0]?.simulator).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
    const version = PINNED_BUILDS[0]?.istioVersion ?? '';
    expect(checkModel([back], version).disagreements.size).toBe(0);
    // istiod's answer changed under the model: counted, named by probe id, in its area.
    const other = structuredClone(back);
    if (other.probes[0]) other.probes[0].istiod = { verdict: 'error', error: 'no virtual host', category: 'error' };
    const c = checkModel([other], version);
    expect([...c.disagreements.keys()]).toEqual(['s1-0#0']);
    expect(c.areas.get('error')).toEqual({ probes: 1, agree: 0 });
  });
});

describe('re-deriving stored answers', () => {
  it('reads the signal and category again from what was stored, and refuses what only the xDS could tell', () => {
    const path = 'dial 203.0.113.94:80 → listener 0.0.0.0_80 (wildcard) → chain filter_chains[0] → route 80';
    const entryDfp = { verdict: 'allowed' as const, cluster: 'outbound|80||*.example.org', listener: '0.0.0.0_80', signal: 'dfp' as const };
    // Stored before the referee read a DYNAMIC_DNS entry's own cluster as the entry's route (s1-8#2).
    expect(rederive({ ...entryDfp, category: 'dfp', path: `${path} → virtual host *.example.org:80 → cluster x` })).toMatchObject({
      signal: 'forwarded',
      category: 'route',
    });
    expect(() => rederive({ ...entryDfp, category: 'dfp', path: `${path} → cluster x` })).toThrow(/refresh/);
    const blocked = { verdict: 'blocked' as const, cluster: 'BlackHoleCluster', listener: '0.0.0.0_80', signal: 'http-502' as const };
    expect(rederive({ ...blocked, category: 'blackhole' as const })).toEqual({ ...blocked, category: 'blackhole' });
    const any = { verdict: 'allowed' as const, cluster: 'AllowAnyDynamicDNSCluster', listener: '0.0.0.0_80', signal: 'dfp' as const };
    expect(rederive({ ...any, category: 'dfp' as const })).toEqual({ ...any, category: 'dfp' });
  });
});
