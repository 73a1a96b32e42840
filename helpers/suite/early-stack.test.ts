// The hand-over of `run`'s stack to the suite: the suite waits for the file, attaches to the state in it, or
// fails its setup with the error (and exit code) that stopped the stack.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LaneState } from '../lanes/control-plane/state.ts';
import { ExitCodeError } from '../model/errors.ts';
import { awaitEarlyStack, writeEarlyStack } from './early-stack.ts';

const dir = mkdtempSync(join(tmpdir(), 'early-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("run's early stack", () => {
  it('is waited for until run writes it, then read whole', async () => {
    const file = join(dir, 'up.json');
    const state = { runId: 'r1', runDir: '/tmp/x' } as unknown as LaneState;
    const info = { lane: 'control-plane' as const, istioVersion: '1.32.0', details: { istioInstall: 'istioctl install -f x' } };
    const waiting = awaitEarlyStack(file);
    setTimeout(() => writeEarlyStack(file, { state, info }), 150);
    await expect(waiting).resolves.toEqual({ state, info });
  });

  it("a stack that failed to start fails the suite's setup with its message and exit code", async () => {
    const file = join(dir, 'failed.json');
    writeEarlyStack(file, { error: 'pilot-discovery is not built', exitCode: 3 });
    const err = await awaitEarlyStack(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExitCodeError);
    expect(err).toMatchObject({ message: 'pilot-discovery is not built', exitCode: 3 });
    writeEarlyStack(file, { error: 'kube-apiserver did not answer' });
    await expect(awaitEarlyStack(file)).rejects.toThrow(/^kube-apiserver did not answer$/);
  });
});
