// `npm run corpus` prints what fixtures/corpus holds and the model's agreement with it, per rule area.
// `npm run corpus -- --refresh [--istio-version LABEL] [--seeds 1-10] [--count N]` regenerates it against
// the real istiod: one control-plane stack for the whole run, every generated scenario answered by istiod
// (the lane's evaluator on its xDS) and by Istio's simulator, written one scenario per line.
// `--known` rewrites known-disagreements.json from the model's current answers (for the engineer fixing it);
// `--replay [N]` applies the scenarios of the known list N times each and stores every answer istiod gives;
// `--rederive` re-reads the stored answers' derived fields (signal, category) when the referee's reading changes.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Command } from 'commander';
import { type CorpusMeta, type CorpusScenario, checkModel, corpusLine, formatAreas, readCorpus, rederive } from '../helpers/fuzz/corpus.ts';
import { formatMix } from '../helpers/fuzz/outcome.ts';
import { runFuzz } from '../helpers/fuzz/run.ts';
import { createLane } from '../helpers/lanes/select.ts';
import { UserError } from '../helpers/model/errors.ts';
import { onInterrupt } from '../helpers/process/interrupt.ts';
import { findPinnedBuild, PINNED_PILOT, pinnedBuildNames } from '../helpers/tools/pilot-discovery.ts';
import { findSimulatorSync, Simulator } from '../helpers/tools/simulator.ts';
import { fromObservation } from '../helpers/fuzz/referee.ts';
import type { FuzzScenario } from '../helpers/fuzz/scenario.ts';
import { replayScenario, variesOf } from '../helpers/fuzz/variance.ts';
import { finishScenarios } from '../helpers/fuzz/run-scenario.ts';

const CORPUS = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));
/** Files past this size are written gzipped (the corpus stays small enough to review and to clone). */
const GZIP_ABOVE = 2 * 1024 * 1024;

function seedsOf(v: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v.trim());
  if (!m) throw new UserError(`--seeds: "${v}" must be a seed or a range such as 1-10`);
  const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
  if (to < from || to - from > 100) throw new UserError(`--seeds: "${v}" must be a range of at most 100 seeds, low to high`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** `--probes 6-12`: how many probes each generated scenario aims at its own declarations. */
function probesOf(v: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(v.trim());
  const [min, max] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || min < 1 || max < min || max > 40) throw new UserError(`--probes: "${v}" must be a range such as 6-12 (1 to 40, low to high)`);
  return { min, max };
}

function writeLines(dir: string, seed: number, lines: CorpusScenario[]): string {
  const text = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
  const gz = Buffer.byteLength(text) > GZIP_ABOVE;
  const name = `seed-${seed}.jsonl${gz ? '.gz' : ''}`;
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, gz ? gzipSync(text) : text);
  renameSync(tmp, join(dir, name));
  return name;
}

