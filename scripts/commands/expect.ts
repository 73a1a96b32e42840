// `egress-conformance expect`: what Istio does with each probe, given resources. The real istiod answers
// whenever the pinned tools are installed (on the warm stack if `up` started one, else on a stack started
// for the call); the model answers where they are not (or with --lane model), labelled as the model's,
// with a line on how to get istiod's answer.
import type { Expectation, PolicyMode, Probe, ResourceSet } from '../../helpers/model/types.ts';
import { EnvironmentError, UserError } from '../../helpers/model/errors.ts';
import { loadResourceFiles } from '../../helpers/istio/load.ts';
import { formatProbeSource, parseProbeFlag } from '../../helpers/probes/url.ts';
import { unknownSourceNotes } from '../../helpers/istio/namespaces.ts';
import { meshMode } from '../../helpers/oracle/policy.ts';
import { ModelLane } from '../../helpers/lanes/model/lane.ts';
import { observeAll, scenarioCases } from '../../helpers/driver/run-cases.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { howToGetIstiod, missingStackTools } from '../../helpers/stack/requirements.ts';
import { buildFlag, parsePolicy } from './options.ts';

export interface ExpectFlags {
  file?: string[];
  probe?: string[];
  policy?: string;
  istioVersion?: string;
  json?: boolean;
  /** Unset: istiod when its tools are installed, else the model. `model` (alias `oracle`), or `control-plane`/`istiod`. */
  lane?: string;
  /** Read the resources from a live cluster (read-only), beside or instead of -f. */
  fromCluster?: boolean;
  context?: string;
}

export interface ExpectRow {
  from: string;
  to: string;
  answeredBy: 'model';
  verdict: Expectation['verdict'];
  cluster: string;
  reason: string;
}

type Io = { out: (s: string) => void; err: (s: string) => void };

const ISTIOD_LANES = ['control-plane', 'istiod'];

/** Who answers: the lane asked for, or istiod when its pinned tools are installed, else the model (and why). */
export async function chooseAnswerer(
  flags: Pick<ExpectFlags, 'lane'>,
  pin: ReturnType<typeof buildFlag>['pin'],
  env: NodeJS.ProcessEnv,
  io: Io,
): Promise<{ lane: 'istiod' } | { lane: 'model'; hint?: string }> {
  const lane = flags.lane;
  if (lane !== undefined && lane !== 'model' && lane !== 'oracle' && !ISTIOD_LANES.includes(lane))
    throw new UserError(`--lane: "${lane}" is not a lane expect can ask; use control-plane (the real istiod) or model (alias oracle)`);
  // Imported only here: the lane selection module loads process tooling the model's answers do not need.
  if (lane === 'oracle') io.err((await import('../../helpers/lanes/select.ts')).ORACLE_ALIAS_NOTE);
  if (lane === 'model' || lane === 'oracle') return { lane: 'model' };
  if (!pin) {
    if (lane) throw new UserError('--istio-version: the real istiod runs pinned builds only; name one by label, or use --lane model');
    return { lane: 'model', hint: 'the real istiod runs pinned builds only (`egress-conformance rules` lists them)' };
  }
  const missing = missingStackTools(pin, env);
  if (!missing.length) return { lane: 'istiod' };
  if (lane) throw new EnvironmentError(`--lane ${lane} needs the pinned tools; ${howToGetIstiod(missing)}`);
  return { lane: 'model', hint: howToGetIstiod(missing) };
}

export async function runExpect(flags: ExpectFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!flags.file?.length && !flags.fromCluster)
    throw new UserError(
      '-f: give at least one file, e.g. -f fixtures/serviceentries/db-course.yaml (IstioOperator, ServiceEntry and Sidecar resources), or --from-cluster',
    );
  if (flags.context !== undefined && !flags.fromCluster) throw new UserError('--context: only with --from-cluster');
  if (!flags.probe?.length) throw new UserError('--probe: give at least one, e.g. --probe frontend=tcp://db.example.com:5432');
  const policy = parsePolicy(flags.policy);
  const build = buildFlag(flags.istioVersion);
  const answerer = await chooseAnswerer(flags, build.pin, env, io);
  const parsed = flags.probe.map(parseProbeFlag);
  const notes: string[] = [];
  const resources = loadResourceFiles(flags.file ?? [], notes);
  if (flags.fromCluster) {
    const { readFromCluster } = await import('../../helpers/istio/from-cluster.ts');
    await readFromCluster({ context: flags.context, env, into: resources, notes, say: (l) => io.err(l) });
  }
  notes.push(
    ...unknownSourceNotes(
      resources,
      parsed.map((p, i) => ({ namespace: p.namespace, flag: `--probe ${flags.probe![i]}` })),
    ),
  );
  for (const n of notes) io.err(`note: ${n}`);
  const probes: Probe[] = parsed.map((p) => ({ from: p.from, to: p.target }));
  if (answerer.lane === 'istiod') {
    const { expectOnLane } = await import('./expect-lane.ts');
    return expectOnLane({ resources, probes, ...(policy ? { policy } : {}), pin: build.pin!, json: flags.json, io, env });
  }
  return onModel(flags, io, resources, probes, build.rules, policy, answerer.hint);
}

/** The model lane's answers, through the one driver; the reason is the observation's summary. */
async function onModel(
  flags: ExpectFlags,
  io: Io,
  resources: ResourceSet,
  probes: Probe[],
  istioVersion: string,
  policy: PolicyMode | undefined,
  hint: string | undefined,
): Promise<number> {
  const lane = new ModelLane({ istioVersion });
  const rows: ExpectRow[] = [];
  for (const { case: c, observation: o } of await observeAll(
    lane,
    scenarioCases('expect', meshMode(resources, policy), resources, probes),
  )) {
    if (o.verdict === 'error') throw new Error(`the model failed on ${c.probe.to.raw}: ${o.error}`);
    rows.push({
      from: formatProbeSource(c.probe.from),
      to: c.probe.to.raw,
      answeredBy: 'model',
      verdict: o.verdict,
      cluster: o.cluster ?? '',
      reason: o.summary ?? '',
    });
  }
  if (flags.json) io.out(JSON.stringify(rows, null, 2));
  else {
    io.out(
      renderTable(
        ['#', 'FROM', 'TO', 'VERDICT (model)', 'CLUSTER'],
        rows.map((r, i) => [String(i + 1), r.from, r.to, r.verdict, r.cluster]),
      ),
    );
    io.out(
      `\nWhy, by the model (rules of Istio ${istioVersion}, mesh policy ${policy ?? resources.mesh.outboundTrafficPolicy ?? "ALLOW_ANY, Istio's default"}):`,
    );
    rows.forEach((r, i) => io.out(`  ${i + 1}. ${r.reason}`));
  }
  // Where istiod could have answered, say how: the model explains, istiod is the truth.
  if (hint) io.err(`answered by the model, not istiod: ${hint}`);
  return 0;
}
