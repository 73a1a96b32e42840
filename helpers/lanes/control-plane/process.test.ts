// An owned server dies with its owner, even when the owner is killed outright (no exit hooks run).
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

const OWNER = fileURLToPath(new URL('./testdata/owner.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ManagedProcess', () => {
  it('a server is killed by the kernel when its owner is SIGKILLed', async () => {
    const owner = execa('npx', ['tsx', OWNER], { reject: false });
    const pid = await new Promise<number>((resolve, reject) => {
      owner.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      void owner.then((r) => reject(new Error(`owner ended first: ${r.stderr}`)));
    });
    expect(alive(pid)).toBe(true);
    // Kill exactly the process that spawned the server (npx and tsx put processes in between).
    const parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    process.kill(parent, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
    owner.kill('SIGKILL');
  });
});