async function refresh(o: { label: string; seeds: number[]; count: number; probes: { min: number; max: number } }): Promise<void> {
  const pin = findPinnedBuild(o.label);
  if (!pin) throw new UserError(`--istio-version: "${o.label}" is not a pinned build; use one of ${pinnedBuildNames()}`);
  const simulator = findSimulatorSync();
  if (!simulator) throw new UserError("Istio's simulator is not built: run `npx egress-conformance tools install simulator` first");
  const dir = join(CORPUS, pin.label ?? o.label);
  mkdirSync(dir, { recursive: true });
  const lane = await createLane('control-plane', { pin, out: (l) => process.stderr.write(`${l}\n`) });
  // The one signal owner (helpers/process/interrupt.ts): Ctrl-C tears the lane down, then exits 130.
  const stopListening = onInterrupt(() => lane.teardown());
  let scenarios = 0;
  let probes = 0;
  const started = Date.now();
  try {
    const info = await lane.setup();
    console.log(`corpus: istiod ${info.istioVersion} (${pin.goModuleVersion}), seeds ${o.seeds.join(', ')}, ${o.count} scenarios each`);
    for (const seed of o.seeds) {
      const lines: CorpusScenario[] = [];
      const summary = await runFuzz({
        lane,
        oracleVersion: pin.istioVersion,
        seed,
        count: o.count,
        simulator,
        maxShrinks: 0,
        arb: { minProbes: o.probes.min, maxProbes: o.probes.max },
        say: (l) => console.log(`  seed ${seed}: ${l}`),
        onScenario: (path, s, outcome) => lines.push(corpusLine(`s${seed}-${path}`, s, outcome.probes)),
      });
      scenarios += lines.length;
      probes += lines.reduce((n, l) => n + l.probes.length, 0);
      const file = writeLines(dir, seed, lines);
      const minutes = (Date.now() - started) / 60_000;
      console.log(
        `seed ${seed}: ${lines.length} scenarios → ${file}; mix ${formatMix(summary.mix)}; ${(scenarios / minutes).toFixed(0)} scenarios/min so far`,
      );
    }
    // The meta describes the whole directory, which may keep seed files of an earlier refresh (other seeds).
    const all = readCorpus(dir);
    const meta: CorpusMeta = {
      label: pin.label ?? o.label,
      istioVersion: info.istioVersion,
      goModuleVersion: pin.goModuleVersion,
      generated: new Date().toISOString(),
      seeds: [...new Set(all.map((l) => Number(/^s(\d+)-/.exec(l.id)?.[1])))].sort((a, b) => a - b),
      scenarios: all.length,
      probes: all.reduce((n, l) => n + l.probes.length, 0),
      lane: `${info.lane}: ${Object.entries(info.details)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    };
    writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  } finally {
    stopListening();
    await lane.teardown();
  }
  console.log(`${scenarios} scenarios, ${probes} probes written to ${dir}`);
}

/**
 * Applies each scenario with a listed known disagreement (or `ids`) `times` times on istiod and writes its line
 * again from those runs: the first run's answers, and for every probe istiod answered more than one way the
 * answers it gave (`varies`). A stored answer from an older lane is replaced by today's, as a refresh would.
 */
async function replay(o: { label: string; times: number; ids?: string[] }): Promise<void> {
  const pin = findPinnedBuild(o.label);
  if (!pin) throw new UserError(`--istio-version: "${o.label}" is not a pinned build; use one of ${pinnedBuildNames()}`);
  const simulatorPath = findSimulatorSync();
  if (!simulatorPath) throw new UserError("Istio's simulator is not built: run `npx egress-conformance tools install simulator` first");
  const dir = join(CORPUS, pin.label ?? o.label);
  const knownFile = join(dir, 'known-disagreements.json');
  const wanted = new Set(
    (o.ids ?? (existsSync(knownFile) ? Object.keys(JSON.parse(readFileSync(knownFile, 'utf8')) as Record<string, string>) : [])).map(
      (id) => id.split('#')[0] ?? id,
    ),
  );
  const corpus = readCorpus(dir);
  const missing = [...wanted].filter((id) => !corpus.some((l) => l.id === id));
  if (missing.length) throw new UserError(`--replay: no scenario ${missing.join(', ')} in ${dir}`);
  const lane = await createLane('control-plane', { pin, out: (l) => process.stderr.write(`${l}\n`) });
  const stopListening = onInterrupt(() => lane.teardown());
  const simulator = new Simulator(simulatorPath);
  const started = Date.now();
  let done = 0;
  try {
    await lane.setup();
    const ctx = { oracleVersion: pin.istioVersion, simulator };
    for (const [i, line] of corpus.entries()) {
      if (!wanted.has(line.id)) continue;
      const s: FuzzScenario = {
        policy: line.policy,
        meshConfig: line.meshConfig,
        manifests: line.manifests,
        probes: line.probes.map(({ from, to }) => ({ from, to })),
      };
      const runs = await replayScenario(lane, s, ctx, o.times);
      const [first] = runs;
      if (!first) continue;
      first.probes.forEach((p, k) => {
        const v = variesOf(runs.map((r) => fromObservation(r.probes[k]?.lane ?? p.lane)));
        if (v) p.varies = v;
        else delete p.varies;
      });
      corpus[i] = corpusLine(line.id, s, first.probes);
      const varying = first.probes.flatMap((p, k) => (p.varies ? [`#${k}`] : []));
      done++;
      console.log(
        `${line.id}: applied ${o.times} times; istiod varied on ${varying.length ? varying.join(' ') : 'no probe'} ` +
          `(${done}/${wanted.size}, ${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }
  } finally {
    stopListening();
    await finishScenarios(lane);
    await simulator.close();
    await lane.teardown();
  }
  const bySeed = new Map<number, CorpusScenario[]>();
  for (const l of corpus) {
    const seed = Number(/^s(\d+)-/.exec(l.id)?.[1]);
    bySeed.set(seed, [...(bySeed.get(seed) ?? []), l]);
  }
  const seeds = new Set([...wanted].map((id) => Number(/^s(\d+)-/.exec(id)?.[1])));
  for (const seed of seeds) writeLines(dir, seed, bySeed.get(seed) ?? []);
  console.log(`${dir}: ${done} scenarios applied again, seed files ${[...seeds].sort((a, b) => a - b).join(', ')} rewritten`);
}

/** Reads every stored answer again with today's referee (no istiod): see rederive in helpers/fuzz/corpus.ts. */
function rederiveAll(label: string): void {
  const pin = findPinnedBuild(label) ?? PINNED_PILOT;
  const dir = join(CORPUS, pin.label ?? label);
  const bySeed = new Map<number, CorpusScenario[]>();
  for (const s of readCorpus(dir)) {
    const seed = Number(/^s(\d+)-/.exec(s.id)?.[1]);
    const probes = s.probes.map((p) => ({
      ...p,
      istiod: rederive(p.istiod),
      simulator: 'missing' in p.simulator ? p.simulator : rederive(p.simulator),
    }));
    bySeed.set(seed, [...(bySeed.get(seed) ?? []), { ...s, probes }]);
  }
  for (const [seed, lines] of bySeed) writeLines(dir, seed, lines);
  console.log(`${dir}: re-derived ${bySeed.size} seed files`);
}

function report(label: string, writeKnown: boolean): void {
  const pin = findPinnedBuild(label) ?? PINNED_PILOT;
  const dir = join(CORPUS, pin.label ?? label);
  const corpus = readCorpus(dir);
  if (corpus.length === 0) {
    console.log(`${dir}: no corpus yet; generate it with \`npm run corpus -- --refresh --istio-version ${pin.label ?? label}\``);
    return;
  }
  const c = checkModel(corpus, pin.istioVersion);
  console.log(`${dir}: ${corpus.length} scenarios, ${c.probes} probes`);
  const varying = corpus.reduce((n, l) => n + l.probes.filter((p) => p.varies).length, 0);
  console.log(
    `model agrees on ${c.probes - c.disagreements.size}/${c.probes} (${c.withinVaries} by another answer istiod gave; ${varying} probes seen varying); per area: ${formatAreas(c)}`,
  );
  if (writeKnown) {
    const file = join(dir, 'known-disagreements.json');
    writeFileSync(file, `${JSON.stringify(Object.fromEntries([...c.disagreements].sort()), null, 1)}\n`);
    console.log(`wrote ${c.disagreements.size} known disagreements to ${file}`);
  }
}

const program = new Command('corpus')
  .option('--refresh', 'regenerate against the real istiod (control-plane lane)')
  .option('--istio-version <label>', 'the pinned build', PINNED_PILOT.label ?? PINNED_PILOT.goModuleVersion)
  .option('--seeds <range>', 'seeds to generate, e.g. 1-10', '1-10')
  .option('--count <n>', 'scenarios per seed', '200')
  .option('--probes <range>', "probes per scenario aimed at its own hosts, ports and addresses (the fuzzer's range unless told)", '1-8')
  .option(
    '--replay [times]',
    'apply each scenario with a known disagreement (or --ids) this many times on istiod (default 20) and store every answer it gives',
  )
  .option('--ids <list>', 'with --replay: scenario or probe ids, comma-separated, instead of the known list')
  .option('--known', 'rewrite known-disagreements.json from the model as it is')
  .option('--rederive', "re-read the stored answers' signals and categories with today's referee (no istiod)")
  .action(
    async (opts: {
      refresh?: boolean;
      istioVersion: string;
      seeds: string;
      count: string;
      probes: string;
      known?: boolean;
      rederive?: boolean;
      replay?: boolean | string;
      ids?: string;
    }) => {
      const count = Number(opts.count);
      if (!Number.isInteger(count) || count < 1) throw new UserError(`--count: "${opts.count}" must be a whole number above 0`);
      if (opts.refresh) await refresh({ label: opts.istioVersion, seeds: seedsOf(opts.seeds), count, probes: probesOf(opts.probes) });
      else if (opts.replay !== undefined) {
        const times = opts.replay === true ? 20 : Number(opts.replay);
        if (!Number.isInteger(times) || times < 2 || times > 50)
          throw new UserError(`--replay: "${String(opts.replay)}" must be a whole number of runs from 2 to 50`);
        await replay({ label: opts.istioVersion, times, ...(opts.ids ? { ids: opts.ids.split(',').map((x) => x.trim()) } : {}) });
      } else if (opts.rederive) rederiveAll(opts.istioVersion);
      report(opts.istioVersion, !!opts.known);
    },
  );

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof UserError) {
    process.stderr.write(`corpus: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`corpus: ${(e as Error).message}\n`);
  process.exit(3);
});
