// A shrunk disagreement as a ready-to-commit rule fixture (fixtures/rules format, read by
// helpers/catalogue/load.ts): the scenario inline, each probe pinned with what istiod did (the lane's
// answer is the truth the oracle must learn), and a `found:` block with both answers and the xDS path.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ProbeOutcome } from './probe-outcome.ts';
import type { Finding } from './shrink.ts';
import { describeAnswer, fromObservation, fromOracle, fromSimulator, simPath, lanePath } from './referee.ts';

type Obj = Record<string, unknown>;

/** The pin is istiod's answer as the referee reads it (a missing cluster is a blocked call). */
function pin(p: ProbeOutcome): string | undefined {
  const a = fromObservation(p.lane);
  if (a.verdict === 'error' || !a.cluster) return undefined;
  return `${a.verdict} ${a.cluster}${p.lane.signal ? ` ${p.lane.signal}` : ''}`;
}

export function fixtureName(seed: number, path: string): string {
  return `fuzz-s${seed}-${path.split(':')[0]}`;
}

export function fixtureDocument(f: Finding, ctx: { seed: number; istio: string }): Obj {
  const s = f.shrunk;
  const name = fixtureName(ctx.seed, f.path);
  const first = f.outcome.disagreeing[0];
  return {
    name,
    description:
      `Found by \`egress-conformance fuzz --seed ${ctx.seed}\` (generated scenario ${f.path}, replayed alone by \`--path ${f.path}\`; shrunk in ${f.shrinkSteps} step(s)) ` +
      `on istiod ${ctx.istio}: ${first ? first.differences.join('; ') : 'the disagreement did not reproduce while shrinking'}. ` +
      "The pins are what istiod programmed; the oracle must be fixed from Istio's source to match them.",
    policies: [s.policy],
    ...(Object.keys(s.meshConfig).length ? { meshConfig: s.meshConfig } : {}),
    manifests: s.manifests,
    probes: f.outcome.probes.map((p) => {
      const pinned = pin(p);
      return { from: p.raw.from, to: p.raw.to, ...(pinned ? { expect: { [s.policy]: pinned } } : {}) };
    }),
    found: {
      seed: ctx.seed,
      path: f.path,
      shrinkPath: f.shrinkPath,
      istio: ctx.istio,
      disagreements: f.outcome.disagreeing.map((p) => ({
        probe: `${typeof p.raw.from === 'string' ? p.raw.from : `${p.raw.from.namespace}${JSON.stringify(p.raw.from.labels)}`} → ${p.raw.to}`,
        oracle: describeAnswer(fromOracle(p.oracle)),
        oracleReason: p.oracle.reason,
        lane: `${p.lane.verdict}${p.lane.cluster ? ` ${p.lane.cluster}` : ''}${p.lane.error ? ` (${p.lane.error})` : ''}`,
        xdsPath: lanePath(p.lane),
        ...(p.simulator
          ? { simulator: describeAnswer(fromSimulator(p.simulator, p.simulatorClusters)), simulatorPath: simPath(p.simulator) }
          : {}),
      })),
    },
  };
}

/** Writes the fixture to `<dir>/<name>.yaml`; returns the path. */
export function writeFixture(dir: string, f: Finding, ctx: { seed: number; istio: string }): string {
  mkdirSync(dir, { recursive: true });
  const doc = fixtureDocument(f, ctx);
  const file = join(dir, `${String(doc.name)}.yaml`);
  writeFileSync(file, stringify(doc, { lineWidth: 0, flowCollectionPadding: false }));
  return file;
}
