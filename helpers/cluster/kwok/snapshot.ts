// Where etcd snapshots of an installed cluster are kept: one file per key in the tool cache, written by
// rename so a concurrent run never restores half a file. The key names everything that makes the
// snapshot's content (the caller's parts: Istio build, IstioOperator text) and the cluster's own
// versions, so a new pin never restores an old cluster.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PINNED } from '../../tools/versions.ts';

/** Bumped when what the lane puts into a cluster before saving changes shape. */
const FORMAT = 'kwok-snapshot-2';

export function snapshotDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'istio-egress-conformance', 'snapshots');
}

export function snapshotKey(parts: string[]): string {
  const k = PINNED.kubernetes;
  return createHash('sha256')
    .update([FORMAT, k.version, k.etcd, k.kwok, ...parts].join('\n'))
    .digest('hex')
    .slice(0, 20);
}

export function snapshotFile(parts: string[], env: NodeJS.ProcessEnv = process.env): string {
  return join(snapshotDir(env), `${snapshotKey(parts)}.db`);
}

/** The snapshot for these parts when one was saved (and is not empty). EGRESS_SNAPSHOTS=off ignores them. */
export function findSnapshot(parts: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.EGRESS_SNAPSHOTS === 'off') return undefined;
  const f = snapshotFile(parts, env);
  return existsSync(f) && statSync(f).size > 0 ? f : undefined;
}

/** Saves through `save(tmpFile)` then renames into place. */
export async function storeSnapshot(
  parts: string[],
  save: (file: string) => Promise<void>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (env.EGRESS_SNAPSHOTS === 'off') return undefined;
  const f = snapshotFile(parts, env);
  mkdirSync(snapshotDir(env), { recursive: true });
  const tmp = `${f}.${process.pid}.tmp`;
  await save(tmp);
  renameSync(tmp, f);
  return f;
}
