// The Istio a run targets is resolved once, per lane, into one value that survives the trip into the
// suite's process unchanged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PINNED_BUILDS, PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { PINNED } from '../tools/versions.ts';
import { readTarget, resolveTarget, writeTarget } from './target.ts';

const dir = mkdtempSync(join(tmpdir(), 'iec-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveTarget', () => {
  it("gives each lane its pinned default: istiod's build for control-plane, the release for kind, the rules for the model", () => {
    expect(resolveTarget('control-plane', undefined, {})).toEqual({
      lane: 'control-plane',
      rules: PINNED_PILOT.istioVersion,
      pin: PINNED_PILOT,
    });
    expect(resolveTarget('kind', undefined, {})).toEqual({ lane: 'kind', rules: PINNED.istio, release: PINNED.istio });
    expect(resolveTarget('model', undefined, {})).toEqual({ lane: 'model', rules: PINNED.istio });
  });

  it("reads a pinned build's label once into its pin, whose Istio version is the model's rules", () => {
    const april = PINNED_BUILDS.find((b) => b !== PINNED_PILOT)!;
    const t = resolveTarget('control-plane', april.label, {});
    expect(t).toMatchObject({
      lane: 'control-plane',
      requested: april.label,
      rules: april.istioVersion,
      pin: { goModuleVersion: april.goModuleVersion },
    });
  });

  it('a binary the user names (PILOT_DISCOVERY) runs under the version they give', () => {
    const t = resolveTarget('control-plane', '1.29.0', { PILOT_DISCOVERY: '/opt/pilot-discovery' });
    expect(t.rules).toBe('1.29.0');
    expect(t.pin?.istioVersion).toBe('1.29.0');
  });

  it('crosses into the suite as a file and comes back equal', () => {
    const t = resolveTarget('kind', '1.30.3', {});
    expect(readTarget(writeTarget(dir, t))).toEqual(t);
  });
});
