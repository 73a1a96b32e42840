// The signal owner and the polling helper, each in a child process or with real timers (no wall-time
// assertions: only order and outcome).
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollUntil, retryWhile } from './poll.ts';
import { childrenOf } from './children.ts';

const INTERRUPT = fileURLToPath(new URL('./interrupt.ts', import.meta.url));

/** A child that registers two handlers, then prints READY and waits. */
const script = (body: string) => `
import { onInterrupt } from ${JSON.stringify(INTERRUPT)};
${body}
console.log('READY');
setInterval(() => {}, 1000);
`;

async function interrupt(body: string, signals: [NodeJS.Signals, string?][]) {
  const child = execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(body)], { reject: false, timeout: 30_000 });
  const seen = (text: string) =>
    new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes(text) && resolve()));
  await seen('READY');
  for (const [s, after] of signals) {
    child.kill(s);
    if (after) await seen(after);
  }
  return child;
}

describe('onInterrupt', () => {
  it('runs every handler, newest first, then exits with 128 + the signal number', async () => {
    const r = await interrupt(
      `
      onInterrupt(async (s) => { console.log('first ' + s); });
      onInterrupt(async (s) => { await new Promise((r) => setTimeout(r, 50)); console.log('second ' + s); throw new Error('ignored'); });
    `,
      [['SIGINT']],
    );
    expect(r.stdout.split('\n')).toEqual(['READY', 'second SIGINT', 'first SIGINT']);
    expect(r.exitCode).toBe(130);
  });

  it('a handler registered with keepRunning keeps the process going after the handlers', async () => {
    const r = await interrupt(
      `
      onInterrupt(() => console.log('cleaned'));
      onInterrupt(() => { console.log('forwarded'); setTimeout(() => { console.log('report written'); process.exit(3); }, 50); }, { keepRunning: true });
    `,
      [['SIGTERM']],
    );
    expect(r.stdout.split('\n')).toEqual(['READY', 'forwarded', 'cleaned', 'report written']);
    expect(r.exitCode).toBe(3);
  });

  it('a handler may end the process itself', async () => {
    const r = await interrupt(
      `
      onInterrupt(async (s) => { console.log('first ' + s); process.exit(7); });
      onInterrupt(async (s) => { await new Promise((r) => setTimeout(r, 50)); console.log('second ' + s); throw new Error('ignored'); });
    `,
      [['SIGTERM']],
    );
    expect(r.stdout.split('\n')).toEqual(['READY', 'second SIGTERM', 'first SIGTERM']);
    expect(r.exitCode).toBe(7);
  });

  it('a second signal while handlers run exits at once with 128 + the signal number', async () => {
    const r = await interrupt(`onInterrupt(async () => { console.log('cleaning'); await new Promise(() => {}); });`, [
      ['SIGINT', 'cleaning'],
      ['SIGINT'],
    ]);
    expect(r.stdout).toContain('cleaning');
    expect(r.exitCode).toBe(130);
  });

  it('where process.exit is intercepted (a vitest worker), the signal itself ends the process', async () => {
    const r = await interrupt(
      `
      process.exit = () => { throw new Error('intercepted'); };
      onInterrupt(() => console.log('cleaned'));
    `,
      [['SIGTERM']],
    );
    expect(r.stdout.split('\n')).toEqual(['READY', 'cleaned']);
    expect(r.signal).toBe('SIGTERM');
  });

  it('a removed handler leaves the default action (the process dies of the signal)', async () => {
    const r = await interrupt(`const off = onInterrupt(() => console.log('never')); off();`, [['SIGTERM']]);
    expect(r.signal).toBe('SIGTERM');
    expect(r.stdout).not.toContain('never');
  });
});

describe('pollUntil', () => {
  it('resolves true once the check holds, asking again in between', async () => {
    let n = 0;
    expect(await pollUntil(() => ++n >= 3, { timeoutMs: 10_000, intervalMs: 1 })).toBe(true);
    expect(n).toBe(3);
  });

  it('resolves false when the time is up', async () => {
    expect(await pollUntil(() => false, { timeoutMs: 20, intervalMs: 5 })).toBe(false);
  });

  it('an error from the check ends the wait', async () => {
    await expect(
      pollUntil(
        () => {
          throw new Error('broken');
        },
        { timeoutMs: 10_000, intervalMs: 1 },
      ),
    ).rejects.toThrow('broken');
  });
});

describe('retryWhile', () => {
  const busy = () => Object.assign(new Error('storage is (re)initializing'), { code: 429 });
  const transient = (e: unknown) => (e as { code?: number }).code === 429;

  it('calls again while the error is transient, then gives the answer', async () => {
    let n = 0;
    const got = await retryWhile(
      async () => {
        if (++n < 3) throw busy();
        return 'ok';
      },
      transient,
      { retries: 5, intervalMs: 1 },
    );
    expect([got, n]).toEqual(['ok', 3]);
  });

  it('throws any other error at once, as it came, and the last transient one when the retries run out', async () => {
    const notFound = Object.assign(new Error('not found'), { code: 404 });
    let n = 0;
    await expect(
      retryWhile(
        async () => {
          n++;
          throw notFound;
        },
        transient,
        { retries: 5, intervalMs: 1 },
      ),
    ).rejects.toBe(notFound);
    expect(n).toBe(1);
    let m = 0;
    await expect(
      retryWhile(
        async () => {
          m++;
          throw busy();
        },
        transient,
        { retries: 2, intervalMs: 1 },
      ),
    ).rejects.toMatchObject({ code: 429 });
    expect(m).toBe(3);
  });
});

describe('one owner of signal handling, one polling helper', () => {
  const ROOT = fileURLToPath(new URL('../../', import.meta.url));
  let files: string[] = [];
  try {
    files = execFileSync('git', ['ls-files', '-z', 'helpers', 'scripts', 'suites', 'bin'], { cwd: ROOT, encoding: 'utf8' }).split('\0');
  } catch {
    // not a git checkout: nothing to scan reliably
  }
  const modules = files.filter((f) => /\.(ts|mjs)$/.test(f) && !f.endsWith('.test.ts') && f !== 'helpers/process/interrupt.ts');

  it.runIf(modules.length > 0)('p-retry is used through helpers/process/poll.ts alone', () => {
    const direct = modules
      .filter((f) => f !== 'helpers/process/poll.ts')
      .filter((f) => {
        try {
          return /from\s+'p-retry'/.test(readFileSync(join(ROOT, f), 'utf8'));
        } catch {
          return false;
        }
      });
    expect(direct).toEqual([]);
  });

  it.runIf(modules.length > 0)('no other module listens for SIGINT, SIGTERM or SIGHUP', () => {
    const listening = /process\.(on|once|addListener|prependListener)\(\s*['"](SIGINT|SIGTERM|SIGHUP)['"]|process\.(on|once)\(\s*sig\b/;
    const offenders = modules.filter((f) => {
      try {
        return listening.test(readFileSync(join(ROOT, f), 'utf8'));
      } catch {
        return false; // listed by git but deleted in the working tree
      }
    });
    expect(offenders).toEqual([]);
  });
});

describe('childrenOf', () => {
  it.runIf(process.platform === 'linux')('lists a child this process started, and not itself', async () => {
    const child = execa('sleep', ['30']);
    try {
      await pollUntil(() => childrenOf(process.pid).includes(child.pid!), { timeoutMs: 10_000, intervalMs: 20 });
      expect(childrenOf(process.pid)).toContain(child.pid);
      expect(childrenOf(process.pid)).not.toContain(process.pid);
    } finally {
      child.kill();
      await child.catch(() => {});
    }
  });
});
