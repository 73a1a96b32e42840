import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ephemeralRangeStart, freeLoopbackPort } from './ports.ts';

describe('freeLoopbackPort', () => {
  it('hands out distinct ports below the ephemeral range, each one a server can listen on', async () => {
    const start = ephemeralRangeStart();
    const ports = await Promise.all(Array.from({ length: 40 }, () => freeLoopbackPort()));
    expect(new Set(ports).size).toBe(40);
    for (const port of ports) {
      expect(port).toBeLessThan(start);
      expect(port).toBeGreaterThan(1024);
    }
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(ports[0], '127.0.0.1', () => resolve());
    });
    await new Promise((resolve) => srv.close(resolve));
  });

  it('reads where the ephemeral range starts, with the default when the file is missing or odd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ports-'));
    const file = join(dir, 'range');
    writeFileSync(file, '40000\t60999\n');
    expect(ephemeralRangeStart(file)).toBe(40000);
    writeFileSync(file, 'nonsense');
    expect(ephemeralRangeStart(file)).toBe(32768);
    expect(ephemeralRangeStart(join(dir, 'missing'))).toBe(32768);
  });
});
