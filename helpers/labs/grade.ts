// Grades a lab's state by behaviour: every check is a probe answered by an observer (the real istiod's
// xDS, through a lane or a live lab, or the oracle when no istiod can run). Each result carries what
// was expected, what happened, the istiod path (listener → chain → cluster) and the oracle's reason,
// so a failure can say why.
import type { BlockSignal, Expectation, Hop, Observation, Probe, ResourceSet, Verdict } from '../model/types.ts';
import type { Lane } from '../lanes/lane.ts';
import { observeAll, scenarioCases } from '../driver/run-cases.ts';
import { expectProbe } from '../oracle/index.ts';
import { meshMode } from '../oracle/policy.ts';
import type { Lab, LabCheck } from './load.ts';
import { startState } from './apply.ts';
import { checkConstraint, type ConstraintResult } from './constraints.ts';
import { hintFor } from './hints.ts';
import { type CheckFailure, failureOf } from './failure.ts';
import { xdsPath } from '../report/xds-path.ts';
import { modelObservation } from '../lanes/model/lane.ts';
import { withDiscovery } from '../oracle/discovery.ts';
import { sameHops } from '../report/results.ts';

export type Observe = (probe: Probe) => Promise<Observation>;

export interface Grader {
  /** For people: "istiod 1.32.0-alpha.…" or "the oracle (Istio 1.30.3 rules)". */
  name: string;
  /** True when the verdicts come from a real istiod (then the oracle only explains them). */
  referee: boolean;
  observe: Observe;
}

export interface CheckResult {
  check: LabCheck;
  got: Verdict | 'error';
  signal?: BlockSignal;
  /** The Envoy cluster the call took, when the grader saw it. */
  cluster?: string;
  /** The path hop by hop, when the grader followed it. */
  hops?: Hop[];
  pass: boolean;
  /** Why it failed, named (`bypasses the gateway`, `does not originate TLS`, ...). */
  failure?: CheckFailure;
  /** Where to look when it failed (never the answer). */
  hint: string;
  /** listener → chain → … → cluster, from the observation's evidence; the oracle's when it graded. */
  path: string;
  /** The oracle's verdict and reason for the graded state. */
  oracle: Expectation;
  /** The referee and the oracle disagree on this probe, its verdict, signal or path (the referee's answer counts). */
  oracleDisagrees: boolean;
  error?: string;
}

export interface LabGrade {
  lab: string;
  gradedBy: string;
  results: CheckResult[];
  /** The task's explicit constraints, checked on the cluster's objects. */
  constraints: ConstraintResult[];
  passed: boolean;
  score: { passed: number; total: number };
  notes: string[];
}

export function probeOf(check: LabCheck): Probe {
  return { from: check.from, to: check.to };
}

/**
 * The model's path for a probe: the hops it followed past the sidecar, else the sidecar alone (the model
 * follows a call further only when there is routing to follow: helpers/oracle/routing.ts).
 */
export function modelHops(resources: ResourceSet, probe: Probe, e: Expectation): Hop[] {
  return (
    e.hops ?? [
      withDiscovery(resources, { kind: 'sidecar', proxy: `${probe.from.namespace}/sidecar`, cluster: e.cluster, listener: e.listener }),
    ]
  );
}

export function oracleObserver(resources: ResourceSet, istioVersion: string): Observe {
  return async (probe) => {
    const e = expectProbe(resources, probe, { istioVersion });
    return modelObservation({ ...e, hops: modelHops(resources, probe, e) });
  };
}

/** The referee and the model part ways: verdict, how a blocked call shows (when both say), or the path (when both followed it). */
function disagree(o: Observation, e: Expectation): boolean {
  if (o.verdict !== e.verdict) return true;
  if (o.verdict === 'blocked' && o.signal && e.signal && o.signal !== e.signal) return true;
  return !!(o.hops && e.hops && !sameHops(o.hops, e.hops));
}

export function oracleGrader(resources: ResourceSet, istioVersion: string): Grader {
  return { name: `the oracle (Istio ${istioVersion} rules)`, referee: false, observe: oracleObserver(resources, istioVersion) };
}

/**
 * Grades `resources` (the lab's state) with `grader`. `oracleVersion` is the Istio version whose rules
 * explain the verdicts (the referee's version when it is istiod).
 */
export async function gradeState(
  lab: Lab,
  resources: ResourceSet,
  grader: Grader,
  oracleVersion: string,
  notes: string[] = [],
): Promise<LabGrade> {
  const results: CheckResult[] = [];
  for (const check of lab.checks) {
    const probe = probeOf(check);
    const o = await grader.observe(probe);
    const e = expectProbe(resources, probe, { istioVersion: oracleVersion });
    const oracle = { ...e, hops: modelHops(resources, probe, e) };
    const got = o.verdict;
    const failure = failureOf(check, o);
    results.push({
      check,
      got,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.cluster ? { cluster: o.cluster } : {}),
      ...(o.hops ? { hops: o.hops } : {}),
      pass: !failure,
      ...(failure ? { failure } : {}),
      hint: hintFor({
        check,
        got,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.cluster ? { cluster: o.cluster } : {}),
        ...(o.hops ? { hops: o.hops } : {}),
        ...(failure ? { failure } : {}),
      }),
      path: xdsPath(o) || '(no path recorded)',
      oracle,
      oracleDisagrees: grader.referee && disagree(o, oracle),
      ...(o.error ? { error: o.error } : {}),
    });
  }
  const start = startState(lab).resources;
  const constraints = lab.constraints.map((c) => checkConstraint(c, start, resources));
  const passed = results.filter((r) => r.pass).length + constraints.filter((c) => c.pass).length;
  const total = results.length + constraints.length;
  return {
    lab: lab.name,
    gradedBy: grader.name,
    results,
    constraints,
    passed: passed === total,
    score: { passed, total },
    notes,
  };
}

/**
 * Grades on a lane that is set up (the caller owns its lifetime): the state's checks run as one scenario
 * through the case driver (helpers/driver/run-cases.ts: applied once, probed in turn, cleared), then judged.
 * A scenario the lane could not apply shows as an error on every check, with its cause.
 */
export async function gradeOnLane(
  lab: Lab,
  resources: ResourceSet,
  lane: Lane,
  laneName: string,
  oracleVersion: string,
  notes: string[] = [],
): Promise<LabGrade> {
  const cases = scenarioCases(`lab-${lab.name}`, meshMode(resources), resources, lab.checks.map(probeOf));
  const seen = await observeAll(lane, cases);
  const byProbe = new Map(seen.map((o) => [o.case.probe, o.observation]));
  const observe: Observe = async (probe) => {
    const o = [...byProbe.entries()].find(([p]) => p.from === probe.from && p.to === probe.to)?.[1];
    if (!o) throw new Error(`lab ${lab.name}: no observation for ${probe.to.raw}`);
    return o;
  };
  return gradeState(lab, resources, { name: laneName, referee: true, observe }, oracleVersion, notes);
}
