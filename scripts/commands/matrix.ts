// `egress-conformance matrix`: the whole catalogue, scenario × policy × source × destination. Answered by
// the real istiod whenever its pinned tools are installed (the warm stack if `up` has one, else a stack
// started for the call, with progress), the model's answer and the hand pin checked beside each; by the
// model alone, labelled so, where the tools are missing or with --lane model.
import { expandCases, loadCatalogue } from '../../helpers/catalogue/load.ts';
import type { CaseRun } from '../../helpers/catalogue/types.ts';
import { pinFor } from '../../helpers/catalogue/pins.ts';
import type { Observation } from '../../helpers/model/types.ts';
import { expectProbe } from '../../helpers/oracle/index.ts';
import { renderTable } from '../../helpers/report/table.ts';
import { chooseAnswerer } from './expect.ts';
import { buildFlag } from './options.ts';

export interface MatrixFlags {
  json?: boolean;
  istioVersion?: string;
  lane?: string;
}

type Io = { out: (s: string) => void; err: (s: string) => void };

/** istiod's observations of every case, on the warm stack or one started for this call. */
async function onIstiod(
  cases: CaseRun[],
  pin: NonNullable<ReturnType<typeof buildFlag>['pin']>,
  io: Io,
): Promise<Map<string, Observation>> {
  const [{ acquireStack }, { runCases }, { onInterrupt }] = await Promise.all([
    import('../../helpers/stack/acquire.ts'),
    import('../../helpers/driver/run-cases.ts'),
    import('../../helpers/process/interrupt.ts'),
  ]);
  const stack = await acquireStack({ pin, say: io.err });
  const stopListening = onInterrupt(() => stack.release());
  const seen = new Map<string, Observation>();
  try {
    await stack.lane.setup();
    const scenarios = new Set(cases.map((c) => `${c.policy}/${c.scenario.name}`)).size;
    let applied = 0;
    const onApplied = (h: { name: string; policy: string }, ms: number) =>
      io.err(`[${++applied}/${scenarios}] ${h.policy}/${h.name} applied (${Math.round(ms)} ms)`);
    for await (const { case: c, observation } of runCases(stack.lane, cases, { onApplied })) seen.set(c.id, observation);
  } finally {
    stopListening();
    await stack.release();
  }
  return seen;
}

export async function runMatrix(flags: MatrixFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const build = buildFlag(flags.istioVersion);
  const answerer = await chooseAnswerer(flags, build.pin, env, io);
  const istioVersion = build.rules;
  const cases = expandCases(loadCatalogue());
  const observed = answerer.lane === 'istiod' ? await onIstiod(cases, build.pin!, io) : undefined;
  const rows = cases.map((c) => {
    const e = expectProbe(c.scenario.resources, c.probe, { istioVersion, policy: c.policy });
    const o = observed?.get(c.id);
    const verdict = o ? o.verdict : e.verdict;
    const cluster = o ? (o.cluster ?? '') : e.cluster;
    const pin = pinFor(c.probe, c.policy, istioVersion)!;
    return {
      scenario: c.scenario.name,
      policy: c.policy,
      from: c.probe.from.namespace,
      to: c.probe.to.raw,
      answeredBy: o ? 'istiod' : 'model',
      verdict,
      cluster,
      ...(e.signal ? { signal: e.signal } : {}),
      pinned: pin.verdict === verdict && pin.cluster === cluster ? 'agrees' : `DISAGREES (${pin.verdict} ${pin.cluster})`,
      ...(o ? { model: e.verdict === verdict && e.cluster === cluster ? 'same' : `DIFFERS (${e.verdict} ${e.cluster})` } : {}),
      reason: e.reason,
    };
  });
  const by = observed ? `istiod ${build.pin!.label ?? build.pin!.goModuleVersion}` : 'the model';
  if (flags.json) {
    io.out(JSON.stringify({ istioVersion, answeredBy: observed ? 'istiod' : 'model', cases: rows }, null, 2));
  } else {
    io.out(
      renderTable(
        [
          'SCENARIO',
          'POLICY',
          'FROM',
          'TO',
          `VERDICT (${observed ? 'istiod' : 'model'})`,
          'CLUSTER',
          'HOW',
          ...(observed ? ['MODEL'] : []),
        ],
        rows.map((r) => [
          r.scenario,
          r.policy,
          r.from,
          r.to,
          r.verdict + (r.pinned === 'agrees' ? '' : ' (!)'),
          r.cluster,
          r.signal ?? '',
          ...(r.model ? [r.model] : []),
        ]),
      ),
    );
    io.out(
      `${rows.length} cases answered by ${by}, rules of Istio ${istioVersion}${rows.some((r) => r.pinned !== 'agrees') ? '; (!) marks a case whose pinned verdict disagrees' : ''}`,
    );
  }
  if (!observed && 'hint' in answerer && answerer.hint) io.err(`answered by the model, not istiod: ${answerer.hint}`);
  // A case istiod could not be asked about is a failed probe, not an answer.
  return rows.some((r) => r.verdict === 'error') ? 1 : 0;
}
