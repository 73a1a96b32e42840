// Bad input to the CLI: each case one line on stderr naming the flag or file, a non-zero exit,
// no stack trace, and nothing hangs (execa's timeout turns a hang into a failure).
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/egress-conformance.mjs', import.meta.url));
const FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));
// `expect` answers from the real istiod when its pinned tools are installed; these tests are about input
// handling, so `expect` without --lane asks the model here.
const modelUnlessLane = (args: string[]) => (args[0] === 'expect' && !args.includes('--lane') ? [...args, '--lane', 'model'] : args);
const run = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  execa('node', [BIN, ...modelUnlessLane(args)], { reject: false, timeout: 60_000, ...opts });

const root = mkdtempSync(join(tmpdir(), 'egress-cli-input-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function expectCleanError(r: { exitCode?: number; stderr: string; timedOut?: boolean }, code: number, message: RegExp) {
  expect(r.timedOut).toBe(false);
  expect(r.exitCode).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('run --report-dir', () => {
  it('under a plain file is bad input before anything starts', async () => {
    const file = join(root, 'plain');
    writeFileSync(file, 'x');
    expectCleanError(
      await run(['run', '--report-dir', join(file, 'reports')]),
      2,
      /--report-dir: .*plain\/reports: .*plain is a file, not a directory/,
    );
  });

  it('in /proc is bad input, not a worker spinning in mkdir', async () => {
    expectCleanError(
      await run(['run', '--report-dir', '/proc/egress-reports']),
      2,
      /--report-dir: \/proc\/egress-reports: cannot be created/,
    );
  });
});

const SE =
  'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db, namespace: frontend}\nspec: {hosts: [db.example.com], ports: [{number: 5432, name: pg, protocol: TCP}], resolution: DNS}\n';
const REGISTRY_ONLY =
  'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {meshConfig: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}}}\n';
const PROBES = ['--probe', 'frontend=tcp://db.example.com:5432', '--probe', 'frontend=http://other.example.com/', '--json'];

describe('expect input limits', () => {
  it('a 300 MB file is refused on its size (exit 2), not read until the heap runs out', async () => {
    const { truncateSync } = await import('node:fs');
    const big = join(root, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, 300 * 1024 * 1024); // sparse: no disk used
    expectCleanError(
      await run(['expect', '-f', big, '--probe', 'a=tcp://x.example.com:1']),
      2,
      /big\.yaml: 300\.0 MiB of YAML, above the 10\.0 MiB limit/,
    );
  });

  it('more than 10 MiB on standard input is refused', async () => {
    expectCleanError(
      await run(['expect', '-f', '-', '--probe', 'a=tcp://x.example.com:1'], { input: '#'.repeat(11 * 1024 * 1024) }),
      2,
      /-f - \(standard input\): more than 10\.0 MiB of YAML/,
    );
  });

  it('an alias bomb is bad input naming the document (exit 2), not an internal error', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const f = join(root, 'bomb.yaml');
    writeFileSync(
      f,
      `${SE}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n${levels.map((l) => `  ${l}`).join('\n')}\n`,
    );
    expectCleanError(
      await run(['expect', '-f', f, '--probe', 'a=tcp://x.example.com:1']),
      2,
      /bomb\.yaml \(document 2\): YAML aliases expand too far/,
    );
  });
});

describe('expect -f - and -f DIR', () => {
  it('-f - reads standard input, beside files', async () => {
    const mesh = join(root, 'mesh.yaml');
    writeFileSync(mesh, REGISTRY_ONLY);
    const r = await run(['expect', '-f', mesh, '-f', '-', ...PROBES], { input: SE });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).map((x: { verdict: string; cluster: string }) => `${x.verdict} ${x.cluster}`)).toEqual([
      'allowed outbound|5432||db.example.com',
      'blocked BlackHoleCluster',
    ]);
  });

  it('errors in standard input are named <stdin>', async () => {
    expectCleanError(
      await run(['expect', '-f', '-', '--probe', 'a=tcp://x.example.com:1'], { input: 'kind: [\n' }),
      2,
      /^egress-conformance: <stdin> \(document 1\): not valid YAML/,
    );
  });

  it('-f - twice is refused', async () => {
    expectCleanError(
      await run(['expect', '-f', '-', '-f', '-', '--probe', 'a=tcp://x.example.com:1'], { input: SE }),
      2,
      /standard input can be read only once/,
    );
  });

  it('-f DIR reads its .yaml and .yml files in name order, and nothing else', async () => {
    const dir = mkdtempSync(join(root, 'dir-'));
    writeFileSync(join(dir, '10-db.yaml'), SE);
    writeFileSync(join(dir, '00-mesh.yml'), REGISTRY_ONLY);
    writeFileSync(join(dir, 'notes.txt'), 'not yaml: [');
    const r = await run(['expect', '-f', dir, ...PROBES]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).map((x: { verdict: string }) => x.verdict)).toEqual(['allowed', 'blocked']);
  });

  it('a directory without YAML files is one line', async () => {
    const dir = mkdtempSync(join(root, 'empty-'));
    expectCleanError(
      await run(['expect', '-f', dir, '--probe', 'a=tcp://x.example.com:1']),
      2,
      /empty-\w+: a directory with no \.yaml or \.yml files/,
    );
  });
});

