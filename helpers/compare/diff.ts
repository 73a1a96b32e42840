// Which probes change between two versions, and whether the oracle's version gates explain each change.
import type { CaseRun } from '../catalogue/types.ts';
import { formatHop } from '../model/hops.ts';
import type { Hop } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';
import { gatesBetween, gateOpen, parseIstioVersion, type VersionGate } from '../oracle/version.ts';
import type { Observations } from './observe.ts';
import type { CompareTarget } from './targets.ts';

export interface Answer {
  verdict: string;
  cluster: string;
  /** The hop path, when it says more than the cluster (a gateway past the sidecar, TLS the sidecar originates). */
  path?: string;
}

export interface RuleRef {
  id: string;
  since: string;
  effect: string;
  upstream: string;
}

export type ChangeStatus = 'explained' | 'unexplained' | 'missing';

/** Which way an observed change moves egress: opened lets out what was blocked, closed the reverse. */
export type Direction = 'opened' | 'closed' | 'rerouted';

export interface Change {
  id: string;
  scenario: string;
  file: string;
  /** What was observed on each side (for `missing`: the same on both). */
  from: Answer;
  to: Answer;
  /** What the oracle predicts on each side. */
  predicted: { from: Answer; to: Answer };
  status: ChangeStatus;
  /** Set for observed changes; a `missing` change was not observed, so it moved nothing. */
  direction?: Direction;
  /** The gates behind the predicted change; empty for a change the oracle does not predict. */
  rules: RuleRef[];
  /** Why a change is unexplained or missing. */
  note?: string;
}

export interface ProbeError {
  id: string;
  side: 'from' | 'to';
  error: string;
}

export interface Comparison {
  probes: number;
  changes: Change[];
  errors: ProbeError[];
  /** Probes where the lane and the oracle disagree the same way on both sides (not an upgrade change). */
  steadyDisagreements: { id: string; observed: Answer; predicted: Answer }[];
  /** The gates whose state differs between the two versions. */
  gates: VersionGate[];
  /** Probes observed on both sides with the same answer (a `missing` change among them); errored ones are not. */
  unchanged: string[];
}

const key = (a: Answer) => `${a.verdict} ${a.cluster}${a.path ? ` via ${a.path}` : ''}`;

/**
 * Pin form (the source sidecar written `sidecar`), so a Pod's generated name never reads as a change. A
 * lone sidecar hop without TLS is only the cluster again: no path.
 */
function pathOf(hops: Hop[] | undefined): string | undefined {
  if (!hops?.length || (hops.length === 1 && !hops[0]!.tls)) return undefined;
  return hops.map((h) => formatHop(h, true)).join(' → ');
}

const answer = (s: { verdict: string; cluster: string; hops?: Hop[] }): Answer => {
  const path = pathOf(s.hops);
  return { verdict: s.verdict, cluster: s.cluster, ...(path ? { path } : {}) };
};

/**
 * An observation agrees with a prediction on verdict and cluster, and on the path where both have one:
 * the model follows the call past the sidecar only where it knows how, as `judge` in helpers/report does.
 */
const agrees = (observed: Answer, predicted: Answer) =>
  observed.verdict === predicted.verdict &&
  observed.cluster === predicted.cluster &&
  (!observed.path || !predicted.path || observed.path === predicted.path);

function directionOf(from: Answer, to: Answer): Direction {
  if (from.verdict === 'blocked' && to.verdict === 'allowed') return 'opened';
  if (from.verdict === 'allowed' && to.verdict === 'blocked') return 'closed';
  return 'rerouted';
}

export function ruleRef(g: VersionGate): RuleRef {
  return { id: g.id, since: g.since, effect: `${g.title}: before, ${g.before}; since, ${g.after}`, upstream: g.upstream };
}

/**
 * The gates that account for a predicted change: each gate that alone, switched to the `to` side's
 * state on the `from` version, gives the `to` prediction; when none does alone, every differing gate
 * that changes the answer at all (they act together).
 */
