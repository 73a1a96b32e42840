// istioctl at the Istio version of the run (a parameter, default fixtures/versions.json `istio`).
// Release assets (Istio's release/downloadIstioCtl.sh): https://github.com/istio/istio/releases/download/
// <v>/istioctl-<v>-<os>-<arch>.tar.gz, with `<asset>.sha256` next to it; the archive holds `istioctl`.
// `istioctl version --remote=false` prints `client version: 1.30.3` (istioctl forces --short).
import { PINNED } from './versions.ts';
import { defaultResolveDeps, resolveTool, type ResolveDeps, type ResolvedTool, type ToolSpec } from './resolve.ts';

/** A Go pseudo-version (v0.0.0-yyyymmddhhmmss-abcdef123456): the only form the module proxy serves for istio. */
const PSEUDO = /^v0\.0\.0-\d{14}-[0-9a-f]{12}$/;

export function istioctlSpec(version: string = PINNED.istio, goModuleVersion?: string): ToolSpec {
  const release = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version);
  return {
    name: 'istioctl',
    version,
    versionArgs: ['version', '--remote=false'],
    parseVersion: (out) => /client version:\s*(\S+)/.exec(out)?.[1],
    download: release
      ? ({ os, arch }) => {
          const osName = os === 'darwin' ? 'osx' : 'linux';
          const url = `https://github.com/istio/istio/releases/download/${version}/istioctl-${version}-${osName}-${arch}.tar.gz`;
          return { url, checksumUrl: `${url}.sha256`, archiveMember: 'istioctl' };
        }
      : undefined,
    // Istio's release tags (1.30.3, no "v") are not Go module versions, so `go install` can only build a
    // pseudo-version; the build then reports the version we stamp into it.
    goInstall:
      goModuleVersion && PSEUDO.test(goModuleVersion)
        ? {
            pkg: `istio.io/istio/istioctl/cmd/istioctl@${goModuleVersion}`,
            ldflags: `-X istio.io/istio/pkg/version.buildVersion=${version}`,
          }
        : undefined,
    noGoInstall:
      `no go install route for istioctl ${version}: Istio release tags (like ${version}) are not Go module versions, so ` +
      `\`go install istio.io/istio/istioctl/cmd/istioctl@${version}\` cannot work (only a pseudo-version v0.0.0-<date>-<commit> builds); ` +
      `use the release download`,
    fix: `Install istioctl ${version} (https://istio.io/latest/docs/setup/additional-setup/download-istio-release/) and put it on PATH.`,
  };
}

export function resolveIstioctl(
  version?: string,
  deps: ResolveDeps = defaultResolveDeps(),
  goModuleVersion?: string,
): Promise<ResolvedTool> {
  return resolveTool(istioctlSpec(version, goModuleVersion), deps);
}
