// Istio's own traffic simulator (pilot/pkg/simulation) at the control-plane lane's pinned build, wrapped in
// helpers/tools/go/simulator: located in the tool cache, built there on request, and run on one sidecar's
// xDS snapshot with a batch of calls. It referees the TypeScript evaluator (helpers/lanes/control-plane).
import { accessSync, constants as fsConstants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { EnvironmentError, StepError } from '../model/errors.ts';
import { PINNED_PILOT, type PilotDiscoveryPin } from './pilot-discovery.ts';
import { cacheDir, fmtElapsed, runBuild } from './resolve.ts';

export const SIMULATOR_MODULE_DIR = fileURLToPath(new URL('./go/simulator/', import.meta.url));

/** One call as Istio's simulation.Call takes it (outbound mode). */
export interface SimCall {
  address: string;
  port: number;
  protocol: 'http' | 'tcp';
  tls: 'plaintext' | 'tls';
  sni?: string;
  hostHeader?: string;
  path?: string;
}

/** simulation.Result, with the direct response a matched route answers (block_all's 502). */
export interface SimResult {
  listener?: string;
  filterChain?: string;
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  cluster?: string;
  directResponse?: number;
  error?: string;
}

export interface SimSnapshot {
  listeners: unknown[];
  clusters: unknown[];
  routes: unknown[];
}

export function simulatorPath(pin: PilotDiscoveryPin = PINNED_PILOT, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `simulator-${pin.goModuleVersion}`);
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cached simulator, or undefined (no subprocess, usable in describe.skipIf). */
export function findSimulatorSync(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const p = env.EGRESS_SIMULATOR || simulatorPath(PINNED_PILOT, env);
  return isExecutable(p) ? p : undefined;
}

/**
 * `go build` of the wrapper module (its go.mod requires istio.io/istio at the pinned version) into a temp
 * dir in the cache, then renamed into place so a reader never sees a half-written binary.
 */
export async function installSimulator(opts: { onProgress?: (l: string) => void; force?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const say = opts.onProgress ?? ((l: string) => process.stderr.write(l + '\n'));
  const target = simulatorPath();
  if (!opts.force && isExecutable(target)) {
    say(`simulator ${PINNED_PILOT.goModuleVersion} already installed at ${target}`);
    return target;
  }
  const go = await execa('go', ['version'], { reject: false });
  if (go.failed) throw new EnvironmentError('building the simulator needs the Go toolchain (`go` not found on PATH); install Go >= 1.26 from https://go.dev/dl/');
  const dir = cacheDir(process.env);
  mkdirSync(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, '.build-simulator-'));
  const started = Date.now();
  say(`building the simulator (istio.io/istio/pilot/pkg/simulation @ ${PINNED_PILOT.goModuleVersion}) with ${go.stdout.trim()}`);
  try {
    const out = join(tmp, 'simulator');
    const r = await runBuild('go', ['build', '-o', out, '.'], { ...process.env, CGO_ENABLED: '0' }, {
      onProgress: say,
      timeoutMs: opts.timeoutMs ?? 30 * 60_000,
      cwd: SIMULATOR_MODULE_DIR,
    });
    if (!r.ok) throw new EnvironmentError(`go build of ${SIMULATOR_MODULE_DIR} ${r.timedOut ? 'timed out' : `failed (exit ${r.exitCode})`}:\n${r.tail}`);
    if (!existsSync(out)) throw new EnvironmentError(`go build finished but ${out} is missing`);
    renameSync(out, target);
    say(`built the simulator in ${fmtElapsed(Date.now() - started)} → ${target}`);
    return target;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Runs the simulator on one snapshot; one result per call, in order. */
export async function simulate(binary: string, snapshot: SimSnapshot, calls: SimCall[]): Promise<{ results: SimResult[]; unknownTypes: string[] }> {
  const input = JSON.stringify({ snapshot: { listeners: snapshot.listeners, clusters: snapshot.clusters, routes: snapshot.routes }, calls });
  const r = await execa(binary, [], { input, reject: false, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.exitCode !== 0) throw new StepError(`simulator ${binary} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const parsed = JSON.parse(r.stdout) as { results: SimResult[]; unknownTypes?: string[] };
  if (parsed.results.length !== calls.length) throw new StepError(`simulator answered ${parsed.results.length} results for ${calls.length} calls`);
  return { results: parsed.results, unknownTypes: parsed.unknownTypes ?? [] };
}
