// Locates and builds the Kubernetes control-plane binaries of the control-plane lane: etcd,
// kube-apiserver, and kubectl for exam labs. Neither project publishes an installable main on the Go
// module proxy, so each is built from a wrapper module in helpers/tools/go/ (go.mod and go.sum committed:
// the checksums of what was built are part of the project), cached per machine next to pilot-discovery.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { EnvironmentError } from '../model/errors.ts';
import { cacheDir, fmtElapsed, GO_BUILD_TIMEOUT_MS, isExecutable, runBuild } from './resolve.ts';
import { PINNED } from './versions.ts';

export type KubeProgram = 'etcd' | 'kube-apiserver' | 'kubectl';
export const KUBE_PROGRAMS: readonly KubeProgram[] = ['etcd', 'kube-apiserver', 'kubectl'];

interface BuildSpec {
  /** Wrapper module folder under helpers/tools/go/. */
  module: string;
  /** Package to build, from that module's dependencies. */
  pkg: string;
  version: string;
  ldflags: string;
}

export const GO_WRAPPERS_DIR = fileURLToPath(new URL('./go/', import.meta.url));

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

/** ETCD / KUBE_APISERVER / KUBECTL override the cache, as PILOT_DISCOVERY does for istiod. */
const ENV_OVERRIDE: Record<KubeProgram, string> = { etcd: 'ETCD', 'kube-apiserver': 'KUBE_APISERVER', kubectl: 'KUBECTL' };

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
 * Builds one program into a temp dir inside the cache, then renames it into place so a concurrent reader
 * never runs half a binary. CGO off and -trimpath: a static binary that does not depend on this machine.
 */
export async function installKubeBinary(program: KubeProgram, opts: KubeInstallOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const say = opts.onProgress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const spec = buildSpec(program);
  const target = cachedKubeBinary(program, env);
  if (!opts.force && isExecutable(target)) {
    say(`${program} ${spec.version} already installed at ${target}`);
    return target;
  }
  const go = await execa('go', ['version'], { reject: false, env });
  if (go.failed)
    throw new EnvironmentError(
      `building ${program} needs the Go toolchain (\`go\` not found on PATH); install Go >= 1.25 from https://go.dev/dl/`,
    );
  const dir = cacheDir(env);
  mkdirSync(dir, { recursive: true });
  const out = await mkdtemp(join(dir, `.build-${program}-`));
  const started = Date.now();
  say(`building ${program} ${spec.version} from helpers/tools/go/${spec.module} with ${go.stdout.trim()}`);
  try {
    const r = await runBuild(
      'go',
      ['build', '-trimpath', '-ldflags', spec.ldflags, '-o', join(out, program), spec.pkg],
      {
        ...env,
        CGO_ENABLED: '0',
        GOFLAGS: '-mod=readonly',
      },
      {
        timeoutMs: GO_BUILD_TIMEOUT_MS,
        onProgress: say,
        cwd: join(GO_WRAPPERS_DIR, spec.module),
        ...(opts.tickMs ? { tickMs: opts.tickMs } : {}),
      },
    );
    if (!r.ok) {
      throw new EnvironmentError(
        `building ${program} ${spec.version} ${r.timedOut ? `timed out after ${fmtElapsed(GO_BUILD_TIMEOUT_MS)}` : `failed (exit ${r.exitCode})`}:\n${r.tail}`,
      );
    }
    if (!existsSync(join(out, program))) throw new EnvironmentError(`go build finished but ${join(out, program)} is missing`);
    renameSync(join(out, program), target);
    say(`built ${program} ${spec.version} in ${fmtElapsed(Date.now() - started)} → ${target}`);
    return target;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The cached binary, or a build of it when `build` is set; otherwise one line saying how to get it. */
export async function ensureKubeBinary(program: KubeProgram, opts: KubeInstallOptions & { build?: boolean } = {}): Promise<string> {
  const found = findKubeBinarySync(program, opts.env);
  if (found) return found;
  if (!opts.build) throw new EnvironmentError(missingKubeBinaryMessage(program));
  return installKubeBinary(program, opts);
}
