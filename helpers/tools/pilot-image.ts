// A release build of pilot-discovery taken out of Istio's pilot image, for releases the Go module proxy
// cannot serve.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { EnvironmentError } from '../model/errors.ts';
import { IMAGE_PREFIX, type PilotDiscoveryPin } from './pilot-discovery.ts';
import { cachedBinaryPath } from './pilot-locate.ts';
import { cacheDir } from './tool-cache.ts';

/**
 * Copies pilot-discovery out of docker.io/istio/pilot:<version> into the cache: the way to run a release
 * build where the Go module proxy serves only pseudo-versions. The container is created, never started.
 */
export async function copyFromPilotImage(
  pin: PilotDiscoveryPin,
  say: (l: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<string> {
  const version = pin.goModuleVersion.slice(IMAGE_PREFIX.length);
  const image = `docker.io/istio/pilot:${version}`;
  const target = cachedBinaryPath(pin);
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 15_000 });
  if (info.exitCode !== 0) {
    throw new EnvironmentError(
      `pilot-discovery ${version}: no Docker daemon answers to copy it from ${image}; set PILOT_DISCOVERY=/path/to/pilot-discovery of ${version}, or drop --istio-version to use the pinned build`,
    );
  }
  say(`copying pilot-discovery out of ${image}`);
  const created = await execa('docker', ['create', '--label', 'egress-conformance.io/managed=true', image], {
    reject: false,
    timeout: 600_000,
  });
  if (created.exitCode !== 0) throw new EnvironmentError(`docker create ${image} failed: ${created.stderr.trim().split('\n').pop() ?? ''}`);
  const id = created.stdout.trim();
  try {
    mkdirSync(cacheDir(process.env), { recursive: true });
    const tmp = `${target}.part`;
    try {
      const cp = await execa('docker', ['cp', `${id}:/usr/local/bin/pilot-discovery`, tmp], { reject: false, timeout: 300_000 });
      if (cp.exitCode !== 0) throw new EnvironmentError(`docker cp from ${image} failed: ${cp.stderr.trim().split('\n').pop() ?? ''}`);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    return target;
  } finally {
    await execa('docker', ['rm', '-f', id], { reject: false, timeout: 60_000 });
  }
}
