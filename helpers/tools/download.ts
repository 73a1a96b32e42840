// A release binary fetched over HTTPS and installed only when its sha256 is the one the release publishes.
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export class ChecksumError extends Error {}

/** Installs the asset's binary at `dest`; a ChecksumError when its sha256 is not the published one. */
export async function downloadVerified(
  asset: { url: string; checksumUrl: string; archiveMember?: string },
  dest: string,
  deps: { fetch: (url: string) => Promise<Uint8Array> },
): Promise<void> {
  const sumText = Buffer.from(await deps.fetch(asset.checksumUrl)).toString('utf8');
  // Published as `<hex>  <file name>` (sha256sum / shasum -a 256 format).
  const expected = /^([0-9a-f]{64})\b/i.exec(sumText.trim())?.[1]?.toLowerCase();
  if (!expected) throw new Error(`${asset.checksumUrl} holds no sha256`);
  const body = await deps.fetch(asset.url);
  const actual = createHash('sha256').update(body).digest('hex');
  if (actual !== expected) {
    throw new ChecksumError(`sha256 of ${asset.url} is ${actual}, but ${asset.checksumUrl} says ${expected}; not installed`);
  }
  await mkdir(join(dest, '..'), { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'egress-conformance-dl-'));
  try {
    let binary: string;
    if (asset.archiveMember) {
      const archive = join(tmp, 'archive.tar.gz');
      await writeFile(archive, body);
      await execa('tar', ['-xzf', archive, '-C', tmp, asset.archiveMember], { reject: true });
      binary = join(tmp, asset.archiveMember);
    } else {
      binary = join(tmp, 'binary');
      await writeFile(binary, body);
    }
    await chmod(binary, 0o755);
    // Copy then rename within the cache dir, so a concurrent run never sees half a binary.
    const partial = `${dest}.partial-${process.pid}`;
    await writeFile(partial, await readFile(binary), { mode: 0o755 });
    await rename(partial, dest);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
