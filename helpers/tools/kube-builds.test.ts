// The wrapper modules build exactly the versions fixtures/versions.json pins, and the cache layout is the
// one `tools install` and the lane agree on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PINNED } from './versions.ts';
import { buildSpec, cachedKubeBinary, findKubeBinarySync, GO_WRAPPERS_DIR } from './kube-builds.ts';

function requireOf(module: string, path: string): string | undefined {
  const gomod = readFileSync(join(GO_WRAPPERS_DIR, module, 'go.mod'), 'utf8');
  return gomod.match(new RegExp(`^\\s*(?:require\\s+)?${path.replaceAll('.', '\\.')}\\s+(v\\S+)`, 'm'))?.[1];
}

describe('Kubernetes control-plane builds', () => {
  it('etcd wrapper requires the pinned etcd server', () => {
    expect(requireOf('etcd', 'go.etcd.io/etcd/server/v3')).toBe(PINNED.kubernetes.etcd);
  });

  it('kube wrapper requires the pinned k8s.io/kubernetes and replaces every staging module with its published twin', () => {
    expect(requireOf('kube', 'k8s.io/kubernetes')).toBe(PINNED.kubernetes.version);
    const gomod = readFileSync(join(GO_WRAPPERS_DIR, 'kube', 'go.mod'), 'utf8');
    const staging = PINNED.kubernetes.version.replace(/^v1\./, 'v0.');
    const replaces = [...gomod.matchAll(/^\s*(k8s\.io\/\S+) => (k8s\.io\/\S+) (v\S+)$/gm)];
    expect(replaces.length).toBe(31);
    for (const [, from, to, v] of replaces) {
      expect(to).toBe(from);
      expect(v).toBe(staging);
    }
  });

  it('stamps the server version, which istioctl and kubectl read', () => {
    expect(buildSpec('kube-apiserver').ldflags).toContain(`k8s.io/component-base/version.gitVersion=${PINNED.kubernetes.version}`);
    expect(buildSpec('kubectl').ldflags).toMatch(/gitMinor=\d+/);
  });

  it('an override that is not executable is one clear error', () => {
    expect(() => findKubeBinarySync('etcd', { ETCD: '/nonexistent/etcd', HOME: '/tmp' })).toThrow(
      /ETCD=\/nonexistent\/etcd is not an executable file/,
    );
    expect(cachedKubeBinary('etcd', { XDG_CACHE_HOME: '/c' })).toBe(`/c/istio-egress-conformance/bin/etcd-${PINNED.kubernetes.etcd}`);
  });
});
