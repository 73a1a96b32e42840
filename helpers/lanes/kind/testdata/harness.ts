// Sets up one orchestration test: a temp HOME with a user kubeconfig that must stay untouched, the shims
// first on PATH, a shim log, and KindLane options wired to the fake API and the stand-in toolkit; and
// runLane, which drives a KindLane through case runs as helpers/suite/define.ts does.
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { CaseRun } from '../../../catalogue/types.ts';
import type { Observation } from '../../../model/types.ts';
import { KindLane, type KindLaneOptions } from '../lane.ts';
import { SimCluster, type SimOptions } from './sim-cluster.ts';
import { SHIMS_DIR, cases, installCount, installedMode, standinToolkit } from './standins.ts';

export const USER_KUBECONFIG_TEXT = 'apiVersion: v1\nkind: Config\ncurrent-context: users-production\n# must never change\n';

export interface Harness {
  root: string;
  log: string;
  home: string;
  userKubeconfig: string;
  workDir: string;
  env: NodeJS.ProcessEnv;
  fake: SimCluster;
  options(extra?: Partial<KindLaneOptions>): KindLaneOptions;
  lane(extra?: Partial<KindLaneOptions>): KindLane;
  /** The user's kubeconfig files are byte-for-byte and mtime unchanged, and ~/.kube holds nothing new. */
  userKubeconfigUntouched(): boolean;
}

export function harness(env: Record<string, string> = {}, fakeOpts: SimOptions = {}): Harness {
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
  const fake = new SimCluster({
    meshMode: () => installedMode(log),
    installs: () => installCount(log),
    route: () => ({ exitCode: 0, cluster: 'PassthroughCluster' }),
    ...fakeOpts,
  });
  return {
    root,
    log,
    home,
    userKubeconfig,
    workDir,
    env: fullEnv,
    fake,
    options: (extra = {}) => ({
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
      accessLogPollMs: 1,
      timeouts: { accessLog: 500 },
      ...extra,
    }),
    lane(extra = {}) {
      return new KindLane(this.options(extra));
    },
    userKubeconfigUntouched: () =>
      readFileSync(homeConfig, 'utf8') === USER_KUBECONFIG_TEXT &&
      readFileSync(userKubeconfig, 'utf8') === USER_KUBECONFIG_TEXT &&
      statSync(homeConfig).mtimeMs === before[0] &&
      statSync(userKubeconfig).mtimeMs === before[1],
  };
}

export interface CaseResult {
  caseRun: CaseRun;
  observation: Observation;
}

/**
 * Drives the lane as helpers/suite/define.ts does: setup, then per scenario block apply, observe each probe,
 * clear; teardown always (also when a call throws, which is then raised).
 */
export async function runLane(lane: KindLane, runs: CaseRun[] = cases()): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  try {
    await lane.setup();
    for (let i = 0; i < runs.length; ) {
      const { scenario, policy } = runs[i]!; // i < runs.length (loop condition)
      let j = i;
      while (j < runs.length && runs[j]!.scenario === scenario && runs[j]!.policy === policy) j++;
      const handle = await lane.applyScenario(scenario.name, policy, scenario.resources);
      for (const c of runs.slice(i, j)) results.push({ caseRun: c, observation: await lane.observe(handle, c.probe) });
      await lane.clearScenario(handle);
      i = j;
    }
  } finally {
    await lane.teardown();
  }
  return results;
}
