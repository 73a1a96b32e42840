// Pinned versions, read from fixtures/versions.json so .ci/run and the code share one source.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VERSIONS_FILE = fileURLToPath(new URL('../../fixtures/versions.json', import.meta.url));

/** An istiod build from a Go module pseudo-version of istio.io/istio. */
export interface ControlPlaneBuild {
  /** What the oracle applies to it, e.g. `1.32.0-alpha.eed52ebb66ad`. */
  istioVersion: string;
  goModuleVersion: string;
  commit: string;
  commitDate: string;
  /** Short name for flags, e.g. `master-2026-08-27`. */
  label?: string;
  /** h1: sum of the istio.io/istio module the build came from. */
  moduleSum?: string;
  /** Extra environment for `go install` (GONOSUMDB for modules the checksum database lacks). */
  goEnv?: Record<string, string>;
  /** Sums of modules built without the checksum database, as the first build had them: `path@version` → h1:. */
  unverifiedSums?: Record<string, string>;
}

export interface PinnedVersions {
  istio: string;
  kind: string;
  kindNodeImage: string;
  controlPlane: ControlPlaneBuild;
  /** Further istiod builds by label (upgrade validation); `$comment` aside. */
  controlPlaneBuilds?: Record<string, ControlPlaneBuild | string>;
  kubernetes: { version: string; etcd: string; kwok: string };
  /** Client and stand-in server images; the lanes name these three, more may be listed. */
  images: { curl: string; postgres: string; nginx: string } & Record<string, string>;
}

function loadPinned(file: string): PinnedVersions {
  const p = JSON.parse(readFileSync(file, 'utf8')) as PinnedVersions;
  const missing = (['curl', 'postgres', 'nginx'] as const).filter((k) => typeof p.images?.[k] !== 'string');
  if (missing.length > 0) throw new Error(`${file}: images.${missing.join(', images.')} missing; pin every image the lanes use`);
  return p;
}

export const PINNED: PinnedVersions = loadPinned(VERSIONS_FILE);

/** Every pinned istiod build, the lane's default first, each with its label. */
export function controlPlaneBuilds(p: PinnedVersions = PINNED): (ControlPlaneBuild & { label: string })[] {
  const first = { ...p.controlPlane, label: p.controlPlane.label ?? `master-${p.controlPlane.commitDate}` };
  const rest = Object.entries(p.controlPlaneBuilds ?? {})
    .filter((e): e is [string, ControlPlaneBuild] => !e[0].startsWith('$') && typeof e[1] === 'object')
    .map(([label, b]) => ({ ...b, label }));
  return [first, ...rest];
}
