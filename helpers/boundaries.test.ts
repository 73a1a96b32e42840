// The module boundaries (.dependency-cruiser.cjs) hold on the tree, and a crossed one fails: the same rules
// run on a small fixture tree where each boundary is crossed once, and a test file that crosses them is let be.
import { execa } from 'execa';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDirs } from './testing/temp-dirs.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

async function cruise(cwd: string, dirs: string[]): Promise<{ violations: Violation[]; modules: number }> {
  const r = await execa(process.execPath, [DEPCRUISE, ...dirs, '--config', CONFIG, '--output-type', 'json'], { cwd, reject: false });
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: out.summary.violations, modules: out.summary.totalCruised };
}

const tmp = tempDirs('iec-boundaries-');

function tree(files: Record<string, string>): string {
  const d = tmp();
  writeFileSync(join(d, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true, noEmit: true } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, path)), { recursive: true });
    writeFileSync(join(d, path), text);
  }
  copyFileSync(CONFIG, join(d, '.dependency-cruiser.cjs'));
  return d;
}

describe('module boundaries', () => {
  it('hold on the whole tree', async () => {
    const r = await cruise(ROOT, ['helpers', 'scripts', 'suites']);
    expect(r.modules).toBeGreaterThan(150);
    expect(r.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('fail, each by its rule, when a source file crosses one; a test file may', async () => {
    const imp = (to: string) => `import { x } from '${to}';\nexport const y = x;\n`;
    const d = tree({
      'helpers/oracle/expect.ts': imp('../lanes/kind/lane.ts'),
      'helpers/oracle/hosts.ts': imp('../k8s/client.ts'),
      'helpers/oracle/ok.test.ts': imp('../lanes/control-plane/lane.ts'),
      'helpers/lanes/control-plane/lane.ts': imp('../../oracle/ok.ts'),
      'helpers/lanes/kind/lane.ts': imp('../control-plane/state.ts'),
      'helpers/lanes/kind/phases/a.ts': imp('../lane.ts'),
      'helpers/lanes/control-plane/state.ts': 'export const x = 1;\n',
      'helpers/oracle/ok.ts': 'export const x = 1;\n',
      'helpers/k8s/client.ts': imp('../lanes/select.ts'),
      'helpers/lanes/select.ts': imp('./kind/lane.ts'),
      'helpers/report/write.ts': imp('../../scripts/cli.ts'),
      'scripts/cli.ts': imp('../helpers/oracle/ok.ts'),
    });
    const r = await cruise(d, ['helpers', 'scripts']);
    expect(r.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort()).toEqual([
      'control-plane-lane-without-model: helpers/lanes/control-plane/lane.ts → helpers/oracle/ok.ts',
      'domain-without-cli: helpers/report/write.ts → scripts/cli.ts',
      'k8s-half-imports-no-lane: helpers/k8s/client.ts → helpers/lanes/select.ts',
      'lanes-apart: helpers/lanes/kind/lane.ts → helpers/lanes/control-plane/state.ts',
      'model-is-pure: helpers/oracle/expect.ts → helpers/lanes/kind/lane.ts',
      'model-is-pure: helpers/oracle/hosts.ts → helpers/k8s/client.ts',
    ]);
  });
});
