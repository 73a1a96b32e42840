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
 * Every pair of answers that differ. With the simulator asked (`simulatorAsked`), a probe it has no answer for
 * is a difference too: a comparison never silently becomes two-way.
 */
export function differences(
  p: Pick<ProbeOutcome, 'oracle' | 'lane' | 'simulator' | 'simulatorClusters' | 'simulatorMissing'>,
  simulatorAsked = p.simulator !== undefined,
): string[] {
  const answers: [string, Answer][] = [
    ['oracle', fromOracle(p.oracle)],
    ['lane', fromObservation(p.lane)],
  ];
  if (p.simulator) answers.push(['simulator', fromSimulator(p.simulator, p.simulatorClusters)]);
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
