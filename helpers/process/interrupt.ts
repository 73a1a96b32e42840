// The one owner of SIGINT, SIGTERM and SIGHUP in this process. Modules register what an interrupt must
// do (stop a child, remove a temp dir) instead of each adding its own listener: the first signal calls
// every handler, newest first, then ends the process with 128 + the signal number, unless a handler
// asked to keep it running (a command that still has a report to write). A second signal, while the
// handlers run or after, exits at once. With no handler registered there is no listener, so the signal's default
// action applies.

export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
export type InterruptHandler = (signal: InterruptSignal) => void | Promise<void>;

const SIGNALS: InterruptSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const CODES: Record<InterruptSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

interface Registration {
  handler: InterruptHandler;
  keepRunning: boolean;
}

const handlers: Registration[] = [];
/** Set by the first signal and never cleared: any later one means "stop now". */
let interrupted = false;
let firstSignal: InterruptSignal | undefined;

/**
 * The signal this process was interrupted by, once one came: work still running while the handlers clean
 * up (a test case in flight) can tell a torn-down lane from a failure and stop instead of reporting one.
 */
export const interruptedBy = (): InterruptSignal | undefined => firstSignal;

export const exitCodeFor = (signal: InterruptSignal): number => CODES[signal];

function listener(signal: NodeJS.Signals): void {
  const sig = signal as InterruptSignal;
  if (interrupted) process.exit(CODES[sig]);
  interrupted = true;
  firstSignal = sig;
  const todo = [...handlers].reverse();
  void (async () => {
    for (const r of todo) {
      try {
        await r.handler(sig);
      } catch {
        // One handler failing must not keep the others from cleaning up.
      }
    }
    if (!todo.some((r) => r.keepRunning)) end(sig);
  })();
}

/**
 * Ends the process with 128 + the signal number, as shells report a process stopped by a signal. In a
 * vitest worker process.exit is intercepted; there the signal is raised again with our listener gone, so
 * its default action ends the worker (a listener that only watches for exits, such as execa's
 * signal-exit, re-raises it in turn).
 */
function end(sig: InterruptSignal): void {
  for (const s of SIGNALS) process.off(s, listener);
  try {
    process.exit(CODES[sig]);
  } catch {
    // intercepted: fall through to the signal
  }
  process.kill(process.pid, sig);
}

/**
 * Registers `handler`; returns the function that removes it. With `keepRunning`, the process goes on
 * after the handlers ran (the handler's owner ends it); otherwise the owner exits once they are done.
 */
export function onInterrupt(handler: InterruptHandler, opts: { keepRunning?: boolean } = {}): () => void {
  if (handlers.length === 0) for (const s of SIGNALS) process.on(s, listener);
  const reg: Registration = { handler, keepRunning: !!opts.keepRunning };
  handlers.push(reg);
  return () => {
    const i = handlers.indexOf(reg);
    if (i < 0) return;
    handlers.splice(i, 1);
    if (handlers.length === 0) for (const s of SIGNALS) process.off(s, listener);
  };
}
