// The one loop that runs cases on a lane: consecutive cases of one scenario under one policy are applied
// once, probed in turn, and cleared before the next scenario is applied. Every caller (the suite, the kind
// dry run, compare, `expect`, the benchmark, fuzz, labs) drives a lane through it, so what "a run" does to a
// lane is written once. It never owns the lane's lifetime: setup and teardown stay with the caller
// (withLane below for those who want both around one call).
import type { Lane, LaneInfo, ScenarioHandle } from '../lanes/lane.ts';
import type { Observation, PolicyMode, Probe, ProbeSource, ResourceSet } from '../model/types.ts';

/** What the driver needs of a case. A catalogue CaseRun fits as it is; a lab check or a fuzz probe builds one. */
export interface DriverCase {
  /** `POLICY/scenario/from→to` for catalogue cases; any unique name otherwise. */
  id: string;
  policy: PolicyMode;
  /** Cases sharing this object (and policy) form one block: applied once. */
  scenario: { name: string; resources: ResourceSet };
  probe: Probe;
}

export interface CaseObservation<C extends DriverCase = DriverCase> {
  case: C;
  /** What the lane saw; an `error` verdict (with its cause) when the scenario could not be applied or observed. */
  observation: Observation;
  /** Set when the lane threw: the scenario's apply, or this probe's observe. The observation says why. */
  failed?: 'apply' | 'observe';
  /** Time spent observing this probe (not applying its scenario). */
  durationMs: number;
}

export interface DriverOptions {
  /** Told after each scenario is applied (the benchmark reads the lane's apply timings there). */
  onApplied?: (handle: ScenarioHandle, applyMs: number) => void;
  /** Checked between cases: once aborted, no further case starts (`--fail-fast`, Ctrl-C). */
  signal?: AbortSignal;
}

/** Each probe source once, in first-seen order (a source is its namespace and labels). */
export function uniqueSources(sources: readonly ProbeSource[]): ProbeSource[] {
  const seen = new Map<string, ProbeSource>();
  for (const s of sources) {
    const key = `${s.namespace}\n${JSON.stringify(Object.entries(s.labels ?? {}).sort())}`;
    if (!seen.has(key)) seen.set(key, s);
  }
  return [...seen.values()];
}

/** A block's probe sources, for the lane to have ready when it applies the block (its Pods, their xDS). */
function sourcesByBlock<C extends DriverCase>(cases: readonly C[]): Map<C['scenario'], Map<PolicyMode, ProbeSource[]>> {
  const out = new Map<C['scenario'], Map<PolicyMode, ProbeSource[]>>();
  for (const c of cases) {
    let byPolicy = out.get(c.scenario);
    if (!byPolicy) out.set(c.scenario, (byPolicy = new Map()));
    byPolicy.set(c.policy, uniqueSources([...(byPolicy.get(c.policy) ?? []), c.probe.from]));
  }
  return out;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';

/**
 * Pull-style driver: `observe(c)` applies c's scenario when it differs from the one applied (clearing
 * that one first), then observes c's probe. The suite calls it from one test per case; loops use runCases.
 */
interface Applied {
  scenario: DriverCase['scenario'];
  policy: PolicyMode;
  handle?: ScenarioHandle;
  failure?: string;
}

export class CaseDriver<C extends DriverCase = DriverCase> {
  private current?: Applied;
  private readonly sources?: Map<C['scenario'], Map<PolicyMode, ProbeSource[]>>;

  constructor(
    private readonly lane: Lane,
    private readonly opts: DriverOptions = {},
    /** Every case this driver will be asked for, when known: each block is applied knowing its probes' sources. */
    cases?: readonly C[],
  ) {
    if (cases) this.sources = sourcesByBlock(cases);
  }

  async observe(c: C): Promise<CaseObservation<C>> {
    const cur = this.current;
    if (!cur || cur.scenario !== c.scenario || cur.policy !== c.policy) {
      // One step from the applied scenario to the next where the lane has one, else clear then apply.
      const previous = cur?.handle;
      const replace = previous && this.lane.replaceScenario?.bind(this.lane);
      if (!replace) await this.clear();
      const next: Applied = { scenario: c.scenario, policy: c.policy };
      this.current = next;
      const t0 = performance.now();
      const sources = this.sources?.get(c.scenario)?.get(c.policy) ?? [];
      try {
        next.handle = replace
          ? await replace(previous, c.scenario.name, c.policy, c.scenario.resources, sources)
          : await this.lane.applyScenario(c.scenario.name, c.policy, c.scenario.resources, sources);
        this.opts.onApplied?.(next.handle, performance.now() - t0);
      } catch (e) {
        next.failure = `applying ${c.policy}/${c.scenario.name} failed: ${firstLine(e)}`;
      }
    }
    const applied = this.current!;
    if (!applied.handle) {
      return { case: c, observation: { verdict: 'error', error: applied.failure, evidence: {} }, failed: 'apply', durationMs: 0 };
    }
    const t0 = performance.now();
    try {
      const observation = await this.lane.observe(applied.handle, c.probe);
      return { case: c, observation, durationMs: performance.now() - t0 };
    } catch (e) {
      return {
        case: c,
        observation: { verdict: 'error', error: `observing failed: ${firstLine(e)}`, evidence: {} },
        failed: 'observe',
        durationMs: performance.now() - t0,
      };
    }
  }

  /** Clears the applied scenario, if any. Call once done (runCases does). */
  async clear(): Promise<void> {
    const handle = this.current?.handle;
    this.current = undefined;
    if (handle) await this.lane.clearScenario(handle);
  }
}

/** Runs `cases` in order on a lane that is set up, yielding one observation per case; clears the last scenario at the end. */
export async function* runCases<C extends DriverCase>(
  lane: Lane,
  cases: Iterable<C>,
  opts: DriverOptions = {},
): AsyncGenerator<CaseObservation<C>, void, undefined> {
  const all = [...cases];
  const driver = new CaseDriver<C>(lane, opts, all);
  try {
    for (const c of all) {
      if (opts.signal?.aborted) return;
      yield await driver.observe(c);
    }
  } finally {
    await driver.clear();
  }
}

/** All observations of runCases, in order. */
export async function observeAll<C extends DriverCase>(
  lane: Lane,
  cases: Iterable<C>,
  opts: DriverOptions = {},
): Promise<CaseObservation<C>[]> {
  const out: CaseObservation<C>[] = [];
  for await (const o of runCases(lane, cases, opts)) out.push(o);
  return out;
}

/** Sets the lane up, hands it to `fn`, and tears it down whatever happens. */
export async function withLane<T>(lane: Lane, fn: (info: LaneInfo) => Promise<T>): Promise<T> {
  try {
    return await fn(await lane.setup());
  } finally {
    await lane.teardown();
  }
}

/** One scenario's probes as driver cases (labs, `expect`, fuzz): ids are `name/index`. */
export function scenarioCases(name: string, policy: PolicyMode, resources: ResourceSet, probes: Probe[]): DriverCase[] {
  const scenario = { name, resources };
  return probes.map((probe, i) => ({ id: `${name}/${i + 1}`, policy, scenario, probe }));
}
