// Istio versions are compared as semver (major.minor.patch, a pre-release sorts before its release),
// so a master build like `1.32.0-alpha.eed52ebb66ad` sits after 1.31.x and before 1.32.0.
import { UserError } from '../model/errors.ts';

export interface IstioVersion {
  major: number;
  minor: number;
  patch: number;
  pre: string;
  raw: string;
}

export function parseIstioVersion(raw: string, what = '--istio-version'): IstioVersion {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$/.exec(raw.trim());
  if (!m) throw new UserError(`${what}: "${raw}" is not an Istio version; use X.Y.Z, e.g. 1.30.3`);
  const v = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), pre: m[4] ?? '', raw };
  if (v.major !== 1) throw new UserError(`${what}: "${raw}" is not an Istio 1.x version`);
  return v;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: IstioVersion, b: IstioVersion): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] - b[k];
  if (a.pre === b.pre) return 0;
  if (!a.pre) return 1;
  if (!b.pre) return -1;
  return a.pre < b.pre ? -1 : 1;
}

export function atLeast(v: IstioVersion, than: string): boolean {
  return compareVersions(v, parseIstioVersion(than)) >= 0;
}
