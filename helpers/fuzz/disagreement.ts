// Where the three answers to a probe (oracle, the lane's evaluator, Istio's simulator) part ways, and what
// kind of disagreement that is, so one shrink can stand for every scenario that hits the same rule.
import type { ProbeOutcome } from './probe-outcome.ts';
import { describeAnswer, fromObservation, fromOracle, fromSimulator, sameAnswer, type Answer } from './referee.ts';

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

/**
 * What the source sidecar alone did with a call followed past it: it forwarded the call to its cluster (a
 * later hop's verdict, signal and path are not the sidecar's). Any other answer is the sidecar's already.
 */
export function sidecarView(a: Answer): Answer {
  if (a.verdict === 'error' || !a.hops || a.hops.length < 2) return a;
  const { hops: _, ...rest } = a;
  return { ...rest, verdict: 'allowed', signal: 'forwarded' };
}

/**
 * Every pair of answers that differ (the simulator against the others' sidecar view). With the simulator
 * asked (`simulatorAsked`), a probe it has no answer for is a difference too: a comparison never silently
 * becomes two-way.
 */
export function differences(
  p: Pick<ProbeOutcome, 'oracle' | 'lane' | 'simulator' | 'simulatorClusters' | 'simulatorMissing'>,
  simulatorAsked = p.simulator !== undefined,
): string[] {
  const oracle = fromOracle(p.oracle);
  const lane = fromObservation(p.lane);
  const out: string[] = [];
  const compare = (an: string, a: Answer, bn: string, b: Answer) => {
    if (!sameAnswer(a, b)) out.push(`${an} ${describeAnswer(a)} ≠ ${bn} ${describeAnswer(b)}`);
  };
  compare('oracle', oracle, 'lane', lane);
  if (p.simulator) {
    // The simulator runs on the source sidecar's xDS alone: it is asked what the sidecar does, not the gateway.
    const simulator = fromSimulator(p.simulator, p.simulatorClusters);
    compare('oracle', sidecarView(oracle), 'simulator', simulator);
    compare('lane', sidecarView(lane), 'simulator', simulator);
  }
  if (simulatorAsked && !p.simulator) out.push(`simulator gave no answer: ${p.simulatorMissing ?? 'not asked'}`);
  return out;
}
