// `egress-conformance tools install NAME`: fetch or build a pinned tool into the cache.
import { UserError } from '../../helpers/model/errors.ts';
import { findPinnedBuild, PINNED_PILOT, pinnedBuildNames, type PilotDiscoveryPin } from '../../helpers/tools/pilot-discovery.ts';
import { installPilotDiscovery } from '../../helpers/tools/pilot-install.ts';
import { resolveIstioctl } from '../../helpers/tools/istioctl.ts';
import { resolveKind } from '../../helpers/tools/kind.ts';
import { installKubeBinary, KUBE_PROGRAMS, type KubeProgram } from '../../helpers/tools/kube-builds.ts';

/** `--version`: a pinned istiod build by label or Go module version. */
function buildPin(name: string, version: string | undefined): PilotDiscoveryPin {
  if (version === undefined) return PINNED_PILOT;
  if (name !== 'pilot-discovery' && name !== 'istioctl-build')
    throw new UserError(`--version: only pilot-discovery and istioctl-build have pinned builds to choose from, not ${name}`);
  const pin = findPinnedBuild(version);
  if (!pin) throw new UserError(`--version: "${version}" is not a pinned istiod build; use one of ${pinnedBuildNames()}`);
  return pin;
}

export async function installTool(
  name: string,
  io: { out: (s: string) => void; err: (s: string) => void },
  opts: { version?: string } = {},
): Promise<number> {
  const pin = buildPin(name, opts.version);
  switch (name) {
    case 'pilot-discovery': {
      const path = await installPilotDiscovery({ onProgress: io.err, pin });
      io.out(path);
      return 0;
    }
    case 'istioctl-build': {
      // istioctl of the control-plane lane's pinned build, for offline `istioctl validate` in the tests.
      const path = await installPilotDiscovery({ onProgress: io.err, program: 'istioctl', pin });
      io.out(path);
      return 0;
    }
    case 'istioctl': {
      const t = await resolveIstioctl();
      io.out(`${t.path} (${t.version}, from ${t.source})`);
      return 0;
    }
    case 'simulator': {
      // Istio's pilot/pkg/simulation at the pinned build, the fuzzer's referee for the evaluator.
      const { installSimulator } = await import('../../helpers/tools/simulator.ts');
      io.out(await installSimulator({ onProgress: io.err }));
      return 0;
    }
    case 'kind': {
      const t = await resolveKind();
      io.out(`${t.path} (${t.version}, from ${t.source})`);
      return 0;
    }
    case 'kwokctl':
    case 'kwok':
    case 'etcdctl':
    case 'etcdutl': {
      // kwok's commands and etcd's clients (snapshots), for the control-plane lane's kwok cluster.
      const { installKwokBinary } = await import('../../helpers/tools/kwok-builds.ts');
      io.out(await installKwokBinary(name, { onProgress: io.err }));
      return 0;
    }
    case 'etcd':
    case 'kube-apiserver':
    case 'kube-controller-manager':
    case 'kube-scheduler':
    case 'kubectl': {
      // The control-plane lane's cluster (etcd, kube-apiserver, controller-manager, scheduler) and kubectl,
      // built from the Go module proxy; what shares the kube module is built by one go build.
      const path = await installKubeBinary(name as KubeProgram, { onProgress: io.err });
      io.out(path);
      return 0;
    }
    default:
      throw new UserError(
        `tools install: "${name}" is not a tool this suite pins; use pilot-discovery, istioctl-build, istioctl, kind, ${KUBE_PROGRAMS.join(', ')}, kwokctl, kwok, etcdctl, etcdutl or simulator`,
      );
  }
}
