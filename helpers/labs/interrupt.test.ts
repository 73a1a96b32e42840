// Ctrl-C in `lab start` (the CLI, a real SIGINT) undoes only what that start did: the stack it started
// when none was up (its processes, run dir and warm-stack record gone), or, on the warm stack `up` keeps,
// the lab's objects (the stack stays up). Skipped, with the reason, without the pinned tools.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ClientNodeK8s } from '../k8s/client.ts';
import { modeOf, readMeshConfig } from '../k8s/istio.ts';
import { RUN_LABEL } from '../k8s/manifests.ts';
import { pollUntil } from '../process/poll.ts';
import { isRecordedAlive, isUp, readWarm, type WarmRecord } from '../stack/warm.ts';
import { endLabStack, labStackEnv, upForTests } from '../testing/lab-stack.ts';
import { readCurrent } from './live.ts';

const BIN = fileURLToPath(new URL('../../bin/egress-conformance.mjs', import.meta.url));
const stack = labStackEnv('labs-interrupt-');
const { env } = stack;
afterAll(() => endLabStack(stack));

/**
 * `lab start` in its own process, interrupted once it has a stack and is setting the lab up on it (and,
 * with `until`, once that holds too).
 */
async function interruptedStart(
  lab: string,
  until: (rec: WarmRecord) => Promise<boolean> = async () => true,
): Promise<{ exitCode: number; stderr: string; rec: WarmRecord }> {
  const child = execa('node', [BIN, 'lab', 'start', lab], { env, reject: false, timeout: 300_000 });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('installing Istio from')) resolve();
    });
    child.once('exit', () => reject(new Error(`lab start ended before the lab was set up:\n${stderr}`)));
  });
  const rec = readWarm(env);
  if (!rec) throw new Error('no warm stack recorded while lab start sets the lab up');
  if (!(await pollUntil(() => until(rec), { timeoutMs: 60_000, intervalMs: 20 }))) throw new Error(`never ready to interrupt:\n${stderr}`);
  child.kill('SIGINT');
  const r = await child;
  return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr), rec };
}

const labObjects = async (rec: WarmRecord) => {
  const k8s = new ClientNodeK8s(rec.kubeconfig);
  const all = [...(await k8s.list('networking.istio.io/v1', 'ServiceEntry')), ...(await k8s.list('networking.istio.io/v1', 'Sidecar'))];
  return all.filter((o) => !o.metadata.labels?.[RUN_LABEL]).map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
};

describe('Ctrl-C in lab start', () => {
  it('with no warm stack up: the stack it started is ended (exit 130), nothing of it left', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    expect(readWarm(env)).toBeUndefined();
    const { exitCode, stderr, rec } = await interruptedStart('api-over-http');
    expect(rec.startedBy).toBe('lab start');
    expect(exitCode, stderr).toBe(130);
    expect(stderr).toContain('interrupted: the stack this lab start started is stopped');
    expect(await pollUntil(() => !rec.processes.some(isRecordedAlive), { timeoutMs: 10_000, intervalMs: 100 })).toBe(true);
    expect(existsSync(rec.runDir)).toBe(false);
    expect(readWarm(env)).toBeUndefined();
    expect(readCurrent(env)).toBeUndefined();
  }, 300_000);

  describe('on the warm stack `up` keeps', () => {
    beforeAll(() => upForTests(stack), 300_000);

    it("the lab's objects are removed (exit 130); the stack stays up", async (ctx) => {
      if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
      const warm = readWarm(env)!;
      // Interrupted once Istio is installed from the lab's IstioOperator and its starting objects exist.
      const { exitCode, stderr, rec } = await interruptedStart('tcp-trap-addresses', async (r) => (await labObjects(r)).length > 0);
      expect(rec.runDir).toBe(warm.runDir);
      expect(exitCode, stderr).toBe(130);
      expect(stderr).toContain('lab: using the warm stack');
      expect(stderr).toContain("interrupted: the lab's objects are removed");
      expect(isUp(readWarm(env)!)).toBe(true);
      expect(await labObjects(warm)).toEqual([]);
      const mesh = await readMeshConfig(new ClientNodeK8s(warm.kubeconfig));
      expect(modeOf(mesh!)).toBe(modeOf(warm.baseMesh));
      expect(modeOf(warm.baseMesh)).not.toBe('REGISTRY_ONLY'); // the lab installs REGISTRY_ONLY: put back, not left
      expect(readCurrent(env)).toBeUndefined();
    }, 300_000);
  });
});
