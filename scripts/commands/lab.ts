// `egress-conformance lab`: Istio Certified Associate practice. list, show a task, check a solution.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../helpers/model/errors.ts';
import { findLab, LABS_DIR, loadLabs } from '../../helpers/labs/load.ts';
import { gradeLab } from '../../helpers/labs/grade.ts';
import { createLane } from '../../helpers/lanes/select.ts';
import { findPilotDiscovery } from '../../helpers/tools/pilot-discovery.ts';
import { PINNED } from '../../helpers/tools/versions.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { collect } from './options.ts';

type IO = { out: (s: string) => void; err: (s: string) => void };

export function labList(io: IO): number {
  io.out(renderTable(['LAB', 'MESH POLICY', 'TITLE'], loadLabs().map((l) => [l.name, l.policy, l.title])));
  io.out('\negress-conformance lab show NAME   then   egress-conformance lab check NAME -f your.yaml');
  return 0;
}

export function labShow(name: string, flags: { hints?: boolean; solution?: boolean }, io: IO): number {
  const lab = findLab(name);
  io.out(`# ${lab.title}  (${lab.name})\n\nMesh: outboundTrafficPolicy ${lab.policy}\n\n${lab.task}\n\nGraded on behaviour:`);
  for (const c of lab.checks) io.out(`  - from ${c.from.namespace} to ${c.to.raw}: ${c.want}${c.signal ? ` (${c.signal})` : ''}`);
  if (flags.hints) {
    io.out('\nHints:');
    lab.hints.forEach((h, i) => io.out(`  ${i + 1}. ${h}`));
  } else if (lab.hints.length) io.out(`\n(${lab.hints.length} hint(s): add --hints)`);
  if (flags.solution) io.out(`\nA solution (${join(LABS_DIR, lab.solution)}):\n\n${readFileSync(join(LABS_DIR, lab.solution), 'utf8')}`);
  return 0;
}

export async function labCheck(name: string, flags: { file?: string[]; grader?: string }, io: IO): Promise<number> {
  const lab = findLab(name);
  if (!flags.file?.length) throw new UserError(`-f: give the YAML file(s) with your solution, e.g. egress-conformance lab check ${name} -f solution.yaml`);
  const wanted = flags.grader ?? 'auto';
  if (!['auto', 'control-plane', 'oracle'].includes(wanted)) throw new UserError(`--grader: "${wanted}" is not control-plane, oracle or auto`);
  const useLane = wanted === 'control-plane' || (wanted === 'auto' && (await findPilotDiscovery()) !== undefined);
  let grade;
  if (useLane) {
    io.err('grading on the control-plane lane: the real istiod decides');
    const lane = await createLane('control-plane', {});
    try {
      const info = await lane.setup();
      grade = await gradeLab(lab, flags.file, { lane, name: `istiod ${info.istioVersion}` });
    } finally {
      await lane.teardown();
    }
  } else {
    io.err('grading with the oracle (no pilot-discovery built: `egress-conformance tools install pilot-discovery` grades on the real istiod)');
    grade = await gradeLab(lab, flags.file, { oracle: PINNED.istio });
  }
  io.out(renderTable(['', 'FROM', 'TO', 'WANT', 'GOT'], grade.results.map((r) => [
    r.pass ? 'ok' : 'FAIL', r.check.from.namespace, r.check.to.raw,
    `${r.check.want}${r.check.signal ? ` ${r.check.signal}` : ''}`, `${r.got}${r.signal ? ` ${r.signal}` : ''}`,
  ])));
  io.out(grade.passed ? `\nPASS: ${lab.name} (graded by ${grade.gradedBy})` : `\nNOT YET: ${grade.results.filter((r) => !r.pass).length} check(s) fail (graded by ${grade.gradedBy}); \`egress-conformance lab show ${lab.name} --hints\``);
  return grade.passed ? 0 : 1;
}

export { collect };
