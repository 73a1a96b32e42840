// kind at the pinned version (fixtures/versions.json `kind`).
// Release assets: https://github.com/kubernetes-sigs/kind/releases/download/<tag>/kind-<os>-<arch>, with
// `<asset>.sha256sum` next to it (kind's hack/release/build/cross.sh: `shasum -a 256 f > f.sha256sum`).
// `kind version` prints `kind v0.31.0 go1.x linux/amd64` for release builds (pkg/cmd/kind/version).
import { PINNED } from './versions.ts';
import { defaultResolveDeps, resolveTool, type ResolveDeps, type ResolvedTool, type ToolSpec } from './resolve.ts';

export function kindSpec(version: string = PINNED.kind): ToolSpec {
  return {
    name: 'kind',
    version,
    versionArgs: ['version'],
    parseVersion: (out) => /^kind (v\S+)/m.exec(out)?.[1],
    download: ({ os, arch }) => {
      const url = `https://github.com/kubernetes-sigs/kind/releases/download/${version}/kind-${os}-${arch}`;
      return { url, checksumUrl: `${url}.sha256sum` };
    },
    // The module proxy serves kind's release tags, so this builds exactly the pinned version.
    goInstall: { pkg: `sigs.k8s.io/kind@${version}` },
    fix: `Install kind ${version} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation, or \`go install sigs.k8s.io/kind@${version}\`) and put it on PATH.`,
  };
}

export function resolveKind(version?: string, deps: ResolveDeps = defaultResolveDeps()): Promise<ResolvedTool> {
  return resolveTool(kindSpec(version), deps);
}
