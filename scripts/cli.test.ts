// The CLI contract other tools script against: exit codes, JSON shape, one-line errors on stderr.
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandCases, loadCatalogue } from '../helpers/catalogue/load.ts';

const BIN = fileURLToPath(new URL('../bin/egress-conformance.mjs', import.meta.url));
const FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));
// `expect` answers from the real istiod when its pinned tools are installed; these tests are about input
// handling and the model's answers, so `expect` and `matrix` without --lane ask the model here.
const modelUnlessLane = (args: string[]) =>
  (args[0] === 'expect' || args[0] === 'matrix') && !args.includes('--lane') ? [...args, '--lane', 'model'] : args;
const run = (...args: string[]) => execa('node', [BIN, ...modelUnlessLane(args)], { reject: false });

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-cli-'));
  tmpDirs.push(dir);
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function expectCleanError(r: { exitCode?: number; stderr: string; stdout: string }, code: number, message: RegExp) {
  expect(r.exitCode).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('egress-conformance expect', () => {
  it('prints one JSON object per probe, in order, with the contract fields', async () => {
    const r = await run(
      'expect',
      '-f',
      join(FIX, 'serviceentries/db-course.yaml'),
      '-f',
      join(FIX, 'istio/REGISTRY_ONLY.yaml'),
      '--probe',
      'default=tcp://unlisted.example.com:5432',
      '--probe',
      'frontend=http://unlisted.example.com/',
      '--json',
    );
    expect(r.exitCode).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows).toEqual([
      {
        from: 'default',
        to: 'tcp://unlisted.example.com:5432',
        answeredBy: 'model',
        verdict: 'allowed',
        cluster: 'outbound|5432||db.example.com',
        reason: expect.any(String),
      },
      {
        from: 'frontend',
        to: 'http://unlisted.example.com/',
        answeredBy: 'model',
        verdict: 'blocked',
        cluster: 'BlackHoleCluster',
        reason: expect.any(String),
      },
    ]);
  });

  it("--policy overrides the IstioOperator; with neither, Istio's default ALLOW_ANY applies", async () => {
    const se = join(FIX, 'serviceentries/api.yaml');
    const flagged = JSON.parse(
      (
        await run(
          'expect',
          '-f',
          se,
          '-f',
          join(FIX, 'istio/ALLOW_ANY.yaml'),
          '--policy',
          'REGISTRY_ONLY',
          '--probe',
          'default=http://x.example.com/',
          '--json',
        )
      ).stdout,
    );
    expect(flagged[0]).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    const dflt = JSON.parse((await run('expect', '-f', se, '--probe', 'default=http://x.example.com/', '--json')).stdout);
    expect(dflt[0]).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster' });
  });

  it('--istio-version changes version-dependent answers', async () => {
    const f = tmpFile(
      'mesh.yaml',
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {meshConfig: {defaultServiceExportTo: [default], outboundTrafficPolicy: {mode: REGISTRY_ONLY}}}\n---\n' +
        'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db, namespace: frontend}\nspec: {hosts: [db.example.com], ports: [{number: 5432, name: pg, protocol: TCP}], resolution: DNS}\n',
    );
    const at = async (v: string) =>
      JSON.parse((await run('expect', '-f', f, '--probe', 'default=tcp://db.example.com:5432', '--istio-version', v, '--json')).stdout)[0]
        .verdict;
    expect(await at('1.30.2')).toBe('blocked');
    expect(await at('1.30.3')).toBe('allowed');
  });

  it('without --json prints a table naming the verdict and cluster', async () => {
    const r = await run('expect', '-f', join(FIX, 'serviceentries/db-course.yaml'), '--probe', 'frontend=tcp://db.example.com:5432');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/frontend\s+tcp:\/\/db\.example\.com:5432\s+allowed\s+outbound\|5432\|\|db\.example\.com/);
  });

  it('notes ignored kinds on stderr and still answers', async () => {
    const f = tmpFile('mixed.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    const r = await run('expect', '-f', f, '--probe', 'default=tcp://a.example.com:1', '--json');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/mixed\.yaml \(document 1\): ConfigMap c ignored/);
  });

  it.each([
    [['expect', '-f', 'missing.yaml', '--probe', 'a=tcp://x.example.com:1'], /missing\.yaml: cannot read the file/],
    [
      ['expect', '-f', '@FIX@istio/ALLOW_ANY.yaml', '--probe', 'a=tcp://x.example.com:1', '--policy', 'DENY_ALL'],
      /--policy: "DENY_ALL" is not a policy/,
    ],
    [['expect', '-f', '@FIX@istio/ALLOW_ANY.yaml', '--probe', 'frontend'], /--probe: "frontend" must be NAMESPACE=URL/],
    [['expect', '-f', '@FIX@istio/ALLOW_ANY.yaml', '--probe', 'a=tcp://x.example.com'], /needs a port/],
    [
      ['expect', '-f', '@FIX@istio/ALLOW_ANY.yaml', '--probe', 'a=tcp://x.example.com:1', '--istio-version', 'latest'],
      /--istio-version: "latest" is not an Istio version/,
    ],
    [['expect', '--probe', 'a=tcp://x.example.com:1'], /-f: give at least one file/],
    [['expect', '-f', '@FIX@istio/ALLOW_ANY.yaml'], /--probe: give at least one/],
    [['expect', '--nope'], /unknown option '--nope'/],
  ])('bad input %j exits 2 with one line', async (args, message) => {
    const r = await run(...(args as string[]).map((a) => a.replace('@FIX@', FIX)));
    expectCleanError(r, 2, message);
  });

  it('a resource Istio would reject names the file and document', async () => {
    const f = tmpFile(
      'bad.yaml',
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ok}\nspec: {hosts: [a.example.com]}\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: wild}\nspec: {hosts: ["*"]}\n',
    );
    expectCleanError(
      await run('expect', '-f', f, '--probe', 'a=tcp://x.example.com:1'),
      2,
      /bad\.yaml \(document 2\): ServiceEntry default\/wild would be rejected by Istio: spec\.hosts: host "\*" is not allowed/,
    );
  });

  it('malformed YAML names the file and document', async () => {
    const f = tmpFile('broken.yaml', 'apiVersion: v1\nkind: ServiceEntry\nspec: {hosts: [a\n');
    expectCleanError(await run('expect', '-f', f, '--probe', 'a=tcp://x.example.com:1'), 2, /broken\.yaml \(document 1\): not valid YAML/);
  });
});

