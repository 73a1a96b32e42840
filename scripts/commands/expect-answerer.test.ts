// Who answers `expect`: istiod whenever its pinned tools are installed, the model where they are not
// (labelled, with how to get istiod's answer), and --lane model on request. Run through the CLI with an
// empty tool cache, so this holds on any machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PINNED_PILOT } from '../../helpers/tools/pilot-discovery.ts';
import { findIstioctlBuildSync } from '../../helpers/tools/pilot-locate.ts';
import { chooseAnswerer } from './expect.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const FILE = fileURLToPath(new URL('../../fixtures/serviceentries/db-course.yaml', import.meta.url));
const empty = mkdtempSync(join(tmpdir(), 'iec-no-tools-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));
// No tool in this cache, none named by the environment.
const noTools = { ...process.env, XDG_CACHE_HOME: empty, PILOT_DISCOVERY: '', ETCD: '', KUBE_APISERVER: '', KUBECTL: '' };
const quiet = { out: () => {}, err: () => {} };

describe('who answers expect', () => {
  it('without the pinned tools: the model, labelled, and a line on how to get istiod (exit 0)', async () => {
    const r = await execa('node', [BIN, 'expect', '-f', FILE, '--probe', 'frontend=tcp://db.example.com:5432'], {
      reject: false,
      env: noTools,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/VERDICT \(model\)/);
    expect(r.stdout).toMatch(/Why, by the model \(rules of Istio 1\.32\.0-alpha/);
    expect(r.stderr).toMatch(/answered by the model, not istiod: .*egress-conformance tools install pilot-discovery/);
  }, 60_000);

  it('--lane control-plane without the tools is exit 3 naming what to build', async () => {
    const r = await execa('node', [BIN, 'expect', '--lane', 'control-plane', '-f', FILE, '--probe', 'a=tcp://x.example.com:1'], {
      reject: false,
      env: noTools,
    });
    expect(r.exitCode).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--lane control-plane needs the pinned tools; .*tools install/);
  }, 60_000);

  it('--lane model never asks istiod and prints no hint; a plain Istio version is the model alone', async () => {
    expect(await chooseAnswerer({ lane: 'model' }, PINNED_PILOT, process.env, quiet)).toEqual({ lane: 'model' });
    expect(await chooseAnswerer({}, undefined, process.env, quiet)).toMatchObject({
      lane: 'model',
      hint: expect.stringMatching(/pinned builds only/),
    });
    await expect(chooseAnswerer({ lane: 'kind' }, PINNED_PILOT, process.env, quiet)).rejects.toThrow(/not a lane expect can ask/);
  });

  // istioctl has no environment override: this case needs it built in the real cache.
  const stand = { ...process.env, PILOT_DISCOVERY: process.execPath, ETCD: process.execPath, KUBE_APISERVER: process.execPath };
  const istioctl = findIstioctlBuildSync(PINNED_PILOT, stand);
  it.skipIf(!istioctl)(
    `with every pinned tool present, istiod answers${istioctl ? '' : ' — skipped: istioctl-build not built'}`,
    async () => {
      expect(await chooseAnswerer({}, PINNED_PILOT, stand, quiet)).toEqual({ lane: 'istiod' });
    },
  );
});
