// Temp dirs a test file makes for itself, removed when its tests are done rather than piling up until
// global-tmp.ts removes the run's whole folder at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

/**
 * A maker of fresh dirs named `prefix…`, to call at a test file's top level. Every dir it made is removed
 * after the file's tests, or after each test with `{ each: true }`.
 */
export function tempDirs(prefix: string, opts: { each?: boolean } = {}): () => string {
  const made: string[] = [];
  (opts.each ? afterEach : afterAll)(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
}
