// The one way this project waits for a condition: ask, and ask again with a growing pause, until it
// holds or the time is up. Built on p-retry so the backoff and the abort signal behave the same
// everywhere; never a bare sleep loop.
import pRetry from 'p-retry';

export interface PollOptions {
  /** Give up once this long has passed since the first check. */
  timeoutMs: number;
  /** First pause; later pauses grow by `factor` up to `maxIntervalMs`. */
  intervalMs?: number;
  maxIntervalMs?: number;
  factor?: number;
  signal?: AbortSignal;
}

class NotYet extends Error {}

/**
 * Resolves true as soon as `check` returns true, false when `timeoutMs` passes first. An error thrown by
 * `check` ends the wait and is rethrown.
 */
export async function pollUntil(check: () => boolean | Promise<boolean>, opts: PollOptions): Promise<boolean> {
  const interval = opts.intervalMs ?? 100;
  try {
    await pRetry(
      async () => {
        if (!(await check())) throw new NotYet('not yet');
      },
      {
        forever: true,
        minTimeout: interval,
        maxTimeout: opts.maxIntervalMs ?? Math.max(interval, 1000),
        factor: opts.factor ?? 1.5,
        maxRetryTime: opts.timeoutMs,
        randomize: false,
        shouldRetry: (e) => e instanceof NotYet,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
    return true;
  } catch (e) {
    if (e instanceof NotYet) return false;
    throw e;
  }
}

/**
 * Calls `call`, and again after a growing pause while it throws an error `transient` accepts (an API
 * server's "try again"), at most `retries` more times; any other error, and the last transient one, is
 * thrown as it came.
 */
export async function retryWhile<T>(
  call: () => Promise<T>,
  transient: (e: unknown) => boolean,
  opts: { retries: number; intervalMs?: number; maxIntervalMs?: number; factor?: number },
): Promise<T> {
  const interval = opts.intervalMs ?? 100;
  return pRetry(call, {
    retries: opts.retries,
    minTimeout: interval,
    maxTimeout: opts.maxIntervalMs ?? Math.max(interval, 1000),
    factor: opts.factor ?? 1.5,
    randomize: false,
    shouldRetry: (e) => transient(e),
  });
}
