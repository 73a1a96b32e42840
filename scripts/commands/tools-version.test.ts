// `tools install pilot-discovery|istioctl-build --version BUILD`: a pinned build by label or module version.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PINNED_BUILDS } from '../../helpers/tools/pilot-discovery.ts';
import { cachedBinaryPath } from '../../helpers/tools/pilot-locate.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const run = (...args: string[]) => execa('node', [BIN, ...args], { reject: false });

describe('tools install --version', () => {
  it.each([
    [
      ['tools', 'install', 'pilot-discovery', '--version', 'master-1999-01-01'],
      /--version: "master-1999-01-01" is not a pinned istiod build; use one of master-2026-08-27 .*master-2026-04-23/,
    ],
    [
      ['tools', 'install', 'kind', '--version', 'master-2026-04-23'],
      /--version: only pilot-discovery and istioctl-build have pinned builds/,
    ],
  ])('%j is bad input, one line', async (args, message) => {
    const r = await run(...(args as string[]));
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  for (const pin of PINNED_BUILDS) {
    const bin = cachedBinaryPath(pin);
    it.skipIf(!existsSync(bin))(
      `an installed build (${pin.label}) is found by label and by module version, its build info checked${existsSync(bin) ? '' : ' (skipped: not built)'}`,
      async () => {
        for (const v of [pin.label!, pin.goModuleVersion]) {
          const r = await run('tools', 'install', 'pilot-discovery', '--version', v);
          expect(r.exitCode).toBe(0);
          expect(r.stdout.trim()).toBe(bin);
          expect(r.stderr).toMatch(/already installed/);
        }
      },
    );
  }
});
