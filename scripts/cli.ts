// The `egress-conformance` command line. Every user-fixable problem ends as one line on stderr and a
// non-zero exit code (2 bad input, 3 missing environment, 70 an internal error), never a stack trace.
// Each command's module is imported when that command runs, so a command loads only what it needs.
import { Command, CommanderError, Option } from 'commander';
import { ExitCodeError, UserError } from '../helpers/model/errors.ts';
import { versionText } from './commands/version.ts';
import type { registerLabCommands as RegisterLabs } from './commands/lab.ts';

/** Repeatable options (-f, --probe): each use appends. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

const io = {
  out: (s: string) => process.stdout.write(`${s}\n`),
  err: (s: string) => process.stderr.write(`${s}\n`),
};

/** `labs` is the lab commands' registration, imported only when they can be asked for (they load much). */
function buildProgram(result: { code: number | Promise<number> }, labs?: typeof RegisterLabs): Command {
  const program = new Command('egress-conformance')
    .description('End-to-end conformance suite for Istio egress control: sidecars, egress gateways, TLS origination')
    .version(versionText(), '-V, --version', 'print the version and the pinned Istio builds')
    // Program options only before the command, so `tools install pilot-discovery --version BUILD` reaches the subcommand.
    .enablePositionalOptions()
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program
    .command('expect')
    .description(
      "what Istio does with each probe, given resources: the real istiod's answer and path when its pinned tools are installed (on the warm stack if `up`), the model's reason beside it",
    )
    .addOption(
      new Option(
        '-f, --file <file>',
        'YAML: ServiceEntry, Sidecar, Gateway, VirtualService, DestinationRule, IstioOperator, ConfigMap istio-system/istio, or a List of them as `kubectl get -o yaml` writes (repeatable; - for stdin)',
      ).argParser(collect),
    )
    .option('--from-cluster', 'also read the mesh from a live cluster (read-only): $KUBECONFIG or ~/.kube/config')
    .option('--context <name>', 'with --from-cluster: the kubeconfig context to read')
    .addOption(
      new Option(
        '--probe <ns=url>',
        'NAMESPACE=URL or NAMESPACE[key=value,...]=URL (a labelled workload): http://host[:port][/path], https://host[:port][/path], tcp://host:port (repeatable)',
      ).argParser(collect),
    )
    .option(
      '--policy <mode>',
      'mesh outboundTrafficPolicy mode: ALLOW_ANY, REGISTRY_ONLY or ALLOW_ANY_DYNAMIC_DNS (overrides the IstioOperator)',
    )
    .option(
      '--istio-version <build>',
      "a pinned istiod build (label, Go module version) or, for the model, an Istio version X.Y.Z (default: the lane's build)",
    )
    .option('--json', 'print a JSON array, one object per probe')
    .option(
      '--lane <lane>',
      'control-plane (the real istiod; the default when its pinned tools are installed) or model (the model alone, instant; `oracle` is an alias)',
    )
    .action(async (opts) => {
      const { runExpect } = await import('./commands/expect.ts');
      result.code = runExpect(opts, io);
    });

  program
    .command('compare')
    .description(
      'upgrade validation: the catalogue, the rule scenarios and your case files on version A and B; prints the probes that change (OPENED, closed or rerouted), each with the rule behind it or UNEXPLAINED, then the unchanged ones',
    )
    .option(
      '--from <build>',
      'the version before: a pinned istiod build (label or Go module version); with --lane model also any Istio version',
    )
    .option('--to <build>', 'the version after, as --from')
    .addOption(
      new Option(
        '-f, --file <file>',
        'a case file of your own (name, resources or manifests, probes; pins optional; repeatable)',
      ).argParser(collect),
    )
    .option('--cases <dir>', 'a directory of your case files')
    .option('--no-builtin', 'leave out the built-in catalogue and rule scenarios (only your files)')
    .option(
      '--lane <lane>',
      "control-plane (two real istiod builds) or model (the model's rules only; `oracle` is an alias)",
      'control-plane',
    )
    .option(
      '--json',
      'print the comparison as JSON: {changes: [{id, direction, from: {verdict, cluster[, path]}, to: {…}, rule}], unchanged, …}',
    )
    .option(
      '--fail-on <direction>',
      'exit 1 when a probe changes that way: opened (blocked → allowed), closed (allowed → blocked) or any (also a changed cluster or path); replaces the default exit rule',
    )
    .option('--report-dir <dir>', 'where compare.json and compare.md (Markdown for a change request) go (default artifacts/compare)')
    .action(async (opts) => {
      const { runCompare } = await import('./commands/compare.ts');
      result.code = runCompare(opts, io);
    });

  program
    .command('rules')
    .description(
      'the version-gated rules of the oracle: since which Istio version, what changes, the upstream change, which pinned builds have it',
    )
    .option('--istio-version <x.y.z>', 'also mark which rules this version has')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { runRules } = await import('./commands/rules.ts');
      result.code = runRules(opts, io);
    });

  program
    .command('matrix')
    .description(
      "the whole case catalogue (scenario × policy × source × destination): istiod's verdicts when its pinned tools are installed, the model's and the pins checked beside them",
    )
    .option(
      '--istio-version <build>',
      "a pinned istiod build (label, Go module version) or, for the model, an Istio version X.Y.Z (default: the lane's build)",
    )
    .option('--lane <lane>', 'control-plane (the real istiod; the default when its pinned tools are installed) or model')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { runMatrix } = await import('./commands/matrix.ts');
      result.code = runMatrix(opts, io);
    });

  const runCmd = (name: string, description: string, forceDryRun: boolean) =>
    program
      .command(name)
      .description(description)
      .option(
        '--lane <lane>',
        "kind, control-plane, model (the model's answers; `oracle` is an alias) or auto (kind where Docker answers, else control-plane)",
        'auto',
      )
      .option('--dry-run', 'print every command and manifest the kind lane would run, and run nothing')
      .option('--keep', 'kind: keep the cluster afterwards')
      .option('--reuse', 'kind: use the existing cluster this tool created earlier')
      .option('--test <regex>', 'only the probes whose id (POLICY/scenario/from→to) matches (same as --run)')
      .addOption(
        new Option('--run <regex>', 'run only the cases whose id (POLICY/scenario/from→to) matches; repeatable: any of them').argParser(
          collect,
        ),
      )
      .addOption(new Option('--skip <regex>', 'leave out the cases whose id matches; repeatable, applied after --run').argParser(collect))
      .option('--rerun-failed <report.json>', 'run only the cases that failed or errored in that JSON report (egress-<lane>.json)')
      .option('--fail-fast', 'stop at the first case that fails or errors; the rest are reported as skipped')
      .option('--istio-version <x.y.z>', 'Istio version to install (kind) or whose rules apply (default: the pinned version)')
      .option('--report-dir <dir>', 'where JSON, JUnit and Markdown reports go (default artifacts/<lane>)')
      .option(
        '--cases <dir>',
        'run your own case files (name, resources or manifests, probes) instead of the catalogue; pins optional: without them the oracle is the expectation, with them they are checked too',
      )
      .action(async (opts) => {
        const { dryRun, runLaneSuite } = await import('./commands/run.ts');
        result.code = forceDryRun ? dryRun(opts, io.out) : runLaneSuite(opts, io);
      });
  runCmd('run', 'run the catalogue on a lane and compare every probe with the oracle (the main job)', false);
  runCmd('plan', "print the kind lane's full plan (same as run --lane kind --dry-run)", true);

  program
    .command('tools')
    .description('pinned tools')
    .command('install <name>')
    .description(
      "build or download a pinned tool into the cache: pilot-discovery, istioctl-build (istioctl of the control-plane build, for offline validation), istioctl (the kind lane release), kind, or simulator (Istio's traffic simulator, the fuzzer's referee)",
    )
    .option(
      '--version <build>',
      "pilot-discovery and istioctl-build: which pinned istiod build (label or Go module version; default the lane's)",
    )
    .action(async (name: string, opts: { version?: string }) => {
      const { installTool } = await import('./commands/tools.ts');
      result.code = installTool(name, io, opts);
    });

  program
    .command('up')
    .description('start the warm stack: one local cluster + istiod, detached, for every later command (prints export KUBECONFIG=...)')
    .option('--istio-version <build>', "the istiod build: a pinned build's label or Go module version (default: the lane's)")
    .option('-f, --file <istiooperator>', 'an IstioOperator to install (default: the built-in ALLOW_ANY install)')
    .action(async (opts) => {
      const { runUp } = await import('./commands/up.ts');
      result.code = runUp(opts, io);
    });

  program
    .command('status')
    .description('the warm stack: builds, endpoints, uptime, pids (exit 3 when none is up)')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const { runStatus } = await import('./commands/status.ts');
      result.code = runStatus(opts, io);
    });

  program
    // Started by `up` beside the warm stack; not a command for users.
    .command('answer-server', { hidden: true })
    .action(async () => {
      const { serveAnswers } = await import('../helpers/stack/answer-server.ts');
      const { answerSocketIn } = await import('../helpers/stack/answer-protocol.ts');
      const { readWarm } = await import('../helpers/stack/warm.ts');
      const rec = readWarm();
      if (!rec) throw new UserError('answer-server: no warm stack is recorded (`egress-conformance up` starts one, and this with it)');
      await serveAnswers(answerSocketIn(rec.runDir), process.env, io.err);
      result.code = new Promise<number>(() => {}); // serves until its stack is gone (it exits then)
    });

  program
    .command('down')
    .description('stop the warm stack and remove what it made')
    .action(async () => {
      const { runDown } = await import('./commands/down.ts');
      result.code = runDown({}, io);
    });

  labs?.(program, result, io);

  program
    .command('fuzz')
    .description(
      "generated scenarios on the real istiod, every probe compared with the oracle (and Istio's simulator); disagreements shrunk into rule fixtures",
    )
    .option('--seed <n>', 'fast-check seed (default: random, printed)')
    .option('--count <n>', 'scenarios to run', '100')
    .option('--minutes <m>', 'stop starting scenarios after this many minutes')
    .option(
      '--path <n>',
      "replay only the generated scenario at this path under --seed (as `fuzz` printed it, or a fixture's `found.path`)",
    )
    .option('--out <dir>', 'where shrunk disagreements are written as rule fixtures', 'artifacts/fuzz')
    .option('--no-simulator', 'compare the oracle with the lane only')
    .option(
      '--replays <n>',
      'apply a disagreeing scenario this many more times: a probe istiod then answers otherwise, one run agreeing on all sides, is istiod varying (default 10; 0: never)',
    )
    .action(async (opts) => {
      const { runFuzzCommand } = await import('./commands/fuzz.ts');
      result.code = runFuzzCommand(opts, io);
    });

  program
    .command('bench')
    .description('benchmark the control-plane lane: istiod start, catalogue time, push latency (prints a table)')
    .option('--rewrites <n>', 'rewrites per scenario for the push-latency figures', '5')
    .option('--cli [runs]', 'time whole CLI processes instead: --version, expect by the model, expect with 5 probes on the warm stack')
    .action(async (opts) => {
      if (opts.cli !== undefined) {
        const runs = opts.cli === true ? 5 : Number(opts.cli);
        if (!Number.isInteger(runs) || runs < 1 || runs > 100)
          throw new UserError(`--cli: "${opts.cli}" must be a whole number from 1 to 100`);
        const { benchCli, formatCli } = await import('./bench-cli.ts');
        io.out(formatCli(await benchCli(runs, io.err)));
        result.code = 0;
        return;
      }
      const { runBenchmark, formatTable } = await import('./bench-control-plane.ts');
      const n = Number(opts.rewrites);
      if (!Number.isInteger(n) || n < 1 || n > 100)
        throw new UserError(`--rewrites: "${opts.rewrites}" must be a whole number from 1 to 100`);
      io.out(formatTable(await runBenchmark({ rewrites: n })));
      result.code = 0;
    });

  return program;
}

// `egress-conformance matrix | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/** A bug of this tool, never 1 (a failed probe): sysexits' EX_SOFTWARE. */
export const INTERNAL_ERROR = 70;

export async function main(argv: string[]): Promise<number> {
  const result: { code: number | Promise<number> } = { code: 0 };
  const wantsLabs = argv.length === 0 || argv[0] === 'lab' || argv[0] === 'help' || argv.includes('--help') || argv.includes('-h');
  const program = buildProgram(result, wantsLabs ? (await import('./commands/lab.ts')).registerLabCommands : undefined);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    return await result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its one-line message (or the help text).
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof ExitCodeError) {
      io.err(`egress-conformance: ${e.message}`);
      return e.exitCode;
    }
    io.err(
      `egress-conformance: internal error: ${(e as Error)?.message ?? String(e)} (set EGRESS_DEBUG=1 for the stack, and please report it)`,
    );
    if (process.env.EGRESS_DEBUG) io.err((e as Error)?.stack ?? '');
    return INTERNAL_ERROR;
  }
}