describe('egress-conformance matrix', () => {
  it('--json lists every case of the catalogue with the oracle verdict, agreeing with the pins', async () => {
    const r = await run('matrix', '--json');
    expect(r.exitCode).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.cases.length).toBe(expandCases(loadCatalogue()).length);
    expect(m.cases.every((c: { pinned: string }) => c.pinned === 'agrees')).toBe(true);
    expect(m.cases[0]).toMatchObject({
      scenario: expect.any(String),
      policy: 'ALLOW_ANY',
      from: expect.any(String),
      to: expect.any(String),
      verdict: expect.stringMatching(/^(allowed|blocked)$/),
    });
  });

  it('prints a table by default', async () => {
    const r = await run('matrix');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /course-db-serviceentry\s+REGISTRY_ONLY\s+default\s+tcp:\/\/unlisted\.example\.com:5432\s+allowed\s+outbound\|5432\|\|db\.example\.com/,
    );
  });
});

describe('output to a closed pipe', () => {
  it('matrix | head ends quietly with exit 0', async () => {
    const r = await execa('bash', ['-c', `node ${BIN} matrix --lane model | head -1; echo "rc=\${PIPESTATUS[0]}"`], {
      reject: false,
    });
    expect(r.stdout).toMatch(/^SCENARIO/);
    expect(r.stdout).toMatch(/rc=0$/);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
});

describe('egress-conformance --help', () => {
  it('works with no build step and exits 0', async () => {
    const r = await run('--help');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/expect/);
    expect(r.stdout).toMatch(/matrix/);
  });
});

describe('egress-conformance run / plan', () => {
  it('run --lane kind --dry-run prints the whole plan and runs nothing', async () => {
    const r = await run('run', '--lane', 'kind', '--dry-run', '--test', 'REGISTRY_ONLY/course-db');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/dry run \(nothing below is executed\)/);
    expect(r.stdout).toMatch(
      /kind create cluster --name egress-conformance --config .*clusters\/kind\.yaml --image kindest\/node:v[\d.]+@sha256:[0-9a-f]{64} --kubeconfig \S+ --wait 180s/,
    );
    expect(r.stdout).toMatch(/istioctl manifest generate -f \S*REGISTRY_ONLY\S*/);
    expect(r.stdout).not.toMatch(/istioctl manifest generate -f \S*ALLOW_ANY/);
    expect(r.stdout).toMatch(/name: external-db/);
  });

  it('plan is the same dry run', async () => {
    const r = await run('plan', '--test', 'ALLOW_ANY/no-serviceentry/frontend→tcp');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^# 2 case\(s\),/m);
    expect(r.stdout).toContain('probe ALLOW_ANY/no-serviceentry/frontend→tcp://unlisted.example.com:5432');
  });

  it('--lane kind without a Docker daemon is one clear line and exit 3', async () => {
    const dir = tmpFile('docker', '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n').replace(/\/docker$/, '');
    const { chmodSync } = await import('node:fs');
    chmodSync(join(dir, 'docker'), 0o755);
    const r = await execa('node', [BIN, 'run', '--lane', 'kind'], { reject: false, env: { PATH: `${dir}:${process.env.PATH}` } });
    expectCleanError(r, 3, /no Docker daemon answers.*--lane control-plane/);
  });

  it.each([
    [['run', '--lane', 'bogus'], /--lane: "bogus" is not a lane/],
    [['run', '--lane', 'control-plane', '--dry-run'], /only the kind lane has a plan/],
    [['run', '--test', '('], /--test: "\(" is not a valid regular expression/],
    [['run', '--test', 'no-such-case'], /--run "no-such-case": selects no case/],
    [['tools', 'install', 'nothing'], /"nothing" is not a tool this suite pins/],
  ])('bad input %j exits 2 with one line', async (args, message) => {
    expectCleanError(await run(...(args as string[])), 2, message);
  });
});

