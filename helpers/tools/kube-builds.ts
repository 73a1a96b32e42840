// Locates and builds the Kubernetes binaries of the control-plane lane's kwok cluster: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kubectl (kwokctl runs them; labs use
// kubectl). Neither project publishes an installable main on the Go module proxy, so each is built from
// a wrapper module in helpers/tools/go/ (go.mod and go.sum committed: the checksums of what was built are
// part of the project), cached per machine next to pilot-discovery.
import { join } from 'node:path';
import { EnvironmentError } from '../model/errors.ts';
import { buildWrapper, GO_WRAPPERS_DIR, type WrapperBuild } from './go-wrapper.ts';
import { cacheDir, isExecutable } from './tool-cache.ts';
import { PINNED } from './versions.ts';

export type KubeProgram = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl';
export const KUBE_PROGRAMS: readonly KubeProgram[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];

interface BuildSpec {
  /** Wrapper module folder under helpers/tools/go/. */
  module: string;
  /** Package to build, from that module's dependencies. */
  pkg: string;
  version: string;
  ldflags: string;
}

export { GO_WRAPPERS_DIR };

export function buildSpec(program: KubeProgram): BuildSpec {
  const k = PINNED.kubernetes;
  if (program === 'etcd') return { module: 'etcd', pkg: '.', version: k.etcd, ldflags: '-s -w' };
  const [major, minor] = k.version.replace(/^v/, '').split('.');
  // istioctl (and kubectl's version skew check) read the server version; an unstamped build says v0.0.0.
  const stamp = [`gitVersion=${k.version}`, `gitMajor=${major}`, `gitMinor=${minor}`, 'gitTreeState=clean']
    .map((kv) => `-X k8s.io/component-base/version.${kv}`)
    .join(' ');
  return { module: 'kube', pkg: `k8s.io/kubernetes/cmd/${program}`, version: k.version, ldflags: `-s -w ${stamp}` };
}

export function cachedKubeBinary(program: KubeProgram, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `${program}-${buildSpec(program).version}`);
}

/** ETCD / KUBE_APISERVER / ... / KUBECTL override the cache, as PILOT_DISCOVERY does for istiod. */
const ENV_OVERRIDE: Record<KubeProgram, string> = {
  etcd: 'ETCD',
  'kube-apiserver': 'KUBE_APISERVER',
  'kube-controller-manager': 'KUBE_CONTROLLER_MANAGER',
  'kube-scheduler': 'KUBE_SCHEDULER',
  kubectl: 'KUBECTL',
};

export function findKubeBinarySync(program: KubeProgram, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env[ENV_OVERRIDE[program]];
  if (override) {
    if (!isExecutable(override))
      throw new EnvironmentError(
        `${ENV_OVERRIDE[program]}=${override} is not an executable file; fix the path or unset ${ENV_OVERRIDE[program]}`,
      );
    return override;
  }
  const cached = cachedKubeBinary(program, env);
  return isExecutable(cached) ? cached : undefined;
}

export function missingKubeBinaryMessage(program: KubeProgram): string {
  return (
    `${program} ${buildSpec(program).version} is not built (looked at $${ENV_OVERRIDE[program]} and ${cachedKubeBinary(program)}); ` +
    `run \`egress-conformance tools install ${program}\` (needs Go)`
  );
}

export interface KubeInstallOptions {
  onProgress?: (line: string) => void;
  force?: boolean;
  tickMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * The one go build that makes `program` and every other program of its wrapper module not cached yet
 * (kube-apiserver, kube-controller-manager, kube-scheduler and kubectl share the kube module: their
 * common packages compile once).
 */
export function kubeBuildFor(program: KubeProgram, env: NodeJS.ProcessEnv = process.env, force = false): WrapperBuild {
  const spec = buildSpec(program);
  const programs = KUBE_PROGRAMS.filter((p) => buildSpec(p).module === spec.module).filter(
    (p) => p === program || (!force && !isExecutable(cachedKubeBinary(p, env))),
  );
  return {
    module: spec.module,
    ldflags: spec.ldflags,
    label: `${programs.join(', ')} ${spec.version}`,
    programs: programs.map((p) => ({ name: p, pkg: buildSpec(p).pkg, target: cachedKubeBinary(p, env) })),
  };
}

/** Builds into the cache (see go-wrapper.ts); a program already cached is only reported. */
export async function installKubeBinary(program: KubeProgram, opts: KubeInstallOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const say = opts.onProgress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const target = cachedKubeBinary(program, env);
  if (!opts.force && isExecutable(target)) {
    say(`${program} ${buildSpec(program).version} already installed at ${target}`);
    return target;
  }
  await buildWrapper(kubeBuildFor(program, env, !!opts.force), { onProgress: say, env, ...(opts.tickMs ? { tickMs: opts.tickMs } : {}) });
  return target;
}

/** The cached binary, or a build of it when `build` is set; otherwise one line saying how to get it. */
export async function ensureKubeBinary(program: KubeProgram, opts: KubeInstallOptions & { build?: boolean } = {}): Promise<string> {
  const found = findKubeBinarySync(program, opts.env);
  if (found) return found;
  if (!opts.build) throw new EnvironmentError(missingKubeBinaryMessage(program));
  return installKubeBinary(program, opts);
}
