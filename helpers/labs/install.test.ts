// lab install takes what istioctl install -f takes: one IstioOperator, checked; other resources are refused
// with the command that applies them.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOperator } from './install.ts';
import { labInstall } from './session.ts';
import { UserError } from '../model/errors.ts';
import { findIstioctlBuildSync } from '../tools/pilot-locate.ts';
import { findLab } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'labs-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('readOperator', () => {
  it('returns the IstioOperator of a reference solution', () => {
    const { operator, notes } = readOperator(findLab('default-export-private').solution);
    expect(operator).toMatchObject({
      kind: 'IstioOperator',
      spec: { meshConfig: { defaultServiceExportTo: ['.'], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } },
    });
    expect(notes).toEqual([]);
  });

  it('refuses a file without an IstioOperator, and one that mixes in ServiceEntries', () => {
    expect(() => readOperator(findLab('api-over-http').solution)).toThrow(/no IstioOperator/);
    expect(() => readOperator(findLab('lock-down-default').wrong.find((w) => /mesh/.test(w.file))!.file)).toThrow(
      /apply those with kubectl apply -f/,
    );
  });

  it('refuses what Istio refuses and names fields it does not apply', () => {
    const bad = write(
      'bad.yaml',
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x}\nspec: {meshConfig: {outboundTrafficPolicy: {mode: REGISTRY-ONLY}}}\n',
    );
    expect(() => readOperator(bad)).toThrow(/bad\.yaml \(document 1\).*REGISTRY-ONLY/);
    const extra = write(
      'extra.yaml',
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x}\nspec: {profile: demo, meshConfig: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}}}\n',
    );
    expect(readOperator(extra).notes).toEqual([
      expect.stringMatching(/spec\.profile "demo" is rendered and applied, but a lab runs istiod alone/),
    ]);
  });
});

// lab install -f with a field istioctl does not know: exit 2 naming the field and the candidate's file,
// not exit 3 naming istioctl's work copy. Checked with the pinned istioctl, before any lab is attached.
const istioctl = findIstioctlBuildSync();
describe('lab install -f with a wrong IstioOperator field', () => {
  it('exits 2 naming the field and the file (the pinned istioctl decides)', async (ctx) => {
    if (!istioctl) ctx.skip('skipped: istioctl-build not built (`egress-conformance tools install istioctl-build`)');
    const typo = write(
      'typo.yaml',
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x, namespace: istio-system}\nspec:\n  profile: minimal\n  compnents: {}\n',
    );
    const env = { ...process.env, XDG_STATE_HOME: join(dir, 'state') };
    const err: string[] = [];
    const run = labInstall(
      { file: [typo] },
      {
        io: { out: () => {}, err: (s) => err.push(s) },
        env,
        backend: async () => {
          throw new Error('the file must be refused before any lab is attached');
        },
      },
    );
    await expect(run).rejects.toThrow(UserError);
    await expect(labInstall({ file: [typo] }, { io: { out: () => {}, err: () => {} }, env })).rejects.toThrow(
      new RegExp(`^${typo.replaceAll('.', '\\.')}: IstioOperator field "compnents" is not one istioctl knows`),
    );
  }, 120_000);
});
