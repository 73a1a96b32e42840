// The pinned istiod (pilot-discovery) builds the control-plane lane runs, every one in fixtures/versions.json,
// and the other pins it takes: a release copied out of Istio's image, or a binary the user supplies. A
// `go install` build reports `Version:"unknown"` from `pilot-discovery version`, so which build a binary is
// comes from the Go build info inside it (pilot-verify.ts): the istio.io/istio module version, or the release
// version stamped into an official build.
import { controlPlaneBuilds } from './versions.ts';

export interface PilotDiscoveryPin {
  /** Go module version of istio.io/istio, e.g. `v0.0.0-20260827124520-eed52ebb66ad`. */
  goModuleVersion: string;
  /** The Istio version this build stands for, e.g. `1.32.0-alpha.eed52ebb66ad`. */
  istioVersion: string;
  commit: string;
  /** Short name of a pinned build, e.g. `master-2026-04-23`. */
  label?: string;
  /** Extra environment for `go install` (GONOSUMDB for modules the checksum database lacks). */
  goEnv?: Record<string, string>;
  /** `path@version` → h1: sum recorded from the first build of modules fetched without the checksum database. */
  unverifiedSums?: Record<string, string>;
}

/** Every pinned istiod build (fixtures/versions.json), the lane's default first. */
export const PINNED_BUILDS: readonly PilotDiscoveryPin[] = controlPlaneBuilds().map((b) => ({
  goModuleVersion: b.goModuleVersion,
  istioVersion: b.istioVersion,
  commit: b.commit,
  label: b.label,
  ...(b.goEnv ? { goEnv: b.goEnv } : {}),
  ...(b.unverifiedSums ? { unverifiedSums: b.unverifiedSums } : {}),
}));

export const PINNED_PILOT: PilotDiscoveryPin = PINNED_BUILDS[0]!;

/** The pinned build named by its label, Go module version, commit or oracle version; undefined when none is. */
export function findPinnedBuild(id: string): PilotDiscoveryPin | undefined {
  return PINNED_BUILDS.find((b) => id === b.label || id === b.goModuleVersion || id === b.istioVersion || id === b.commit);
}

export function pinnedBuildNames(): string {
  return PINNED_BUILDS.map((b) => `${b.label} (${b.goModuleVersion}, rules of ${b.istioVersion})`).join(', ');
}

export const GO_PACKAGE = 'istio.io/istio/pilot/cmd/pilot-discovery';

/** Istio programs built from the same pinned module version: istiod, and istioctl (used offline for `validate`). */
export const GO_PROGRAMS = { 'pilot-discovery': GO_PACKAGE, istioctl: 'istio.io/istio/istioctl/cmd/istioctl' } as const;
export type GoProgram = keyof typeof GO_PROGRAMS;

/** A pin for a release taken from Istio's pilot image (where Docker exists), e.g. `image:1.30.3`. */
export const IMAGE_PREFIX = 'image:';

/** A pin for a binary the user supplies in PILOT_DISCOVERY for a release version: its build info must say that version. */
export const USER_PREFIX = 'user-supplied:';

export function userPin(istioVersion: string, path: string): PilotDiscoveryPin {
  return { goModuleVersion: `${USER_PREFIX}${path}`, istioVersion, commit: `release ${istioVersion}` };
}

export function imagePin(istioVersion: string): PilotDiscoveryPin {
  return { goModuleVersion: `${IMAGE_PREFIX}${istioVersion}`, istioVersion, commit: `release ${istioVersion}` };
}
