// The fuzz loop: generated scenarios applied one at a time on a lane, every probe compared three ways
// (oracle, the lane's evaluator, Istio's simulator on the same xDS), and each disagreement shrunk by
// fast-check with the lane in the loop, then written as a rule fixture.
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lane } from '../lanes/lane.ts';
import { StepError } from '../model/errors.ts';
import { expectProbe } from '../oracle/index.ts';
import type { Expectation, Observation, Probe } from '../model/types.ts';
import { Simulator, type SimResult } from '../tools/simulator.ts';
import { admit, toProbe, type FuzzScenario } from './scenario.ts';
import { scenarioArb, type ScenarioArbOptions } from './generate.ts';
import { categoryOfObservation, dfpClusters, emptyMix, type Category, type Mix } from './outcome.ts';
import { describeAnswer, fromObservation, fromOracle, fromSimulator, sameAnswer, simCall, type Answer } from './referee.ts';

export interface ProbeOutcome {
  probe: Probe;
  raw: FuzzScenario['probes'][number];
  oracle: Expectation;
  lane: Observation;
  simulator?: SimResult;
  /** Cluster names in the CDS snapshot the simulator ran on. */
  simulatorClusters?: Set<string>;
  /** Dynamic forward proxy clusters of that snapshot. */
  dfp?: Set<string>;
  /** Why the simulator, though asked, has no answer for this probe (it then disagrees with every answer). */
  simulatorMissing?: string;
  /** Where istiod's xDS sent the call (the lane's evaluator), for the outcome mix. */
  category: Category;
  /** Pairs that differ, e.g. `oracle≠lane`; empty when all agree. */
  differences: string[];
}

export interface ScenarioOutcome {
  probes: ProbeOutcome[];
  disagreeing: ProbeOutcome[];
  /** Message types in the snapshot the simulator could not decode (it ran without them). */
  unknownTypes: string[];
}

export interface FuzzOptions {
  lane: Lane;
  oracleVersion: string;
  seed: number;
  /** Scenarios to run (admitted ones; rejected ones come on top). */
  count: number;
  /** Stop starting scenarios after this long (ms); shrinking of what was found still happens. */
  timeLimitMs?: number;
  /** The simulator binary; undefined runs the comparison two ways (oracle, lane). */
  simulator?: string;
  /** Bound per shrink (ms): each step is a scenario on the lane. */
  shrinkTimeMs?: number;
  /** How many distinct kinds of disagreement to shrink (the rest are listed by path). */
  maxShrinks?: number;
  arb?: ScenarioArbOptions;
  say?: (line: string) => void;
  /** Called with every scenario the lane answered (its fast-check path, the scenario, every probe's answers). */
  onScenario?: (path: string, scenario: FuzzScenario, outcome: ScenarioOutcome) => void;
}

export interface Finding {
  /** fast-check path of the generated scenario (replay: same seed, this path). */
  path: string;
  original: FuzzScenario;
  shrunk: FuzzScenario;
  shrinkPath: string;
  shrinkSteps: number;
  outcome: ScenarioOutcome;
}

/**
 * What kind of disagreement a probe shows, with names and numbers left out, so that one shrink stands for
 * all the scenarios that hit the same rule.
 */
export function signature(p: Pick<ProbeOutcome, 'differences' | 'raw'>): string {
  const scheme = p.raw.to.split(':')[0];
  return `${scheme}: ${p.differences[0] ?? ''}`
    .replace(/outbound\|\d+\|[^|\s]*\|\S+/g, (m) => (m.split('|')[2] ? 'outbound|P|subset|H' : 'outbound|P||H'))
    .replace(/\([^)]*\)/g, '(…)');
}

export interface FuzzSummary {
  scenarios: number;
  probes: number;
  rejected: number;
  rejectReasons: Map<string, number>;
  /** Probes where any two answers differ. */
  disagreements: number;
  /** Of those, where the oracle differs from the lane. */
  oracleLane: number;
  /** Where the simulator differs from the lane's evaluator. */
  simulatorLane: number;
  simulatorRuns: number;
  /** Probes the simulator was asked about and could not answer (counted as disagreements too). */
  simulatorMissing: number;
  /** xDS message types the simulator did not know, with how many snapshots carried them. */
  unknownTypes: Map<string, number>;
  /** Where istiod sent each probe. */
  mix: Mix;
  /** Generated resources dropped alone because no small repair made them valid, by reason. */
  droppedResources: Map<string, number>;
  findings: Finding[];
  /** Scenarios the lane failed to apply or observe (infrastructure, not a verdict); the first causes. */
  laneErrors: number;
  laneErrorCauses: string[];
  /** Disagreeing scenarios not shrunk because an earlier one had the same signature: signature → paths. */
  alsoSeen: Map<string, string[]>;
  elapsedMs: number;
  interrupted: boolean;
}

