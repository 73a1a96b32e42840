// Istio's own traffic simulator (pilot/pkg/simulation) at the control-plane lane's pinned build, wrapped in
// helpers/tools/go/simulator: located in the tool cache, built there on request, and run on one sidecar's
// xDS snapshot with a batch of calls. It referees the TypeScript evaluator (helpers/lanes/control-plane).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { EnvironmentError, StepError } from '../model/errors.ts';
import { PINNED_PILOT, type PilotDiscoveryPin } from './pilot-discovery.ts';
import { fmtElapsed, runBuild } from './run-build.ts';
import { cacheDir, isExecutable } from './tool-cache.ts';

export const SIMULATOR_MODULE_DIR = fileURLToPath(new URL('./go/simulator/', import.meta.url));

/** One call as Istio's simulation.Call takes it (outbound mode). */
export interface SimCall {
  address: string;
  port: number;
  protocol: 'http' | 'tcp';
  /** `mtls`: Istio mutual TLS, which a gateway's ISTIO_MUTUAL server requires (simulation.MTLS). */
  tls: 'plaintext' | 'tls' | 'mtls';
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

/** The wrapper's own source is part of the cache key: a changed main.go must not run as a stale binary. */
function sourceDigest(): string {
  const h = createHash('sha256');
  for (const f of ['main.go', 'go.mod', 'go.sum']) h.update(readFileSync(join(SIMULATOR_MODULE_DIR, f)));
  return h.digest('hex').slice(0, 12);
}

export function simulatorPath(pin: PilotDiscoveryPin = PINNED_PILOT, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `simulator-${pin.goModuleVersion}-${sourceDigest()}`);
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
export async function installSimulator(
  opts: { onProgress?: (l: string) => void; force?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  const say = opts.onProgress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const target = simulatorPath();
  if (!opts.force && isExecutable(target)) {
    say(`simulator ${PINNED_PILOT.goModuleVersion} already installed at ${target}`);
    return target;
  }
  const go = await execa('go', ['version'], { reject: false });
  if (go.failed)
    throw new EnvironmentError(
      'building the simulator needs the Go toolchain (`go` not found on PATH); install Go >= 1.26 from https://go.dev/dl/',
    );
  const dir = cacheDir(process.env);
  mkdirSync(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, '.build-simulator-'));
  const started = Date.now();
  say(`building the simulator (istio.io/istio/pilot/pkg/simulation @ ${PINNED_PILOT.goModuleVersion}) with ${go.stdout.trim()}`);
  try {
    const out = join(tmp, 'simulator');
    const r = await runBuild(
      'go',
      ['build', '-o', out, '.'],
      { ...process.env, CGO_ENABLED: '0' },
      {
        onProgress: say,
        timeoutMs: opts.timeoutMs ?? 30 * 60_000,
        cwd: SIMULATOR_MODULE_DIR,
      },
    );
    if (!r.ok)
      throw new EnvironmentError(
        `go build of ${SIMULATOR_MODULE_DIR} ${r.timedOut ? 'timed out' : `failed (exit ${r.exitCode})`}:\n${r.tail}`,
      );
    if (!existsSync(out)) throw new EnvironmentError(`go build finished but ${out} is missing`);
    renameSync(out, target);
    say(`built the simulator in ${fmtElapsed(Date.now() - started)} → ${target}`);
    return target;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface SimAnswer {
  results: SimResult[];
  unknownTypes: string[];
}

/**
 * One simulator process for a whole run: requests go down its stdin one JSON document at a time and each
 * answer comes back as one line, in order (starting the binary costs more than a simulation).
 */
export class Simulator {
  private readonly child;
  private readonly waiting: { resolve: (a: SimAnswer) => void; reject: (e: Error) => void; calls: number }[] = [];
  private stderr = '';
  private exited?: string;

  constructor(readonly binary: string) {
    this.child = execa(binary, [], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      try {
        const parsed = JSON.parse(line) as { results?: SimResult[]; unknownTypes?: string[]; error?: string };
        if (parsed.error) throw new StepError(`simulator could not read the snapshot: ${parsed.error}`);
        if (parsed.results?.length !== w.calls)
          throw new StepError(`simulator answered ${parsed.results?.length ?? 0} results for ${w.calls} calls`);
        w.resolve({ results: parsed.results, unknownTypes: parsed.unknownTypes ?? [] });
      } catch (e) {
        w.reject(e as Error);
      }
    });
    void this.child.then((r) => {
      this.exited = `simulator ${binary} exited (${r.exitCode ?? r.signal}): ${this.stderr.trim().split('\n').pop() ?? ''}`;
      for (const w of this.waiting.splice(0)) w.reject(new StepError(this.exited));
    });
  }

  run(snapshot: SimSnapshot, calls: SimCall[]): Promise<SimAnswer> {
    if (this.exited) return Promise.reject(new StepError(this.exited));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, calls: calls.length });
      this.child.stdin!.write(
        `${JSON.stringify({ snapshot: { listeners: snapshot.listeners, clusters: snapshot.clusters, routes: snapshot.routes }, calls })}\n`,
      );
    });
  }

  async close(): Promise<void> {
    this.child.stdin?.end();
    await this.child;
  }
}
