// Locates and builds kwok's commands (kwokctl, kwok) and etcd's clients (etcdctl, etcdutl, which kwokctl
// runs for snapshots), from the wrapper modules helpers/tools/go/kwok and helpers/tools/go/etcdctl, into
// the per-machine tool cache next to kube-apiserver. KWOKCTL / KWOK / ETCDCTL / ETCDUTL override the cache.
import { join } from 'node:path';
import { EnvironmentError } from '../model/errors.ts';
import { buildWrapper, type WrapperBuild, type WrapperBuildOptions } from './go-wrapper.ts';
import { cacheDir, isExecutable } from './tool-cache.ts';
import { PINNED } from './versions.ts';

export type KwokProgram = 'kwokctl' | 'kwok' | 'etcdctl' | 'etcdutl';
export const KWOK_PROGRAMS: readonly KwokProgram[] = ['kwokctl', 'kwok', 'etcdctl', 'etcdutl'];

const SPEC: Record<KwokProgram, { module: 'kwok' | 'etcdctl'; pkg: string; env: string }> = {
  kwokctl: { module: 'kwok', pkg: 'sigs.k8s.io/kwok/cmd/kwokctl', env: 'KWOKCTL' },
  kwok: { module: 'kwok', pkg: 'sigs.k8s.io/kwok/cmd/kwok', env: 'KWOK' },
  etcdctl: { module: 'etcdctl', pkg: 'go.etcd.io/etcd/etcdctl/v3', env: 'ETCDCTL' },
  etcdutl: { module: 'etcdctl', pkg: 'go.etcd.io/etcd/etcdutl/v3', env: 'ETCDUTL' },
};

export function kwokProgramVersion(program: KwokProgram): string {
  return SPEC[program].module === 'kwok' ? PINNED.kubernetes.kwok : PINNED.kubernetes.etcd;
}

export function cachedKwokBinary(program: KwokProgram, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `${program}-${kwokProgramVersion(program)}`);
}

export function findKwokBinarySync(program: KwokProgram, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = SPEC[program].env;
  const override = env[name];
  if (override) {
    if (!isExecutable(override)) throw new EnvironmentError(`${name}=${override} is not an executable file; fix the path or unset ${name}`);
    return override;
  }
  const cached = cachedKwokBinary(program, env);
  return isExecutable(cached) ? cached : undefined;
}

export function missingKwokBinaryMessage(program: KwokProgram): string {
  return (
    `${program} ${kwokProgramVersion(program)} is not built (looked at $${SPEC[program].env} and ${cachedKwokBinary(program)}); ` +
    `run \`egress-conformance tools install ${program}\` (needs Go >= 1.26)`
  );
}

/** The one go build that makes `program` and the other missing programs of its module. */
export function kwokBuildFor(program: KwokProgram, env: NodeJS.ProcessEnv = process.env, force = false): WrapperBuild {
  const module = SPEC[program].module;
  const programs = KWOK_PROGRAMS.filter((p) => SPEC[p].module === module).filter(
    (p) => p === program || force || !isExecutable(cachedKwokBinary(p, env)),
  );
  return {
    module,
    ldflags: '-s -w',
    label: `${programs.join(', ')} ${kwokProgramVersion(program)}`,
    programs: programs.map((p) => ({ name: p, pkg: SPEC[p].pkg, target: cachedKwokBinary(p, env) })),
  };
}

export async function installKwokBinary(program: KwokProgram, opts: WrapperBuildOptions & { force?: boolean } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const target = cachedKwokBinary(program, env);
  if (!opts.force && isExecutable(target)) {
    (opts.onProgress ?? ((l: string) => process.stderr.write(`${l}\n`)))(
      `${program} ${kwokProgramVersion(program)} already installed at ${target}`,
    );
    return target;
  }
  await buildWrapper(kwokBuildFor(program, env, !!opts.force), opts);
  return target;
}

/** The cached binary, or a build of it when `build` is set; otherwise one line saying how to get it. */
export async function ensureKwokBinary(program: KwokProgram, opts: WrapperBuildOptions & { build?: boolean } = {}): Promise<string> {
  const found = findKwokBinarySync(program, opts.env);
  if (found) return found;
  if (!opts.build) throw new EnvironmentError(missingKwokBinaryMessage(program));
  return installKwokBinary(program, opts);
}
