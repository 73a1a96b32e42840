// `egress-conformance lab`: Istio Certified Associate practice. The commands' logic lives in
// helpers/labs/; this file only declares the subcommands and their flags.
import { Option, type Command } from 'commander';
import { labCheck } from '../../helpers/labs/check.ts';
import type { IO, LabDeps } from '../../helpers/labs/deps.ts';
import { labExam } from '../../helpers/labs/exam-command.ts';
import { labProgress } from '../../helpers/labs/progress-command.ts';
import { labInstall, labStart, labStop } from '../../helpers/labs/session.ts';
import { labList, labShow } from '../../helpers/labs/show.ts';
import { collect } from './options.ts';

/** The `lab` command and its subcommands; `result.code` receives each action's exit code. */
export function registerLabCommands(program: Command, result: { code: number | Promise<number> }, io: IO): void {
  const d: LabDeps = { io };
  const lab = program
    .command('lab')
    .description('exam practice: tasks on a live cluster or from files, graded on behaviour by the real istiod');
  lab
    .command('list')
    .description('the labs')
    .action(() => {
      result.code = labList(d);
    });
  lab
    .command('show <name>')
    .description('the task, the starting state and the checks it is graded on')
    .option('--hints', 'show the hints')
    .option('--solution', 'show a reference solution and why it works')
    .action((name: string, opts) => {
      result.code = labShow(name, opts, d);
    });
  lab
    .command('check <name>')
    .description("grade the running lab (after lab start), or your YAML with -f over the lab's starting state")
    .addOption(
      new Option('-f, --file <file>', 'your YAML, applied over the starting state as kubectl apply -f would (repeatable)').argParser(
        collect,
      ),
    )
    .action((name: string, opts) => {
      result.code = labCheck(name, opts, d);
    });
  lab
    .command('start <name>')
    .description('start a live lab: API server, Istio, istiod, client pods and the starting state; prints export KUBECONFIG=…')
    .action((name: string) => {
      result.code = labStart(name, d);
    });
  lab
    .command('install')
    .description('what istioctl install -f does, for the running lab: render the IstioOperator with the pinned istioctl and apply it')
    .addOption(new Option('-f, --file <file>', 'the IstioOperator').argParser(collect))
    .action((opts) => {
      result.code = labInstall(opts, d);
    });
  lab
    .command('stop')
    .description('stop the running lab: its objects go; the stack too when lab start started it (its own processes only)')
    .action(() => {
      result.code = labStop(d);
    });
  lab
    .command('exam')
    .description("a timed exam in the real one's shape: tasks across the domains by weight, any order, a score and a review")
    .option('--minutes <n>', 'time for the whole exam (default 120)')
    .option('--count <n>', 'number of tasks (default 15)')
    .option('--pass-mark <percent>', 'total score needed to pass (default 68)')
    .option('--files', 'no live cluster: answer each task with YAML files typed at the prompt (still graded on the real istiod)')
    .action((opts) => {
      result.code = labExam(opts, d);
    });
  lab
    .command('progress')
    .description(`past attempts and exams (kept in ${'${XDG_STATE_HOME:-~/.local/state}'}/istio-egress-conformance)`)
    .action(() => {
      result.code = labProgress(d);
    });
}
