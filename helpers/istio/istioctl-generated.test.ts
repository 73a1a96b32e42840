// Our admission against the pinned build's `istioctl validate` on generated resources: every ServiceEntry,
// Sidecar, Gateway, VirtualService and DestinationRule the fuzzer can draw, as drawn (often refused) and as
// repaired, must be accepted or refused alike.
// One istioctl run validates them all (it names each refused object `Kind/namespace/name`).
import fc from 'fast-check';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { rawServiceEntryArb, rawSidecarArb, serviceEntryManifest, sidecarManifest } from '../fuzz/arbitraries.ts';
import { repairAll } from '../fuzz/generate.ts';
import { repair } from '../fuzz/repair.ts';
import { routingArb } from '../fuzz/routing-arbitraries.ts';
import { findIstioctlBuildSync } from '../tools/pilot-locate.ts';
import { emptyResources, loadYamlText } from './load.ts';

type Obj = Record<string, unknown>;
const istioctl = findIstioctlBuildSync();

function generated(): Obj[] {
  const ses = fc.sample(rawServiceEntryArb, { seed: 15, numRuns: 300 }).map(serviceEntryManifest);
  const scs = fc.sample(rawSidecarArb, { seed: 15, numRuns: 200 }).map((s) => sidecarManifest(s, 'istio-system'));
  // Routing as the scenarios draw it: on the exact hosts of a few repaired entries, every time.
  const routing = fc
    .sample(fc.uniqueArray(rawServiceEntryArb, { minLength: 1, maxLength: 3, selector: (x) => `${x.namespace}/${x.name}` }), {
      seed: 15,
      numRuns: 200,
    })
    .flatMap(
      (entries, i) => fc.sample(routingArb(repairAll(entries.map(serviceEntryManifest)).manifests, 1), { seed: i, numRuns: 1 })[0] ?? [],
    );
  const drawn = [...ses, ...scs, ...routing];
  const repaired = drawn.flatMap((m) => {
    const r = repair(m);
    return r.ok ? [r.manifest] : [];
  });
  // Unique names, so that istioctl's `Kind/namespace/name` says which one it refused.
  return [...drawn, ...repaired].map((m, i) => ({ ...m, metadata: { ...(m.metadata as Obj), name: `g${i}` } }));
}

function oursAccepts(m: Obj): boolean {
  try {
    loadYamlText(stringify(m), 'generated.yaml', emptyResources());
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!istioctl)(
  `admission agrees with istioctl validate on generated resources${istioctl ? '' : ' — skipped: run `npx egress-conformance tools install istioctl-build`'}`,
  () => {
    it('accepts and refuses the same ServiceEntries, Sidecars and routing kinds (at least 500 generated resources)', async () => {
      const all = generated();
      expect(all.length).toBeGreaterThanOrEqual(500);
      const dir = mkdtempSync(join(tmpdir(), 'egress-validate-gen-'));
      try {
        const file = join(dir, 'generated.yaml');
        writeFileSync(file, all.map((m) => stringify(m)).join('---\n'));
        const r = await execa(istioctl!, ['validate', '-f', file], { reject: false, timeout: 120_000, env: { HOME: dir } });
        if (process.env.DUMP_ISTIOCTL) writeFileSync(process.env.DUMP_ISTIOCTL, `${r.stdout}\n${r.stderr}`);
        // Warnings come first, under `"FILE" has warnings:`; refusals after `Error: N errors occurred:`.
        const errors = `${r.stdout}\n${r.stderr}`.split(/^Error: /m)[1] ?? '';
        const refused = new Set([...errors.matchAll(/^\s*\* (\w+\/[\w-]+\/g\d+):/gm)].map((x) => x[1]));
        const mismatches = all.flatMap((m) => {
          const md = m.metadata as { name: string; namespace: string };
          const key = `${String(m.kind)}/${md.namespace}/${md.name}`;
          const theirs = !refused.has(key);
          return theirs === oursAccepts(m)
            ? []
            : [`${key}: istioctl ${theirs ? 'accepts' : 'refuses'}, we ${theirs ? 'refuse' : 'accept'}: ${JSON.stringify(m.spec)}`];
        });
        // Both outcomes occur, so the comparison can fail either way.
        expect(refused.size).toBeGreaterThan(20);
        expect(refused.size).toBeLessThan(all.length - 20);
        expect(mismatches, `istioctl said:\n${r.stderr.slice(0, 4000)}`).toEqual([]);
        // The routing kinds are in the comparison, accepted and refused.
        for (const kind of ['Gateway', 'VirtualService', 'DestinationRule']) {
          const ofKind = all.filter((m) => m.kind === kind);
          const out = ofKind.filter((m) => refused.has(`${kind}/${(m.metadata as Obj).namespace}/${(m.metadata as Obj).name}`));
          expect(out.length, kind).toBeGreaterThan(0);
          expect(out.length, kind).toBeLessThan(ofKind.length);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);
  },
);
