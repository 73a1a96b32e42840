// The CLI compiled to dist/ (scripts/build.mjs, run by npm ci) must behave as the TypeScript does: the same
// output and exit code for the same command. EGRESS_NO_DIST=1 forces the TypeScript path.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/egress-conformance.mjs', import.meta.url));
const FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));
const both = async (args: string[]) => {
  const [compiled, ts] = await Promise.all([
    execa('node', [BIN, ...args], { reject: false }),
    execa('node', [BIN, ...args], { reject: false, env: { EGRESS_NO_DIST: '1' } }),
  ]);
  return { compiled, ts };
};

describe('the compiled CLI and the TypeScript agree', () => {
  it.each([
    [['--version']],
    [['expect', '--lane', 'model', '--json', '-f', `${FIX}serviceentries/db-course.yaml`, '--probe', 'default=tcp://x.example.com:5432']],
    [['expect', '--lane', 'model', '-f', 'no-such-file.yaml', '--probe', 'a=tcp://x.example.com:1']],
    [['status', '--json']],
  ])(
    '%j',
    async (args) => {
      const { compiled, ts } = await both(args);
      expect(compiled.exitCode).toBe(ts.exitCode);
      expect(compiled.stdout).toBe(ts.stdout);
      expect(compiled.stderr).toBe(ts.stderr);
    },
    60_000,
  );
});
