// The corpus of real answers (fixtures/corpus/<build label>/): generated scenarios, each probe answered by the
// pinned istiod through the control-plane lane (its xDS walked by the evaluator) and by Istio's simulator on
// the same xDS, with the decisive path. The model is checked against it in every CI run, without Go.
//
// Format: JSON lines, one scenario per line, in `seed-<N>.jsonl` (gzip as `.jsonl.gz` when a file grows past
// 2 MB), plus `meta.json` (the build, the generator, the counts). A line:
//   {"id":"s1-17","policy":"ALLOW_ANY","meshConfig":{…},"manifests":[…],"probes":[
//     {"from":"default" | {"namespace","labels"},"to":"http://a.example.com:80/",
//      "istiod":{"verdict","cluster","listener","signal","category","path"} (or {"verdict":"error","error"}),
//      "simulator":{"verdict","cluster","listener","signal","path"} | {"missing":"why"}}]}
// `id` is `s<seed>-<fast-check path>`: `egress-conformance fuzz --seed <seed>` generates the same scenario.
// A probe is named `<id>#<index>` in known-disagreements.json beside it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Observation } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';
import type { SimResult } from '../tools/simulator.ts';
import { ALLOW_ANY_DFP_CLUSTER, categoryOfObservation, type Category } from './outcome.ts';
import {
  type Answer,
  describeAnswer,
  fromObservation,
  fromOracle,
  fromSimulator,
  type Signal,
  sameAnswer,
  signalOf,
  simPath,
  lanePath,
} from './referee.ts';
import { scenarioPods } from './pods.ts';
import type { ProbeOutcome } from './probe-outcome.ts';
import { admit, type FuzzProbe, type FuzzScenario, toProbe } from './scenario.ts';
import { type Varies, withinVaries } from './variance.ts';

export interface CorpusAnswer extends Answer {
  category?: Category;
  /** The decisive xDS path: dial → listener → chain → route → virtual host → cluster. */
  path?: string;
}

export interface CorpusProbe extends FuzzProbe {
  istiod: CorpusAnswer;
  simulator: CorpusAnswer | { missing: string };
  /**
   * Every answer istiod gave when the scenario was applied several times, where it gave more than one (a choice
   * Istio leaves to map order; variance.ts). The model agrees when it gives one of them.
   */
  varies?: Varies<CorpusAnswer>;
}

export interface CorpusScenario extends Omit<FuzzScenario, 'probes' | 'dropped'> {
  id: string;
  probes: CorpusProbe[];
}

export interface CorpusMeta {
  /** The build label (fixtures/versions.json) and what the lane reported. */
  label: string;
  istioVersion: string;
  goModuleVersion: string;
  generated: string;
  seeds: number[];
  scenarios: number;
  probes: number;
  lane: string;
}

function strip(a: Answer): Answer {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Answer;
}

/** An answer as stored: unset fields left out, hops as the referee compares them (proxy, cluster, TLS). */
function stored(answer: Answer): Answer {
  const a = strip(answer);
  // Listener, route facts and discovery of a hop stay in the path.
  if (a.hops) a.hops = a.hops.map((h) => ({ kind: h.kind, proxy: h.proxy, cluster: h.cluster, ...(h.tls ? { tls: h.tls } : {}) }));
  return a;
}

export function istiodAnswer(o: Observation): CorpusAnswer {
  return { ...stored(fromObservation(o)), category: categoryOfObservation(o), path: lanePath(o) };
}

function storedVaries(v: Varies): Varies<CorpusAnswer> {
  return { runs: v.runs, answers: v.answers.map((t) => ({ answer: stored(t.answer), times: t.times })) };
}

export function simulatorAnswer(p: Pick<ProbeOutcome, 'simulator' | 'simulatorClusters' | 'simulatorMissing'>): CorpusProbe['simulator'] {
  if (!p.simulator) return { missing: p.simulatorMissing ?? 'the simulator was not asked' };
  const r: SimResult = p.simulator;
  return { ...strip(fromSimulator(r, p.simulatorClusters)), path: simPath(r) };
}

export function corpusLine(id: string, s: FuzzScenario, probes: ProbeOutcome[]): CorpusScenario {
  return {
    id,
    policy: s.policy,
    meshConfig: s.meshConfig,
    manifests: s.manifests,
    probes: probes.map((p) => ({
      from: p.raw.from,
      to: p.raw.to,
      istiod: istiodAnswer(p.lane),
      simulator: simulatorAnswer(p),
      ...(p.varies ? { varies: storedVaries(p.varies) } : {}),
    })),
  };
}