describe('egress-conformance lab', () => {
  it('list and show work; an unknown lab is one line and exit 2', async () => {
    const l = await run('lab', 'list');
    expect(l.exitCode).toBe(0);
    expect(l.stdout).toMatch(/db-for-frontend-only\s+Traffic Management\s+.*REGISTRY_ONLY/);
    const s = await run('lab', 'show', 'api-over-http', '--hints');
    expect(s.exitCode).toBe(0);
    expect(s.stdout).toMatch(/Hints:\n\s+1\. /);
    expectCleanError(await run('lab', 'show', 'nope'), 2, /lab "nope" does not exist; labs: /);
  });

  it('check -f never grades with the model: without the pinned tools it exits 3 naming the commands that build them', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'egress-cli-cache-'));
    tmpDirs.push(cache);
    const r = await execa('node', [BIN, 'lab', 'check', 'api-over-http', '-f', join(FIX, 'labs/solutions/api-over-http.yaml')], {
      reject: false,
      // Its own state dir as well: a warm stack the developer keeps up (`up`) must not be graded on here.
      env: { XDG_CACHE_HOME: cache, XDG_STATE_HOME: cache, PATH: process.env.PATH, PILOT_DISCOVERY: '', ETCD: '', KUBE_APISERVER: '' },
    });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/graded on the real istiod only.*egress-conformance tools install pilot-discovery/);
    expect(r.stdout).not.toMatch(/PASS|Score/);
  });
});
