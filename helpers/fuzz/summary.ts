// The tally of a fuzz run: what was generated, rejected, answered and disagreed on, counted as the main
// pass goes.
import { emptyMix, type Mix } from './outcome.ts';
import type { ScenarioOutcome } from './probe-outcome.ts';
import { describeAnswer } from './referee.ts';
import type { FuzzScenario } from './scenario.ts';
import type { Finding } from './shrink.ts';

export interface FuzzSummary {
  scenarios: number;
  probes: number;
  rejected: number;
  rejectReasons: Map<string, number>;
  /** Probes where any two answers differ. */
  disagreements: number;
  /** Of those, where the oracle differs from the lane. */
  oracleLane: number;
  /**
   * Probes that disagreed, then were answered by istiod otherwise when the scenario was applied again, one of
   * those runs agreeing on all three sides (variance.ts): `path#index: answer ×n | answer ×n`.
   */
  varied: string[];
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

export function emptySummary(): FuzzSummary {
  return {
    scenarios: 0,
    probes: 0,
    rejected: 0,
    rejectReasons: new Map(),
    disagreements: 0,
    oracleLane: 0,
    varied: [],
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
}

/** A reason with its names and indexes left out, so that the same rejection is counted once. */
function reasonKey(why: string): string {
  return (
    why
      .replace(/^.*would be rejected by Istio: /, '')
      .replace(/"[^"]*"/g, '"…"')
      .replace(/\[\d+\]/g, '[i]')
      .split(';')[0] ?? ''
  );
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export function countRejected(summary: FuzzSummary, why: string): void {
  summary.rejected++;
  bump(summary.rejectReasons, reasonKey(why));
}

export function countLaneError(summary: FuzzSummary, message: string): void {
  summary.laneErrors++;
  if (summary.laneErrorCauses.length < 3) summary.laneErrorCauses.push(message);
}

/** Counts a scenario the lane answered (`path`: its fast-check path); `simulatorAsked` when the run compares with the simulator. */
export function countScenario(
  summary: FuzzSummary,
  path: string,
  s: FuzzScenario,
  outcome: ScenarioOutcome,
  simulatorAsked: boolean,
): void {
  summary.scenarios++;
  outcome.probes.forEach((p, i) => {
    if (p.varies)
      summary.varied.push(`${path}#${i}: ${p.varies.answers.map((t) => `${describeAnswer(t.answer)} ×${t.times}`).join(' | ')}`);
  });
  summary.probes += outcome.probes.length;
  for (const why of s.dropped ?? []) bump(summary.droppedResources, reasonKey(why));
  for (const p of outcome.probes) summary.mix[p.category]++;
  for (const t of outcome.unknownTypes) bump(summary.unknownTypes, t);
  if (simulatorAsked) {
    summary.simulatorRuns += outcome.probes.filter((p) => p.simulator).length;
    summary.simulatorMissing += outcome.probes.filter((p) => !p.simulator).length;
  }
  for (const p of outcome.disagreeing) {
    summary.disagreements++;
    if (p.differences.some((d) => d.startsWith('oracle') && d.includes('≠ lane'))) summary.oracleLane++;
    if (p.differences.some((d) => d.startsWith('lane') && d.includes('≠ simulator'))) summary.simulatorLane++;
  }
}