describe('small CLI gaps', () => {
  it('--version prints the tool version and the pinned Istio builds, exit 0', async () => {
    const { version } = JSON.parse(
      (await import('node:fs')).readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8'),
    );
    const { PINNED } = await import('../helpers/tools/versions.ts');
    for (const flag of ['--version', '-V']) {
      const r = await run([flag]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe(`egress-conformance ${version}`);
      expect(r.stdout).toContain(`Istio ${PINNED.istio}`);
      expect(r.stdout).toContain(PINNED.controlPlane.goModuleVersion);
    }
  });

  it('--policy accepts any case', async () => {
    const se = join(FIX, 'serviceentries/api.yaml');
    const verdicts = await Promise.all(
      ['registry_only', 'Registry_Only', 'REGISTRY_ONLY'].map(async (p) => {
        const r = await run(['expect', '-f', se, '--policy', p, '--probe', 'default=http://x.example.com/', '--json']);
        expect(r.exitCode).toBe(0);
        return JSON.parse(r.stdout)[0].verdict;
      }),
    );
    expect(verdicts).toEqual(['blocked', 'blocked', 'blocked']);
    expectCleanError(
      await run(['expect', '-f', se, '--policy', 'registry-only', '--probe', 'default=http://x.example.com/']),
      2,
      /--policy: "registry-only" is not a policy; use ALLOW_ANY, REGISTRY_ONLY or ALLOW_ANY_DYNAMIC_DNS \(any case\)/,
    );
  });

  it('a lower-case mode in a file is refused, as Istio refuses it, with the spelling that works', async () => {
    const f = join(root, 'lower.yaml');
    writeFileSync(f, REGISTRY_ONLY.replace('REGISTRY_ONLY', 'registry_only'));
    expectCleanError(
      await run(['expect', '-f', f, '--probe', 'a=tcp://x.example.com:1']),
      2,
      /lower\.yaml \(document 1\): spec\.meshConfig\.outboundTrafficPolicy\.mode: "registry_only" is not ALLOW_ANY or REGISTRY_ONLY \(Istio's values are upper-case: write REGISTRY_ONLY\)/,
    );
  });

  it('a probe from a namespace nothing mentions gets a note; known ones do not', async () => {
    const f = join(root, 'db.yaml');
    writeFileSync(f, SE);
    const r = await run([
      'expect',
      '-f',
      f,
      '--probe',
      'fronted=tcp://db.example.com:5432',
      '--probe',
      'frontend=tcp://db.example.com:5432',
      '--probe',
      'default=tcp://db.example.com:5432',
      '--json',
    ]);
    expect(r.exitCode).toBe(0);
    const notes = r.stderr.trim().split('\n');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /^note: --probe fronted=tcp:\/\/db\.example\.com:5432: no resource mentions namespace "fronted"; it gets the mesh defaults/,
    );
  });
});