let scenarioCounter = 0;

type Snap = { listeners: unknown[]; clusters: unknown[]; routes: unknown[] };

/**
 * The source sidecar's snapshot: the value the lane handed back with its observation, else (a lane that does
 * not fill Observation.xds yet) the file Lane.diagnose writes (`xds-<namespace>.json`).
 */
async function snapshotFor(lane: Lane, probe: Probe, o: Observation): Promise<Snap | undefined> {
  if (o.xds) return o.xds.snapshot;
  if (!lane.diagnose) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'egress-fuzz-xds-'));
  try {
    const files = await lane.diagnose(probe, dir);
    const f = files.find((x) => /^xds-.*\.json$/.test(x));
    return f ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The address the lane dialled: from its xDS value, else its evidence (`destination` is ip:port). */
export function dialledAddress(o: Observation): string | undefined {
  if (o.xds) return o.xds.address;
  const d = (o.evidence as Record<string, unknown>).destination;
  return typeof d === 'string' ? d.replace(/:\d+$/, '') : undefined;
}

function sourceKey(p: Probe): string {
  return `${p.from.namespace}|${JSON.stringify(Object.entries(p.from.labels ?? {}).sort())}`;
}

/** Applies one admitted scenario, observes every probe, compares, clears. */
export async function runScenario(
  lane: Lane,
  s: FuzzScenario,
  opts: { oracleVersion: string; simulator?: Simulator },
): Promise<ScenarioOutcome> {
  const a = admit(s);
  if (!a.ok) throw new Error(`runScenario: scenario not admitted: ${a.why}`);
  const resources = a.resources;
  const handle = await lane.applyScenario(`fuzz-${++scenarioCounter}`, s.policy, resources);
  const probes: ProbeOutcome[] = [];
  const unknown: string[] = [];
  try {
    for (const raw of s.probes) {
      const probe = toProbe(raw);
      const oracle = expectProbe(resources, probe, { istioVersion: opts.oracleVersion, policy: s.policy });
      const lane_ = await lane.observe(handle, probe);
      probes.push({ probe, raw, oracle, lane: lane_, differences: [], category: 'error' });
    }
    if (opts.simulator) {
      // One simulator run per source sidecar (its snapshot), with all of that source's calls.
      const bySource = new Map<string, ProbeOutcome[]>();
      for (const p of probes) bySource.set(sourceKey(p.probe), [...(bySource.get(sourceKey(p.probe)) ?? []), p]);
      for (const group of bySource.values()) {
        const [head] = group;
        if (!head) continue;
        const snap = await snapshotFor(lane, head.probe, head.lane);
        if (!snap) {
          for (const p of group) p.simulatorMissing = 'the lane handed back no xDS snapshot';
          continue;
        }
        const known = new Set((snap.clusters as { name?: string }[]).map((c) => String(c.name)));
        const dfp = dfpClusters(snap.clusters);
        const asked = group.filter((p) => dialledAddress(p.lane) !== undefined);
        for (const p of group) {
          p.dfp = dfp;
          if (!asked.includes(p)) p.simulatorMissing = 'the lane did not say which address it dialled';
        }
        if (asked.length === 0) continue;
        try {
          const { results, unknownTypes } = await opts.simulator.run(
            snap,
            asked.map((p) => simCall(p.probe.to, dialledAddress(p.lane) as string)),
          );
          for (const t of unknownTypes) if (!unknown.includes(t)) unknown.push(t);
          asked.forEach((p, i) => {
            p.simulator = results[i];
            p.simulatorClusters = known;
          });
        } catch (e) {
          for (const p of asked) p.simulatorMissing = `simulator failed: ${(e as Error).message.split('\n')[0]}`;
        }
      }
    }
  } finally {
    await lane.clearScenario(handle);
  }
  for (const p of probes) {
    p.differences = differences(p, !!opts.simulator);
    p.category = categoryOfObservation(p.lane, p.dfp);
  }
  return { probes, disagreeing: probes.filter((p) => p.differences.length > 0), unknownTypes: unknown };
}

/**
 * Every pair of answers that differ. With the simulator asked (`simulatorAsked`), a probe it has no answer for
 * is a difference too: a comparison never silently becomes two-way.
 */
export function differences(
  p: Pick<ProbeOutcome, 'oracle' | 'lane' | 'simulator' | 'simulatorClusters' | 'simulatorMissing' | 'dfp'>,
  simulatorAsked = p.simulator !== undefined,
): string[] {
  const answers: [string, Answer][] = [
    ['oracle', fromOracle(p.oracle)],
    ['lane', p.dfp ? fromObservation(p.lane, p.dfp) : fromObservation(p.lane)],
  ];
  if (p.simulator) answers.push(['simulator', fromSimulator(p.simulator, p.simulatorClusters, p.dfp)]);
  const out: string[] = [];
  for (let i = 0; i < answers.length; i++) {
    for (let j = i + 1; j < answers.length; j++) {
      const [an, a] = answers[i]!; // i, j < answers.length (loop bounds)
      const [bn, b] = answers[j]!;
      if (!sameAnswer(a, b)) out.push(`${an} ${describeAnswer(a)} ≠ ${bn} ${describeAnswer(b)}`);
    }
  }
  if (simulatorAsked && !p.simulator) out.push(`simulator gave no answer: ${p.simulatorMissing ?? 'not asked'}`);
  return out;
}

function reasonKey(why: string): string {
  return (
    why
      .replace(/^.*would be rejected by Istio: /, '')
      .replace(/"[^"]*"/g, '"…"')
      .replace(/\[\d+\]/g, '[i]')
      .split(';')[0] ?? ''
  );
}

/**
 * fast-check's array shrinkers keep a suffix when they cut a list, so a needed first element can pin an
 * unneeded second one. Finish by hand: keep only the disagreeing probes (a probe's answer never depends on
 * the other probes), then drop each resource and each mesh setting the disagreement does not need, one lane
 * run per attempt.
 */
async function greedyTrim(
  start: { s: FuzzScenario; outcome: ScenarioOutcome },
  opts: { lane: Lane; oracleVersion: string; simulator?: Simulator },
  step: () => void,
): Promise<{ s: FuzzScenario; outcome: ScenarioOutcome }> {
  if (start.outcome.disagreeing.length === 0) return start;
  const keep = new Set(start.outcome.disagreeing);
  let cur = {
    s: { ...start.s, probes: start.outcome.probes.filter((p) => keep.has(p)).map((p) => p.raw) },
    outcome: { probes: start.outcome.disagreeing, disagreeing: start.outcome.disagreeing, unknownTypes: start.outcome.unknownTypes },
  };
  const attempt = async (candidate: FuzzScenario): Promise<boolean> => {
    if (!admit(candidate).ok) return false;
    let outcome: ScenarioOutcome;
    try {
      outcome = await runScenario(opts.lane, candidate, opts);
    } catch {
      return false;
    }
    if (outcome.disagreeing.length === 0) return false;
    step();
    cur = { s: candidate, outcome };
    return true;
  };
  for (let i = cur.s.manifests.length - 1; i >= 0; i--) {
    await attempt({ ...cur.s, manifests: cur.s.manifests.filter((_, j) => j !== i) });
  }
  for (const k of Object.keys(cur.s.meshConfig)) {
    const { [k]: _drop, ...rest } = cur.s.meshConfig;
    await attempt({ ...cur.s, meshConfig: rest });
  }
  return cur;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const say = opts.say ?? (() => {});
  const arb = scenarioArb(opts.arb);
  const started = Date.now();
  const summary: FuzzSummary = {
    scenarios: 0,
    probes: 0,
    rejected: 0,
    rejectReasons: new Map(),
    disagreements: 0,
    oracleLane: 0,
    simulatorLane: 0,
    simulatorRuns: 0,
    simulatorMissing: 0,
    unknownTypes: new Map(),
    mix: emptyMix(),
    droppedResources: new Map(),
    findings: [],
    laneErrors: 0,
    laneErrorCauses: [],
    alsoSeen: new Map(),
    elapsedMs: 0,
    interrupted: false,
  };
  const found: { path: string; scenario: FuzzScenario; outcome: ScenarioOutcome }[] = [];
  const simulator = opts.simulator ? new Simulator(opts.simulator) : undefined;
  const ctx = { lane: opts.lane, oracleVersion: opts.oracleVersion, ...(simulator ? { simulator } : {}) };
  try {
    let index = -1;
    let consecutiveErrors = 0;
    const deadline = opts.timeLimitMs !== undefined ? started + opts.timeLimitMs : undefined;

    // Main pass: every property call is one generated value, so its index is fast-check's replay path.
    const main = await fc.check(
      fc.asyncProperty(arb, async (s) => {
        index++;
        if (deadline !== undefined && Date.now() > deadline) {
          summary.interrupted = true;
          return true; // fast-check's own interrupt is checked between runs; this ends the run promptly
        }
        const a = admit(s);
        if (!a.ok) {
          summary.rejected++;
          const k = reasonKey(a.why);
          summary.rejectReasons.set(k, (summary.rejectReasons.get(k) ?? 0) + 1);
          fc.pre(false);
        }
        let outcome: ScenarioOutcome;
        try {
          outcome = await runScenario(opts.lane, s, ctx);
          consecutiveErrors = 0;
        } catch (e) {
          // A lane that times out once is reported and the run goes on; one that keeps failing ends it.
          summary.laneErrors++;
          if (summary.laneErrorCauses.length < 3) summary.laneErrorCauses.push((e as Error).message.split('\n')[0] ?? '');
          say(`generated scenario ${index}: the lane failed: ${(e as Error).message.split('\n')[0]}`);
          if (++consecutiveErrors >= 3)
            throw new StepError(`the lane failed on 3 scenarios in a row; last: ${(e as Error).message.split('\n')[0]}`);
          fc.pre(false); // skipped, like a rejected scenario, so the run still reaches --count scenarios
          return true;
        }
        summary.scenarios++;
        summary.probes += outcome.probes.length;
        for (const why of s.dropped ?? []) {
          const k = reasonKey(why);
          summary.droppedResources.set(k, (summary.droppedResources.get(k) ?? 0) + 1);
        }
        for (const p of outcome.probes) summary.mix[p.category]++;
        opts.onScenario?.(String(index), s, outcome);
        for (const t of outcome.unknownTypes) summary.unknownTypes.set(t, (summary.unknownTypes.get(t) ?? 0) + 1);
        if (opts.simulator) {
          summary.simulatorRuns += outcome.probes.filter((p) => p.simulator).length;
          summary.simulatorMissing += outcome.probes.filter((p) => !p.simulator).length;
        }
        for (const p of outcome.disagreeing) {
          summary.disagreements++;
          if (p.differences.some((d) => d.startsWith('oracle') && d.includes('≠ lane'))) summary.oracleLane++;
          if (p.differences.some((d) => d.startsWith('lane') && d.includes('≠ simulator'))) summary.simulatorLane++;
        }
        const [firstDisagreeing] = outcome.disagreeing;
        if (firstDisagreeing) {
          const sig = signature(firstDisagreeing);
          const seen = summary.alsoSeen.get(sig);
          if (seen) seen.push(String(index));
          else if (found.length < (opts.maxShrinks ?? 5)) {
            summary.alsoSeen.set(sig, []);
            found.push({ path: String(index), scenario: s, outcome });
          } else summary.alsoSeen.set(sig, [String(index)]);
          say(
            `scenario ${summary.scenarios} (path ${index}): ${outcome.disagreeing.length} disagreeing probe(s): ${firstDisagreeing.differences[0]}`,
          );
        } else if (summary.scenarios % 25 === 0) {
          say(
            `${summary.scenarios} scenarios, ${summary.probes} probes, ${summary.disagreements} disagreements (${Math.round((Date.now() - started) / 1000)} s)`,
          );
        }
        return true;
      }),
      {
        seed: opts.seed,
        numRuns: opts.count,
        // Two thirds of generated scenarios are admitted; leave room for rejects.
        maxSkipsPerRun: 20,
        // The main pass only fails when the lane is broken: no shrinking then.
        endOnFailure: true,
        ...(opts.timeLimitMs !== undefined ? { interruptAfterTimeLimit: opts.timeLimitMs } : {}),
      },
    );
    if (main.failed && main.errorInstance instanceof Error) throw main.errorInstance;
    if (deadline !== undefined && Date.now() > deadline) summary.interrupted = true;

    // Shrink each finding with the lane in the loop: replay its path, fail on any disagreement.
    for (const f of found) {
      say(`shrinking the scenario at path ${f.path} (each step runs on the lane)…`);
      let steps = 0;
      let last: { s: FuzzScenario; outcome: ScenarioOutcome } = { s: f.scenario, outcome: f.outcome };
      const r = await fc.check(
        fc.asyncProperty(arb, async (s) => {
          fc.pre(admit(s).ok);
          let outcome: ScenarioOutcome;
          try {
            outcome = await runScenario(opts.lane, s, ctx);
          } catch {
            return true; // a lane failure is not the disagreement being shrunk
          }
          if (outcome.disagreeing.length === 0) return true;
          steps++;
          last = { s, outcome };
          return false;
        }),
        { seed: opts.seed, path: f.path, numRuns: 1, interruptAfterTimeLimit: opts.shrinkTimeMs ?? 180_000 },
      );
      last = await greedyTrim(last, ctx, () => steps++);
      summary.findings.push({
        path: f.path,
        original: f.scenario,
        shrunk: last.s,
        shrinkPath: r.counterexamplePath ?? f.path,
        shrinkSteps: Math.max(0, steps - 1),
        outcome: last.outcome,
      });
    }
  } finally {
    await simulator?.close();
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}
