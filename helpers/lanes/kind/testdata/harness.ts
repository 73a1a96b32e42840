// Sets up one orchestration test: a temp HOME with a user kubeconfig that must stay untouched, the shims
// first on PATH, a shim log, and runKindLane options wired to the fake API and the stand-in toolkit.
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { RunKindLaneOptions } from '../runner.ts';
import { FakeK8s, type FakeK8sOptions } from './fake-k8s.ts';
import { SHIMS_DIR, cases, installedMode, standinToolkit } from './standins.ts';

export const USER_KUBECONFIG_TEXT = 'apiVersion: v1\nkind: Config\ncurrent-context: users-production\n# must never change\n';

export interface Harness {
  root: string;
  log: string;
  home: string;
  userKubeconfig: string;
  workDir: string;
  env: NodeJS.ProcessEnv;
  fake: FakeK8s;
  options(extra?: Partial<RunKindLaneOptions>): RunKindLaneOptions;
  /** The user's kubeconfig files are byte-for-byte and mtime unchanged, and ~/.kube holds nothing new. */
  userKubeconfigUntouched(): boolean;
}

export function harness(env: Record<string, string> = {}, fakeOpts: FakeK8sOptions = {}): Harness {
  const root = mkdtempSync(join(tmpdir(), 'kind-lane-test-'));
  const home = join(root, 'home');
  mkdirSync(join(home, '.kube'), { recursive: true });
  const homeConfig = join(home, '.kube', 'config');
  writeFileSync(homeConfig, USER_KUBECONFIG_TEXT);
  const userKubeconfig = join(root, 'user-kubeconfig');
  writeFileSync(userKubeconfig, USER_KUBECONFIG_TEXT);
  const before = [statSync(homeConfig).mtimeMs, statSync(userKubeconfig).mtimeMs];
  const log = join(root, 'shim.log');
  const workDir = join(root, 'work');
  const fullEnv: NodeJS.ProcessEnv = {
    PATH: `${SHIMS_DIR}${delimiter}${process.env.PATH}`,
    HOME: home,
    // The user's own KUBECONFIG: the lane must override it for every child and never use it.
    KUBECONFIG: userKubeconfig,
    SHIM_LOG: log,
    ...env,
  };
  const fake = new FakeK8s({ meshMode: () => installedMode(log), ...fakeOpts });
  return {
    root,
    log,
    home,
    userKubeconfig,
    workDir,
    env: fullEnv,
    fake,
    options: (extra = {}) => ({
      cases: cases(),
      runId: 'test-run-1',
      workDir,
      env: fullEnv,
      k8s: () => fake,
      toolkit: standinToolkit,
      artifactsDir: join(root, 'artifacts'),
      handleSignals: false,
      out: () => {},
      pollMs: 1,
      probeIntervalMs: 0,
      timeouts: { settle: 0 },
      ...extra,
    }),
    userKubeconfigUntouched: () =>
      readFileSync(homeConfig, 'utf8') === USER_KUBECONFIG_TEXT &&
      readFileSync(userKubeconfig, 'utf8') === USER_KUBECONFIG_TEXT &&
      statSync(homeConfig).mtimeMs === before[0] &&
      statSync(userKubeconfig).mtimeMs === before[1],
  };
}
