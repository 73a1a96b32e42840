// A long build (`go install` of a pinned program) run with its own bound and progress lines, and ended with
// every process it started when it times out or this process exits.
import { execa } from 'execa';
import { buildTargets, GoBuildProgress, withVerbose } from './go-progress.ts';

/**
 * A cold `go install` downloads modules and compiles for minutes; this bounds it, not the 30 s of a version
 * check. 45 min: on a shared 2-core machine a cold kube-apiserver build took over 20 and was killed while
 * still compiling (the go build cache keeps what finished, but the run was lost).
 */
export const GO_BUILD_TIMEOUT_MS = 45 * 60_000;

export interface BuildOptions {
  timeoutMs: number;
  onProgress: (line: string) => void;
  /** Between "still building" lines (default 15 s). */
  tickMs?: number;
  /** Where to run it (a Go wrapper module's folder). */
  cwd?: string;
}

export interface BuildResult {
  ok: boolean;
  timedOut: boolean;
  exitCode: number;
  /** The last lines of its output, for the error. */
  tail: string;
}

export function fmtElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Runs a build with its own bound, saying every tickMs how long it has run and what it is doing: for go,
 * modules downloaded, the package compiling, or the link (go-progress.ts; -v is added so go names packages);
 * for anything else its last output line.
 */
export async function runBuild(file: string, argv: string[], env: NodeJS.ProcessEnv, opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const isGo = /(^|\/)go$/.test(file);
  const args = isGo ? withVerbose(argv) : argv;
  const go = isGo ? new GoBuildProgress(buildTargets(args), started) : undefined;
  let step = 'starting';
  const tick = setInterval(
    () => opts.onProgress(`  … ${fmtElapsed(Date.now() - started)} — ${go ? go.describe() : step}`),
    opts.tickMs ?? 15_000,
  );
  tick.unref();
  // Its own process group, so a timeout (or this process ending: Ctrl-C) stops the compilers go started
  // too, not only go; otherwise they keep running and hold its output open.
  const child = execa(file, args, {
    env,
    extendEnv: false,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    reject: false,
    detached: true,
    stdin: 'ignore',
    all: true,
    buffer: { all: true },
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  let timedOut = false;
  let hardKill: NodeJS.Timeout | undefined;
  const bound = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    hardKill = setTimeout(() => killGroup('SIGKILL'), 5_000);
  }, opts.timeoutMs);
  try {
    child.all?.on('data', (chunk: Buffer) => {
      go?.feed(chunk.toString('utf8'));
      const lines = chunk
        .toString('utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const last = lines[lines.length - 1];
      if (last) step = last.length > 120 ? `${last.slice(0, 117)}...` : last;
    });
    const r = await child;
    const tail = String(r.all ?? '')
      .trim()
      .split('\n')
      .slice(-15)
      .join('\n');
    return {
      ok: r.exitCode === 0 && !timedOut,
      timedOut,
      exitCode: r.exitCode ?? -1,
      tail: tail || (r.failed ? String(r.message ?? '') : ''),
    };
  } finally {
    clearTimeout(bound);
    clearTimeout(hardKill);
    clearInterval(tick);
    process.off('exit', onExit);
  }
}
