// Which build a binary is, by the Go build info inside it (go-buildinfo.ts), checked against its pin; and
// the module sums of a build that fetched modules without the checksum database.
import { EnvironmentError, UserError } from '../model/errors.ts';
import { readGoBuildInfo, stampedIstioVersion, type GoBuildInfo } from './go-buildinfo.ts';
import { GO_PACKAGE, IMAGE_PREFIX, PINNED_BUILDS, pinnedBuildNames, type PilotDiscoveryPin, USER_PREFIX } from './pilot-discovery.ts';

/** What a binary's Go build info says it is, in words, e.g. `istio.io/istio v0.0.0-2026… (master-2026-04-23)`. */
export function describeBuild(info: GoBuildInfo): string {
  const stamped = stampedIstioVersion(info);
  const pinned = PINNED_BUILDS.find((b) => b.goModuleVersion === info.main.version);
  return `${info.path || 'a Go program'} from ${info.main.path || '?'} ${info.main.version || '?'}${stamped ? ` stamped ${stamped}` : ''}${pinned ? ` (pinned build ${pinned.label})` : ''}`;
}

/**
 * Checks by the Go build info inside the binary (never by a flag or its `version` output) that it is the
 * build the pin names: the istio.io/istio module version for a source build, the stamped release
 * version for one from Istio's image. A user-supplied binary must be the version the user asked for.
 * Returns the build info; throws when the binary is another build.
 */
export function verifyPilotBuild(path: string, pin: PilotDiscoveryPin, source: 'env' | 'cache' | 'path' | 'built'): GoBuildInfo {
  const info = readGoBuildInfo(path);
  const where = source === 'env' ? `PILOT_DISCOVERY=${path}` : path;
  const fix =
    source === 'env'
      ? `unset PILOT_DISCOVERY, or name its build with --istio-version (pinned builds: ${pinnedBuildNames()})`
      : `delete it and run \`egress-conformance tools install pilot-discovery --version ${pin.label ?? pin.goModuleVersion}\``;
  const Err = source === 'env' ? UserError : EnvironmentError;
  if (info.path !== GO_PACKAGE) throw new Err(`${where} is not pilot-discovery: its Go build info says ${describeBuild(info)}; ${fix}`);
  if (pin.goModuleVersion.startsWith(IMAGE_PREFIX) || pin.goModuleVersion.startsWith(USER_PREFIX)) {
    // A release build: Istio's Makefile stamps the version (pkg/version.buildVersion) into the binary.
    const stamped = stampedIstioVersion(info);
    if (stamped !== pin.istioVersion) {
      throw new Err(
        `${where} is ${describeBuild(info)}, not Istio ${pin.istioVersion}${stamped ? '' : ' (no release version stamped in it)'}; ${fix}`,
      );
    }
    return info;
  }
  if (info.main.path !== 'istio.io/istio' || info.main.version !== pin.goModuleVersion) {
    throw new Err(`${where} is ${describeBuild(info)}, not ${pin.label ?? ''} istio.io/istio ${pin.goModuleVersion}; ${fix}`);
  }
  return info;
}

/** Sums of modules fetched without the checksum database that differ from the ones recorded for the pin. */
export function unverifiedSumMismatches(info: GoBuildInfo, pin: PilotDiscoveryPin): string[] {
  const out: string[] = [];
  for (const [key, want] of Object.entries(pin.unverifiedSums ?? {})) {
    const at = key.lastIndexOf('@');
    const dep = info.deps.find((d) => d.path === key.slice(0, at) && d.version === key.slice(at + 1));
    // A module the program does not link (istioctl and pilot-discovery differ) has nothing to compare.
    if (dep && dep.sum !== want) out.push(`${key} has ${dep.sum ?? 'no sum'}, recorded ${want}`);
  }
  return out;
}

/** The modules of a build that the checksum database cannot vouch for (matched by the pin's GONOSUMDB). */
export function unverifiedModules(info: GoBuildInfo, pin: PilotDiscoveryPin): Record<string, string> {
  const prefixes = (pin.goEnv?.GONOSUMDB ?? '').split(',').filter(Boolean);
  const out: Record<string, string> = {};
  for (const d of [info.main, ...info.deps]) {
    if (d.sum && prefixes.some((p) => d.path === p || d.path.startsWith(`${p}/`))) out[`${d.path}@${d.version}`] = d.sum;
  }
  return out;
}
