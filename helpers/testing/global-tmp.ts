// vitest globalSetup: every temp file a test makes (shims, fake caches, kubeconfigs, PostgreSQL data,
// istiod dirs) goes under one directory for the run, removed at the end, so no run leaves /tmp dirty
// even when a test forgets to clean up after itself.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'egress-tests-'));
  // Traversable by the `postgres` user the PostgreSQL fixture runs as.
  chmodSync(dir, 0o755);
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
