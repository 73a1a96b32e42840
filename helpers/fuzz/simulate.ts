// Istio's simulator as the third answer: one run per source sidecar, on the xDS snapshot the lane observed
// that sidecar with, asked about every call from it at the address the lane dialled.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lane } from '../lanes/lane.ts';
import type { Observation, Probe } from '../model/types.ts';
import type { Simulator } from '../tools/simulator.ts';
import type { ProbeOutcome } from './probe-outcome.ts';
import { simCall } from './referee.ts';

type Snap = { listeners: unknown[]; clusters: unknown[]; routes: unknown[] };

/**
 * The source sidecar's snapshot: the value the lane handed back with its observation, else (a lane that does
 * not fill Observation.xds yet) the file Lane.diagnose writes (`xds-<namespace>.json`).
 */
async function snapshotFor(lane: Lane, probe: Probe, o: Observation): Promise<Snap | undefined> {
  if (o.xds) return o.xds.snapshot;
  if (!lane.diagnose) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'egress-fuzz-xds-'));
  try {
    const files = await lane.diagnose(probe, dir);
    const f = files.find((x) => /^xds-.*\.json$/.test(x));
    return f ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The address the lane dialled: from its xDS value, else its evidence (`destination` is ip:port). */
export function dialledAddress(o: Observation): string | undefined {
  if (o.xds) return o.xds.address;
  const d = (o.evidence as Record<string, unknown>).destination;
  return typeof d === 'string' ? d.replace(/:\d+$/, '') : undefined;
}

function sourceKey(p: Probe): string {
  return `${p.from.namespace}|${JSON.stringify(Object.entries(p.from.labels ?? {}).sort())}`;
}

/**
 * Fills in the simulator's answer on each probe the lane answered, or why there is none. Returns the xDS
 * message types the simulator could not decode.
 */
export async function askSimulator(lane: Lane, probes: ProbeOutcome[], simulator: Simulator): Promise<string[]> {
  const unknown: string[] = [];
  const bySource = new Map<string, ProbeOutcome[]>();
  for (const p of probes) bySource.set(sourceKey(p.probe), [...(bySource.get(sourceKey(p.probe)) ?? []), p]);
  for (const group of bySource.values()) {
    const [head] = group;
    if (!head) continue;
    const snap = await snapshotFor(lane, head.probe, head.lane);
    if (!snap) {
      for (const p of group) p.simulatorMissing = 'the lane handed back no xDS snapshot';
      continue;
    }
    const known = new Set((snap.clusters as { name?: string }[]).map((c) => String(c.name)));
    const asked = group.filter((p) => dialledAddress(p.lane) !== undefined);
    for (const p of group) if (!asked.includes(p)) p.simulatorMissing = 'the lane did not say which address it dialled';
    if (asked.length === 0) continue;
    try {
      const { results, unknownTypes } = await simulator.run(
        snap,
        asked.map((p) => simCall(p.probe.to, dialledAddress(p.lane) as string)),
      );
      for (const t of unknownTypes) if (!unknown.includes(t)) unknown.push(t);
      asked.forEach((p, i) => {
        p.simulator = results[i];
        p.simulatorClusters = known;
      });
    } catch (e) {
      for (const p of asked) p.simulatorMissing = `simulator failed: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  return unknown;
}
