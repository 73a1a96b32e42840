// Benchmark of the control-plane lane (not a test): each setup stage (etcd, API server, Istio install,
// istiod), probe evaluation, scenario apply latency, the whole catalogue.
//   npx tsx scripts/bench-control-plane.ts [--rewrites N] [--debounce 100ms]
// Prints a table; runBenchmark() returns the numbers for other tools.
import { fileURLToPath } from 'node:url';
import { expandCases, loadCatalogue } from '../helpers/catalogue/load.ts';
import { CaseDriver, runCases, scenarioCases } from '../helpers/driver/run-cases.ts';
import type { Scenario } from '../helpers/catalogue/types.ts';
import { ControlPlaneLane, type SetupTimings } from '../helpers/lanes/control-plane/lane.ts';
import type { PolicyMode } from '../helpers/model/types.ts';

export interface BenchOptions {
  /** Rewrites per scenario for the push-latency figures. */
  rewrites?: number;
  scenarios?: Scenario[];
  binary?: string;
  /** PILOT_DEBOUNCE_AFTER for istiod (its default is 100ms). */
  debounceAfter?: string;
  log?: (line: string) => void;
}

export interface Stat {
  median: number;
  max: number;
  n: number;
}

export interface ScenarioBench {
  scenario: string;
  probes: number;
  /** All probes, first time (one ADS fetch per source workload, then evaluation). */
  evaluateColdMs: number;
  /** All probes again (cached snapshots: evaluation only). */
  evaluateWarmMs: number;
  configReload: Stat;
  meshPush: Stat;
  apply: Stat;
}

export interface BenchResult {
  /** setup() as a whole, and its stages. */
  setup: SetupTimings & { wallMs: number };
  istiodStartMs: number;
  firstAdsMs: number;
  scenarios: ScenarioBench[];
  /** The whole catalogue once, as the suite runs it: every policy × scenario applied, every probe observed. */
  catalogue: { cases: number; ms: number };
}

function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const at = (i: number) => s[i] ?? NaN;
  const median = s.length === 0 ? NaN : s.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
  return { median, max: s.length ? at(s.length - 1) : NaN, n: s.length };
}

export async function runBenchmark(opts: BenchOptions = {}): Promise<BenchResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const rewrites = opts.rewrites ?? 5;
  const scenarios = opts.scenarios ?? loadCatalogue();
  const lane = new ControlPlaneLane({ binary: opts.binary, debounceAfter: opts.debounceAfter, build: false });
  const t0 = performance.now();
  await lane.setup();
  const setupMs = performance.now() - t0;
  const st = lane.setupTimings!;
  const istiodStartMs = st.istiodMs;
  const firstAdsMs = lane.istiodProcess!.readyAfterMs;
  log(`stack up in ${setupMs.toFixed(0)} ms (istiod ${istiodStartMs.toFixed(0)} ms)`);
  const out: ScenarioBench[] = [];
  let catalogue = { cases: 0, ms: NaN };
  try {
    for (const sc of scenarios) {
      const policies: PolicyMode[] = sc.policies.length > 0 ? sc.policies : ['REGISTRY_ONLY'];
      const config: number[] = [];
      const mesh: number[] = [];
      const apply: number[] = [];
      const record = () => {
        const a = lane.lastApply!;
        config.push(a.allocationMs + a.configMs + a.registryMs);
        mesh.push(a.meshPushMs);
        apply.push(a.totalMs);
      };
      // First: the scenario's probes through the one driver, twice on the one apply: cold (one ADS fetch
      // per source workload, then evaluation), then warm (cached snapshots, evaluation only).
      const first = policies[0]!;
      const probeCases = scenarioCases(sc.name, first, sc.resources, sc.probes);
      const driver = new CaseDriver(lane, { onApplied: record });
      const timed = async () => {
        let ms = 0;
        for (const c of probeCases) ms += (await driver.observe(c)).durationMs;
        return ms;
      };
      const cold = await timed();
      const warm = await timed();
      // Then the rewrites: each alternates the policy, so the mesh file really changes and the config files
      // are rewritten with a new generation: both reload paths are exercised every time.
      for (let i = 1; i < Math.max(1, rewrites); i++) {
        const policy = policies[i % policies.length];
        if (policy === undefined) throw new Error('bench: no policies to apply');
        await lane.applyScenario(sc.name, policy, sc.resources);
        record();
      }
      await driver.clear();
      out.push({
        scenario: sc.name,
        probes: sc.probes.length,
        evaluateColdMs: cold,
        evaluateWarmMs: warm,
        configReload: stat(config),
        meshPush: stat(mesh),
        apply: stat(apply),
      });
      log(`  ${sc.name}: done`);
    }
    // The whole catalogue, as the suite runs it: the one driver, every policy × scenario applied once.
    const cases = expandCases(scenarios);
    const t = performance.now();
    for await (const seen of runCases(lane, cases)) if (seen.failed) throw new Error(`bench: ${seen.case.id}: ${seen.observation.error}`);
    catalogue = { cases: cases.length, ms: performance.now() - t };
    log(`  full catalogue: ${cases.length} cases`);
  } finally {
    await lane.teardown();
  }
  return { setup: { ...st, wallMs: setupMs }, istiodStartMs, firstAdsMs, scenarios: out, catalogue };
}

export function formatTable(r: BenchResult): string {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
  const rows = [
    [
      'scenario',
      'probes',
      'eval cold ms',
      'eval warm ms',
      'alloc+store+registry med/max ms',
      'mesh push med/max ms',
      'apply med/max ms',
      'n',
    ],
    ...r.scenarios.map((s) => [
      s.scenario,
      String(s.probes),
      f(s.evaluateColdMs),
      f(s.evaluateWarmMs),
      `${f(s.configReload.median)}/${f(s.configReload.max)}`,
      `${f(s.meshPush.median)}/${f(s.meshPush.max)}`,
      `${f(s.apply.median)}/${f(s.apply.max)}`,
      String(s.apply.n),
    ]),
  ];
  const [head = []] = rows;
  const widths = head.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  const all = r.scenarios.flatMap((x) => (x.apply.n > 0 ? [x.apply] : []));
  return [
    `setup ${f(r.setup.wallMs)} ms: kwok cluster ${f(r.setup.clusterMs)}, Istio ${r.setup.fromSnapshot ? 'restored from its snapshot' : 'istioctl install'} ${f(r.setup.istioMs)}, istiod ready ${f(r.setup.istiodMs)}, webhook answering ${f(r.setup.webhookMs)}, client Pods ${f(r.setup.workloadsMs)} while istiod starts (first ADS answer ${f(r.firstAdsMs)} ms after spawn)`,
    `scenario apply: median of medians ${f(stat(all.map((a) => a.median)).median)} ms, max ${f(Math.max(...all.map((a) => a.max)))} ms`,
    `full catalogue: ${r.catalogue.cases} cases in ${f(r.catalogue.ms)} ms`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rewrites = Number(argValue('--rewrites') ?? 5);
  try {
    const result = await runBenchmark({ rewrites, debounceAfter: argValue('--debounce') });
    console.log(formatTable(result));
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    console.error(`bench-control-plane: ${e.message}`);
    process.exit(e.exitCode ?? 1);
  }
}
