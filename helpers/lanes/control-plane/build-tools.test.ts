// The main job builds what the lane needs before it starts: every program controlPlaneMissing can name must be
// one it builds (a first run on a fresh machine once stopped at kwokctl, which `run` did not build).
import { describe, expect, it, vi } from 'vitest';
import { KWOK_CLUSTER_PROGRAMS } from '../../cluster/kwok/requirements.ts';
import { PINNED_PILOT } from '../../tools/pilot-discovery.ts';

const built: string[] = [];
vi.mock('../../tools/pilot-install.ts', () => ({
  ensurePilotDiscovery: async (o: { build?: boolean }) => {
    if (o.build) built.push('pilot-discovery');
    return { path: '/nowhere/pilot-discovery', source: 'cache' };
  },
  installPilotDiscovery: async (o: { program?: string }) => {
    built.push(o.program === 'istioctl' ? 'istioctl-build' : 'pilot-discovery');
    return '/nowhere/istioctl';
  },
}));
vi.mock('../../tools/pilot-locate.ts', () => ({ findIstioctlBuildSync: () => undefined }));
vi.mock('../../tools/kwok-builds.ts', () => ({
  ensureKwokBinary: async (p: string, o: { build?: boolean }) => {
    if (o.build) built.push(p);
    return `/nowhere/${p}`;
  },
}));
vi.mock('../../tools/kube-builds.ts', () => ({
  ensureKubeBinary: async (p: string, o: { build?: boolean }) => {
    if (o.build) built.push(p);
    return `/nowhere/${p}`;
  },
}));

describe('buildControlPlaneTools', () => {
  it('builds istiod, istioctl and every program of the kwok cluster, istiod first', async () => {
    const { buildControlPlaneTools } = await import('./build-tools.ts');
    await buildControlPlaneTools(PINNED_PILOT, () => {});
    expect(built[0]).toBe('pilot-discovery');
    expect(new Set(built)).toEqual(new Set(['pilot-discovery', 'istioctl-build', ...KWOK_CLUSTER_PROGRAMS]));
  });
});
