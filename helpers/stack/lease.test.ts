// The warm stack's lease: one holder at a time, a dead holder's lease taken over, release only by its holder.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leaseFile, leaseHolder, takeLease } from './lease.ts';

const root = mkdtempSync(join(tmpdir(), 'lease-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const envFor = (name: string) => ({ XDG_STATE_HOME: join(root, name) });
const writeHolder = (env: NodeJS.ProcessEnv, pid: number, what: string) => {
  mkdirSync(dirname(leaseFile(env)), { recursive: true });
  writeFileSync(leaseFile(env), JSON.stringify({ pid, what }));
};

describe('warm stack lease', () => {
  it('is taken when free, names its holder, and is gone once released (twice is harmless)', () => {
    const env = envFor('a');
    const got = takeLease('egress-conformance run', env);
    if (!('release' in got)) throw new Error(`not taken: held by ${got.heldBy.what}`);
    expect(leaseHolder(env)).toEqual({ pid: process.pid, what: 'egress-conformance run' });
    got.release();
    got.release();
    expect(existsSync(leaseFile(env))).toBe(false);
    expect(leaseHolder(env)).toBeUndefined();
  });

  it('another live process holding it is named, and its lease is left alone', async () => {
    const env = envFor('b');
    const other = spawn('sleep', ['30']);
    try {
      writeHolder(env, other.pid!, 'egress-conformance fuzz');
      const got = takeLease('the answer server', env);
      expect(got).toEqual({ heldBy: { pid: other.pid, what: 'egress-conformance fuzz' } });
      expect(JSON.parse(readFileSync(leaseFile(env), 'utf8')).pid).toBe(other.pid);
    } finally {
      other.kill();
    }
  });

  it('a holder that died without releasing (kill -9) does not block: its lease is taken over', async () => {
    const env = envFor('c');
    const gone = spawn('true');
    await new Promise((r) => gone.on('exit', r));
    writeHolder(env, gone.pid!, 'a run that was killed');
    expect(leaseHolder(env)).toBeUndefined();
    const got = takeLease('egress-conformance run', env);
    expect('release' in got).toBe(true);
    expect(leaseHolder(env)?.pid).toBe(process.pid);
  });

  it('a release never removes a lease another process took meanwhile', () => {
    const env = envFor('d');
    const got = takeLease('first', env);
    if (!('release' in got)) throw new Error('not taken');
    writeHolder(env, 1, 'init, standing in for a later taker'); // pid 1 is alive
    got.release();
    expect(leaseHolder(env)).toEqual({ pid: 1, what: 'init, standing in for a later taker' });
  });
});
