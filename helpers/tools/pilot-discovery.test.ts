import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../model/errors.ts';
import { tempDirs } from '../testing/temp-dirs.ts';
import { PINNED_PILOT } from './pilot-discovery.ts';
import { cachedBinaryPath, findPilotDiscovery, findPilotDiscoverySync } from './pilot-locate.ts';
import { installPilotDiscovery } from './pilot-install.ts';

const tmp = tempDirs('iec-pd-', { each: true });

describe('pilot-discovery locator', () => {
  it('cache path follows XDG_CACHE_HOME and the pinned module version', () => {
    expect(cachedBinaryPath(PINNED_PILOT, { XDG_CACHE_HOME: '/c' })).toBe(
      `/c/istio-egress-conformance/bin/pilot-discovery-${PINNED_PILOT.goModuleVersion}`,
    );
    expect(cachedBinaryPath(PINNED_PILOT, { HOME: '/h' })).toBe(
      `/h/.cache/istio-egress-conformance/bin/pilot-discovery-${PINNED_PILOT.goModuleVersion}`,
    );
  });

  it('prefers $PILOT_DISCOVERY, then the cache; a bad $PILOT_DISCOVERY is an EnvironmentError', async () => {
    const cache = tmp();
    const bin = cachedBinaryPath(PINNED_PILOT, { XDG_CACHE_HOME: cache });
    mkdirSync(join(bin, '..'), { recursive: true });
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    expect(await findPilotDiscovery(PINNED_PILOT, { XDG_CACHE_HOME: cache, PATH: '' })).toMatchObject({ path: bin, source: 'cache' });
    expect(findPilotDiscoverySync(PINNED_PILOT, { XDG_CACHE_HOME: cache })).toBe(bin);
    expect(await findPilotDiscovery(PINNED_PILOT, { XDG_CACHE_HOME: cache, PILOT_DISCOVERY: bin })).toMatchObject({ source: 'env' });
    await expect(findPilotDiscovery(PINNED_PILOT, { PILOT_DISCOVERY: join(cache, 'missing') })).rejects.toBeInstanceOf(EnvironmentError);
    expect(await findPilotDiscovery(PINNED_PILOT, { XDG_CACHE_HOME: tmp(), PATH: '' })).toBeUndefined();
  });

  it('building without go on PATH names the fix', async () => {
    const saved = { PATH: process.env.PATH, XDG: process.env.XDG_CACHE_HOME };
    process.env.PATH = tmp();
    process.env.XDG_CACHE_HOME = tmp();
    try {
      const err = await installPilotDiscovery({ onProgress: () => {} }).catch((e) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect(String(err.message)).toMatch(/go.*not found.*PILOT_DISCOVERY/s);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.XDG === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.XDG;
    }
  });
});