const ENDINGS: ReadonlySet<Signal | undefined> = new Set(['http-502', 'http-503', 'http-404', 'http-local', 'tcp-close']);

/**
 * A stored answer with its derived fields read again by today's referee, from what was observed and stored
 * (verdict, listener, cluster, how a blocked call ended, the xDS path): the signal through the one signalOf,
 * and a category the path decides (a DYNAMIC_DNS entry's own cluster behind its virtual host is its route,
 * `dfp` the mesh's catch-all alone). What only the xDS could tell again is refused: refresh against istiod.
 */
export function rederive<A extends CorpusAnswer>(a: A): A {
  if (a.verdict === 'error' || a.listener === undefined) return a;
  const signal = signalOf(a.verdict, a.listener, a.cluster, ENDINGS.has(a.signal) ? a.signal : undefined);
  const out: A = { ...a, ...(signal ? { signal } : {}) };
  if (a.category === 'dfp' && a.cluster !== ALLOW_ANY_DFP_CLUSTER) {
    if (!a.path?.includes(' → virtual host ')) throw new Error(`cannot re-derive the category of ${a.path}: refresh the corpus`);
    out.category = 'route';
  }
  return out;
}

/** Every scenario of a corpus directory (of the seeds `seeds` takes, when given), in file and line order. */
export function readCorpus(dir: string, seeds?: (seed: number) => boolean): CorpusScenario[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => /^seed-\d+\.jsonl(\.gz)?$/.test(f))
    // A seed's file holds only that seed's scenarios: the mutation run rereads its part for every mutant.
    .filter((f) => !seeds || seeds(Number(/\d+/.exec(f)?.[0])))
    .sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
  return files.flatMap((f) => {
    const raw = readFileSync(join(dir, f));
    const text = f.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l, i) => {
        try {
          return JSON.parse(l) as CorpusScenario;
        } catch (e) {
          throw new Error(`${join(dir, f)} line ${i + 1}: not JSON (${(e as Error).message})`);
        }
      });
  });
}

export interface ModelCheck {
  probes: number;
  /** Per rule area (istiod's outcome category): probes and how many the model agrees on. */
  areas: Map<string, { probes: number; agree: number }>;
  /** `<id>#<index>` → `model … ≠ istiod …` for every probe the model answers otherwise. */
  disagreements: Map<string, string>;
  /** Probes the model agrees on by giving another of the answers istiod was seen giving (`varies`). */
  withinVaries: number;
}

/** The model against every corpus answer. `istioVersion` is the version whose rules the model applies. */
export function checkModel(corpus: CorpusScenario[], istioVersion: string): ModelCheck {
  const out: ModelCheck = { probes: 0, areas: new Map(), disagreements: new Map(), withinVaries: 0 };
  for (const s of corpus) {
    const a = admit({ ...s, probes: s.probes });
    const workloads = a.ok ? scenarioPods(a.resources, s.probes) : [];
    s.probes.forEach((p, i) => {
      out.probes++;
      const area = p.istiod.category ?? 'error';
      const tally = out.areas.get(area) ?? { probes: 0, agree: 0 };
      tally.probes++;
      out.areas.set(area, tally);
      const key = `${s.id}#${i}`;
      if (!a.ok) {
        out.disagreements.set(key, `model refuses the scenario: ${a.why}`);
        return;
      }
      // Compared, not read: the version gates the answer depends on (reason text only) are left out.
      const model = fromOracle(expectProbe(a.resources, toProbe(p), { istioVersion, policy: s.policy, workloads, explainGates: false }));
      if (sameAnswer(model, p.istiod)) tally.agree++;
      else if (withinVaries(model, p.varies)) {
        tally.agree++;
        out.withinVaries++;
      } else out.disagreements.set(key, `model ${describeAnswer(model)} ≠ istiod ${describeAnswer(p.istiod)}`);
    });
  }
  return out;
}

export function formatAreas(c: ModelCheck): string {
  return [...c.areas]
    .sort((x, y) => y[1].probes - x[1].probes)
    .map(([k, v]) => `${k} ${v.agree}/${v.probes} (${Math.round((100 * v.agree) / Math.max(1, v.probes))}%)`)
    .join(', ');
}
