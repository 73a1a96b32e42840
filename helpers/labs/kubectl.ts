// Which kubectl the candidate uses: the one on PATH when its minor version is within one of the API
// server's (kubectl's supported skew, https://kubernetes.io/releases/version-skew-policy/#kubectl),
// otherwise the matching build cached next to kube-apiserver, linked as `kubectl` into a directory the
// lab prints for PATH.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../model/errors.ts';
import { findKubeBinarySync, missingKubeBinaryMessage } from '../tools/kube-builds.ts';
import { PINNED } from '../tools/versions.ts';

export interface KubectlChoice {
  /** The kubectl to run. */
  path: string;
  /** Set when the candidate must put this directory first in PATH (it holds a `kubectl` link). */
  pathDir?: string;
  /** One line for the candidate: which kubectl and why. */
  why: string;
}

/** "1.35" from "v1.35.4"; "32+" style minors (vendor builds) lose the suffix. */
export function minorOf(version: string): number | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m && m[1] === '1' ? Number(m[2]) : undefined;
}

export async function pathKubectlMinor(env: NodeJS.ProcessEnv = process.env): Promise<{ minor: number; version: string } | undefined> {
  try {
    const r = await execa('kubectl', ['version', '--client', '-o', 'json'], { env, timeout: 10_000, reject: false });
    if (r.exitCode !== 0) return undefined;
    const v = (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? '';
    const minor = minorOf(v);
    return minor === undefined ? undefined : { minor, version: v };
  } catch {
    return undefined; // not on PATH, or not JSON
  }
}

/**
 * `linkDir`: where to put the `kubectl` link to the cached build when the PATH one is too far from
 * the server (the lab's own state directory).
 */
export async function chooseKubectl(
  linkDir: string,
  opts: { serverVersion?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<KubectlChoice> {
  const env = opts.env ?? process.env;
  const server = opts.serverVersion ?? PINNED.kubernetes.version;
  const serverMinor = minorOf(server)!;
  const onPath = await pathKubectlMinor(env);
  if (onPath && Math.abs(onPath.minor - serverMinor) <= 1) {
    return { path: 'kubectl', why: `kubectl on PATH (${onPath.version}) is within one minor version of the API server (${server})` };
  }
  const built = findKubeBinarySync('kubectl', env);
  if (!built) {
    const found = onPath
      ? `kubectl on PATH is ${onPath.version}, more than one minor version from the API server (${server})`
      : 'no kubectl on PATH';
    throw new EnvironmentError(`${found}, and ${missingKubeBinaryMessage('kubectl')}`);
  }
  mkdirSync(linkDir, { recursive: true });
  const link = join(linkDir, 'kubectl');
  rmSync(link, { force: true });
  symlinkSync(built, link);
  const why = onPath
    ? `kubectl on PATH is ${onPath.version}, more than one minor version from the API server (${server}): use the matching build`
    : `no kubectl on PATH: use the build matching the API server (${server})`;
  return { path: link, pathDir: linkDir, why };
}
