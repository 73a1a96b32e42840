// Runs external programs (docker, kind, istioctl, openssl) with execa: bounded by a timeout, cancelled by the
// run's abort signal (Ctrl-C), never rejecting: the caller decides what a non-zero exit means.
import { execa } from 'execa';

export interface ProcessResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  canceled: boolean;
}

export interface ProcessRunner {
  run(argv: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal }): Promise<ProcessResult>;
}

export const execaRunner: ProcessRunner = {
  async run(argv, { env, timeoutMs, signal }) {
    const [file, ...args] = argv;
    const r = await execa(file, args, {
      env,
      // The env given is complete (it already holds PATH and KUBECONFIG); nothing else leaks in.
      extendEnv: false,
      timeout: timeoutMs,
      cancelSignal: signal,
      // A tool that ignores SIGTERM is killed 5 s later, so a hung step always ends.
      forceKillAfterDelay: 5_000,
      reject: false,
      stdin: 'ignore',
    });
    return {
      exitCode: r.exitCode ?? -1,
      stdout: String(r.stdout ?? ''),
      stderr: r.failed && !r.stderr && r.message ? String(r.message) : String(r.stderr ?? ''),
      timedOut: Boolean(r.timedOut),
      canceled: Boolean(r.isCanceled),
    };
  },
};