function attribute(c: CaseRun, from: CompareTarget, to: CompareTarget, predTo: Answer, predFrom: Answer): VersionGate[] {
  const vFrom = parseIstioVersion(from.oracleVersion);
  const vTo = parseIstioVersion(to.oracleVersion);
  const differing = gatesBetween(vFrom, vTo);
  const at = (gates: Record<string, boolean>) =>
    answer(expectProbe(c.scenario.resources, c.probe, { istioVersion: from.oracleVersion, policy: c.policy, gates }));
  const alone = differing.filter((g) => key(at({ [g.id]: gateOpen(vTo, g.id) })) === key(predTo));
  if (alone.length) return alone;
  return differing.filter((g) => key(at({ [g.id]: gateOpen(vTo, g.id) })) !== key(predFrom));
}

export function compareObservations(
  cases: CaseRun[],
  from: CompareTarget,
  to: CompareTarget,
  seenFrom: Observations,
  seenTo: Observations,
): Comparison {
  const changes: Change[] = [];
  const errors: ProbeError[] = [];
  const steadyDisagreements: Comparison['steadyDisagreements'] = [];
  const unchanged: string[] = [];
  for (const c of cases) {
    const a = seenFrom.get(c.id);
    const b = seenTo.get(c.id);
    let broken = false;
    for (const [side, s] of [
      ['from', a],
      ['to', b],
    ] as const) {
      if (!s || s.verdict === 'error') {
        errors.push({ id: c.id, side, error: s?.error ?? 'not observed' });
        broken = true;
      }
    }
    if (broken) continue;
    const predFrom = answer(expectProbe(c.scenario.resources, c.probe, { istioVersion: from.oracleVersion, policy: c.policy }));
    const predTo = answer(expectProbe(c.scenario.resources, c.probe, { istioVersion: to.oracleVersion, policy: c.policy }));
    const obsFrom = answer(a!);
    const obsTo = answer(b!);
    const observedChange = key(obsFrom) !== key(obsTo);
    const predictedChange = key(predFrom) !== key(predTo);
    const base = {
      id: c.id,
      scenario: c.scenario.name,
      file: c.scenario.file,
      from: obsFrom,
      to: obsTo,
      predicted: { from: predFrom, to: predTo },
    };
    if (!observedChange) unchanged.push(c.id);
    if (observedChange) {
      const direction = directionOf(obsFrom, obsTo);
      if (predictedChange && agrees(obsFrom, predFrom) && agrees(obsTo, predTo)) {
        changes.push({ ...base, status: 'explained', direction, rules: attribute(c, from, to, predTo, predFrom).map(ruleRef) });
      } else {
        const note = predictedChange
          ? `the oracle predicts ${key(predFrom)} → ${key(predTo)}`
          : `the oracle predicts no change (${key(predFrom)} on both)`;
        changes.push({ ...base, status: 'unexplained', direction, rules: [], note });
      }
    } else if (predictedChange) {
      changes.push({
        ...base,
        status: 'missing',
        rules: attribute(c, from, to, predTo, predFrom).map(ruleRef),
        note: `the oracle predicts ${key(predFrom)} → ${key(predTo)}, both builds give ${key(obsFrom)}`,
      });
    } else if (!agrees(obsFrom, predFrom)) {
      steadyDisagreements.push({ id: c.id, observed: obsFrom, predicted: predFrom });
    }
  }
  return {
    probes: cases.length,
    changes,
    errors,
    steadyDisagreements,
    gates: gatesBetween(parseIstioVersion(from.oracleVersion), parseIstioVersion(to.oracleVersion)),
    unchanged,
  };
}

/** 0 when every observed change is predicted and explained, nothing predicted is missing and nothing errored. */
export function exitCodeOf(c: Comparison): number {
  return c.errors.length === 0 && c.changes.every((x) => x.status === 'explained') ? 0 : 1;
}
