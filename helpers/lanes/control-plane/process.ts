// One long-running program of the local control plane (etcd, kube-apiserver, pilot-discovery): spawned
// with its output in a log file, stopped with SIGTERM then SIGKILL, and killed when this Node process
// exits for any reason, so a run never leaves a server behind. A detached process (exam labs) outlives
// this process on purpose; its pid goes into the lab's state file and `lab stop` ends it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';

export interface ProcessSpec {
  name: string;
  binary: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  /** Outlive this Node process (own session, no exit hook). */
  detached?: boolean;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((f) => existsSync(f));

const live = new Set<ManagedProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously, after signal handlers decided to end the process: kill what is
  // left, then remove the run dirs they wrote into.
  process.on('exit', () => {
    for (const p of live) p.killSync();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** A run dir removed when this process exits, whatever the reason, until `release` is called. */
export function removeOnExit(dir: string): () => void {
  installExitHook();
  tempDirs.add(dir);
  return () => {
    tempDirs.delete(dir);
  };
}

// One free-port helper for the whole tree (helpers/process/ports.ts).
export { freeLoopbackPort } from '../../process/ports.ts';

export class ManagedProcess {
  private child?: ChildProcess;
  private exitedWith?: { code: number | null; signal: NodeJS.Signals | null };
  private exitPromise?: Promise<void>;

  private constructor(readonly spec: ProcessSpec) {}

  static spawn(spec: ProcessSpec): ManagedProcess {
    const p = new ManagedProcess(spec);
    const fd = openSync(spec.logFile, 'a');
    // An owned server must not outlive this process even when it dies without running its exit hooks
    // (SIGKILL, a test runner killing a hung worker): setpriv (util-linux) sets the kernel's parent-death
    // signal, then execs the server in the same pid. Detached servers (exam labs) outlive us on purpose.
    const [file, args] =
      !spec.detached && SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', spec.binary, ...spec.args]] : [spec.binary, spec.args];
    try {
      p.child = spawn(file, args, {
        cwd: spec.cwd,
        env: spec.env,
        stdio: ['ignore', fd, fd],
        detached: !!spec.detached,
      });
    } finally {
      closeSync(fd);
    }
    p.exitPromise = new Promise((resolve) => {
      p.child!.once('exit', (code, signal) => {
        p.exitedWith = { code, signal };
        live.delete(p);
        resolve();
      });
      // A binary that cannot be executed reports through 'error' (and then no 'exit').
      p.child!.once('error', (err) => {
        p.exitedWith = { code: -1, signal: null };
        live.delete(p);
        p.spawnError = err.message;
        resolve();
      });
    });
    if (spec.detached) {
      p.child.unref();
    } else {
      installExitHook();
      live.add(p);
    }
    return p;
  }

  spawnError?: string;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitedWith;
  }

  /** Why it ended, in words, with the end of its log. */
  describeExit(lines = 15): string {
    const how = this.spawnError ?? `exit ${this.exitedWith?.code ?? this.exitedWith?.signal}`;
    return `${this.spec.name} ended (${how}); log ${this.spec.logFile}:\n${this.logTail(lines)}`;
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  log(): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  killSync(): void {
    if (this.child && !this.exitedWith) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    live.delete(this);
  }

  /** SIGTERM, then SIGKILL after graceMs. Safe to call twice. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.child && !this.exitedWith) {
      this.child.kill('SIGTERM');
      const ended = await Promise.race([
        this.exitPromise!.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
      ]);
      if (!ended) {
        this.child.kill('SIGKILL');
        await this.exitPromise;
      }
    }
    live.delete(this);
  }
}

/** Whether `pid` is alive and still the program recorded for it (a recycled pid belongs to someone else). */
export function isRecordedAlive(pid: number, binary: string): boolean {
  try {
    return (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '') === binary;
  } catch {
    return false;
  }
}

/** Kills a detached process recorded in a state file, if it is still the program we started. */
export function killRecorded(pid: number, binary: string): boolean {
  if (!isRecordedAlive(pid, binary)) return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
