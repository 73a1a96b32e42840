// The stack `egress-conformance run` starts in its own process while vitest starts and reads the catalogue
// (both take seconds; on two cores they overlap), handed to the suite through a file: the lane's state once the
// stack is up, or the error that stopped it. The suite attaches to it; `run` tears it down after the suite.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { LaneInfo } from '../lanes/lane.ts';
import type { LaneState } from '../lanes/control-plane/state.ts';
import { ExitCodeError } from '../model/errors.ts';
import { pollUntil } from '../process/poll.ts';

type EarlyStackFile = { state: LaneState; info: LaneInfo } | { error: string; exitCode?: number };

/** Written by `run` (atomically: the suite polls for it). */
export function writeEarlyStack(file: string, content: EarlyStackFile): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(content));
  renameSync(`${file}.tmp`, file);
}

/**
 * Waits for `run`'s stack. The wait has no bound of its own: `run` writes the file when its start ends either
 * way (a first run's builds happen before, in `run`, with their own progress), and stops the suite when it is
 * interrupted.
 */
export async function awaitEarlyStack(file: string): Promise<{ state: LaneState; info: LaneInfo }> {
  // What attaching needs is loaded during the wait, not after it: the lane's modules, the API client (~0.5 s)
  // and the xDS protos (~0.4 s); the stack takes longer than these on a machine of two cores.
  const ready = prepareToAttach();
  await pollUntil(() => existsSync(file), { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 20, maxIntervalMs: 100 });
  const got = JSON.parse(readFileSync(file, 'utf8')) as EarlyStackFile;
  if ('error' in got) throw got.exitCode ? new ExitCodeError(got.error, got.exitCode) : new Error(got.error);
  await ready;
  return got;
}

async function prepareToAttach(): Promise<void> {
  try {
    const [{ loadClientNode }, { preloadAdsProtos }] = await Promise.all([
      import('../k8s/client.ts'),
      import('../lanes/control-plane/xds-decode.ts'),
      import('../lanes/control-plane/lane.ts'),
    ]);
    await loadClientNode();
    preloadAdsProtos();
  } catch {
    // The attach that needs them reports a failure to load.
  }
}
