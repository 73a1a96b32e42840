// `lab list` and `lab show`: the labs, and one task with its starting state and what it is graded on.
import { readFileSync } from 'node:fs';
import { renderTable } from '../report/table.ts';
import { startState } from './apply.ts';
import { describeConstraint } from './constraints.ts';
import { type LabDeps, fixturePath } from './deps.ts';
import { DOMAIN_TITLES } from './domains.ts';
import { findLab, type Lab, loadLabs } from './load.ts';
import { sourceLabel } from './render.ts';

export function labList(d: LabDeps): number {
  d.io.out(
    renderTable(
      ['LAB', 'DOMAIN', 'COMPETENCY', 'MESH POLICY'],
      loadLabs().map((l) => [l.needs ? `${l.name} *` : l.name, DOMAIN_TITLES[l.domain], l.competency, l.policy]),
    ),
  );
  const pending = [...new Set(loadLabs().flatMap((l) => (l.needs ? [l.needs] : [])))];
  if (pending.length) d.io.out(`\n* listed, not gradable yet: needs ${pending.join('; ')}`);
  d.io.out('\negress-conformance lab show NAME; then lab start NAME (a live cluster, kubectl) or lab check NAME -f your.yaml');
  return 0;
}

export function startingState(lab: Lab): string[] {
  const s = startState(lab).resources;
  return [...s.serviceEntries, ...s.sidecars, ...(s.routing ?? [])].map((r) => `${r.kind} ${r.namespace}/${r.name}`);
}

export function labShow(name: string, flags: { hints?: boolean; solution?: boolean }, d: LabDeps): number {
  const lab = findLab(name);
  const out = d.io.out;
  out(`# ${lab.title}  (${lab.name})\n\nDomain: ${DOMAIN_TITLES[lab.domain]}, ${lab.competency}\nTopic: ${lab.topic}`);
  out(`Istio: installed from ${fixturePath(lab.install)} (mesh outboundTrafficPolicy ${lab.policy})`);
  if (lab.needs) out(`Not gradable yet: grading needs ${lab.needs}, which no lane observes yet`);
  const start = startingState(lab);
  out(`Already in the cluster: ${start.length ? start.join(', ') : 'no ServiceEntry or Sidecar'}`);
  out(`\n${lab.task}\n\nGraded on the real istiod, by the calls (verdict and Envoy cluster):`);
  for (const c of lab.checks) {
    const how = `${c.want}${c.signal ? ` (${c.signal})` : ''}${c.cluster ? ` via ${c.cluster}` : ''}`;
    out(`  - from ${sourceLabel(c.from)} to ${c.to.raw}: ${how}`);
  }
  if (lab.constraints.length) {
    out('and by the cluster objects:');
    for (const c of lab.constraints) out(`  - ${describeConstraint(c)}`);
  }
  if (flags.hints) {
    out('\nHints:');
    lab.hints.forEach((h, i) => out(`  ${i + 1}. ${h}`));
  } else out(`\n(${lab.hints.length} hint(s): add --hints)`);
  if (flags.solution) {
    out(`\nA solution (${fixturePath(lab.solution)}), applied over the starting state:\n\n${readFileSync(lab.solution, 'utf8')}`);
    out(
      `Why it works:\n${lab.explanation
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n')}`,
    );
  }
  return 0;
}
