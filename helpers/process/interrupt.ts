// The one owner of SIGINT, SIGTERM and SIGHUP in this process. Modules register what an interrupt must
// do (stop a child, remove a temp dir) instead of each adding its own listener: the first signal calls
// every handler, newest first; a second signal while they run exits at once with 128 + the signal number.
// With no handler registered there is no listener, so the signal's default action applies.

export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
export type InterruptHandler = (signal: InterruptSignal) => void | Promise<void>;

const SIGNALS: InterruptSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const CODES: Record<InterruptSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

const handlers: InterruptHandler[] = [];
let running: InterruptSignal | undefined;

export const exitCodeFor = (signal: InterruptSignal): number => CODES[signal];

function listener(signal: NodeJS.Signals): void {
  const sig = signal as InterruptSignal;
  if (running) {
    process.exit(CODES[sig]);
  }
  running = sig;
  const todo = [...handlers].reverse();
  void (async () => {
    for (const h of todo) {
      try {
        await h(sig);
      } catch {
        // One handler failing must not keep the others from cleaning up.
      }
    }
    running = undefined;
  })();
}

/** Registers `handler`; returns the function that removes it. */
export function onInterrupt(handler: InterruptHandler): () => void {
  if (handlers.length === 0) for (const s of SIGNALS) process.on(s, listener);
  handlers.push(handler);
  return () => {
    const i = handlers.indexOf(handler);
    if (i < 0) return;
    handlers.splice(i, 1);
    if (handlers.length === 0) for (const s of SIGNALS) process.off(s, listener);
  };
}

/** Whether an interrupt is being handled (for tests and for code deciding to stop early). */
export const interruptInProgress = (): InterruptSignal | undefined => running;
