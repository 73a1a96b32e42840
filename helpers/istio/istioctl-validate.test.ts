// Our admission checks against Istio's own: every case of fixtures/validation/cases.yaml (and every
// fixture resource) through the real `istioctl validate`, offline, from the pinned build. Accept and
// reject must agree; the messages are ours to word.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { emptyResources, loadYamlText } from './load.ts';
import { findIstioctlBuildSync } from '../tools/pilot-locate.ts';

const istioctl = findIstioctlBuildSync();
const FIX = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const validation = parse(readFileSync(join(FIX, 'validation/cases.yaml'), 'utf8')) as Record<
  'serviceEntry' | 'sidecar',
  { name: string; spec: string; rejects?: string }[]
>;
const heads = {
  serviceEntry: 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: frontend}\n',
  sidecar: 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s, namespace: frontend}\n',
};

async function istioAccepts(yaml: string): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-validate-'));
  try {
    const f = join(dir, 'r.yaml');
    writeFileSync(f, yaml);
    const r = await execa(istioctl!, ['validate', '-f', f], { reject: false, timeout: 60_000 });
    return { ok: r.exitCode === 0, output: `${r.stdout}\n${r.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function oursAccepts(yaml: string): boolean {
  try {
    loadYamlText(yaml, 'r.yaml', emptyResources());
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!istioctl)(
  `our admission checks agree with istioctl validate${istioctl ? '' : ' — skipped: run `npx egress-conformance tools install istioctl-build`'}`,
  () => {
    const all = (['serviceEntry', 'sidecar'] as const).flatMap((kind) =>
      validation[kind].map((c) => [`${kind}: ${c.name}`, `${heads[kind]}spec: ${c.spec}\n`, !c.rejects] as const),
    );
    it.each(all)('%s', async (_name, yaml, expectAccepted) => {
      const real = await istioAccepts(yaml);
      expect(real.ok, `istioctl validate said: ${real.output}`).toBe(expectAccepted);
      expect(oursAccepts(yaml)).toBe(expectAccepted);
    });

    const fixtureFiles = ['serviceentries', 'sidecars'].flatMap((d) => readdirSync(join(FIX, d)).map((f) => join(FIX, d, f)));
    it.each(fixtureFiles)('fixture %s is valid for Istio', async (file) => {
      const real = await istioAccepts(readFileSync(file, 'utf8'));
      expect(real.ok, real.output).toBe(true);
    });
  },
);
