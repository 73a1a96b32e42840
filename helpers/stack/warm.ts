// The warm stack: one detached local cluster + istiod that `egress-conformance up` starts and `down`
// stops, recorded in a state file under the user's XDG state directory so that any later command can
// find it, talk to it and end it (its recorded pids only). What starts, attaches and stops the processes
// is a StackProvider (provider.ts), so the record does not depend on how the cluster is made.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

/** The build the stack runs, as every command names builds (label, Go module version, rules version). */
export interface StackBuild {
  label?: string;
  goModuleVersion: string;
  istioVersion: string;
}

export interface StackProcess {
  name: string;
  pid: number;
  binary: string;
}

/** What `up` records; `status` prints it, `down` and every attaching command read it. */
export interface WarmRecord {
  /** Bumped when the shape changes: a record of another shape is treated as no stack (and removed by `down`). */
  format: 1;
  /** Which provider made it, so only that provider attaches to it. */
  provider: string;
  build: StackBuild;
  /**
   * 'lab start' when a lab started it because none was up: `lab stop` then ends it. Absent for `up`'s
   * own, which `lab stop` leaves running (and `up` clears the mark when it finds a lab's stack up).
   */
  startedBy?: 'lab start';
  /** The IstioOperator file `up -f` installed, absolute; absent for the built-in ALLOW_ANY install. */
  operator?: string;
  kubeconfig: string;
  /** Everything the stack made on disk; `down` removes it. */
  runDir: string;
  /** Loopback endpoints, for status and for the user's own tools. */
  endpoints: Record<string, string>;
  processes: StackProcess[];
  /**
   * The Node process that answers `expect` on this stack (answer-server.ts), when `up` started one. Not
   * part of `processes`: the stack is up without it, and commands then answer by themselves.
   */
  answerServer?: StackProcess & { socket: string };
  /** The mesh config right after the install: each question's meshConfig is written over this, not over the last question's. */
  baseMesh: Record<string, unknown>;
  startedAt: string;
  /** The provider's own state (today: the control-plane lane's LaneState). */
  providerState: unknown;
}

/** Same rule as the labs' state: ${XDG_STATE_HOME:-~/.local/state}/istio-egress-conformance/stack/. */
export function warmDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'istio-egress-conformance', 'stack');
}

export const warmFile = (env: NodeJS.ProcessEnv = process.env) => join(warmDir(env), 'warm.json');

export function readWarm(env: NodeJS.ProcessEnv = process.env): WarmRecord | undefined {
  const file = warmFile(env);
  if (!existsSync(file)) return undefined;
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as WarmRecord;
    return rec.format === 1 && Array.isArray(rec.processes) ? rec : undefined;
  } catch {
    return undefined; // a half-written or foreign file: no stack
  }
}

export function writeWarm(rec: WarmRecord, env: NodeJS.ProcessEnv = process.env): void {
  const file = warmFile(env);
  mkdirSync(dirname(file), { recursive: true });
  // Atomic: a command reading while `up` writes sees the old file or the new one, never half of one.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(rec, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function removeWarm(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(warmFile(env), { force: true });
}

/** Whether a recorded process is alive and still the program recorded (a recycled pid is someone else's). */
export function isRecordedAlive(p: StackProcess): boolean {
  try {
    return (readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0] ?? '') === p.binary;
  } catch {
    return false;
  }
}

/** Every process the record names: the stack's, and its answer server. */
export const recordedProcesses = (rec: WarmRecord): StackProcess[] => [...rec.processes, ...(rec.answerServer ? [rec.answerServer] : [])];

/** SIGKILL for every recorded process still running its recorded program, then the record's run dir removed. */
export function endRecordedProcesses(rec: WarmRecord): void {
  for (const p of recordedProcesses(rec)) {
    if (!isRecordedAlive(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone in between
    }
  }
  rmSync(rec.runDir, { recursive: true, force: true });
}

export const isUp = (rec: WarmRecord): boolean => rec.processes.length > 0 && rec.processes.every(isRecordedAlive);

/** The build as users name it: the label when it has one. */
export const buildName = (b: StackBuild): string => (b.label ? `${b.label} (Istio ${b.istioVersion})` : `Istio ${b.istioVersion}`);

/** Whether the warm stack runs the build a command asked for (no request: any pinned default is fine). */
export function runsBuild(rec: WarmRecord, wanted: StackBuild | undefined): boolean {
  if (!wanted) return true;
  return rec.build.goModuleVersion === wanted.goModuleVersion && rec.build.istioVersion === wanted.istioVersion;
}

export function uptime(rec: WarmRecord, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(rec.startedAt)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
