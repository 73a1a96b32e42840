// The kwokctl configuration of the lane's cluster and the fake Node its Pods run on (pure: no I/O).
//
// Facts from kwok v0.8.0 (sigs.k8s.io/kwok, pkg/apis/config/v1alpha1/kwokctl_configuration_types.go and
// pkg/config/vars.go), checked on this project's machines when kwok was first tried here:
// - `runtime: binary` runs every component as a local process; with every *Binary field naming a local
//   file, nothing is downloaded.
// - bindAddress defaults to 0.0.0.0; 127.0.0.1 keeps every component off the network.
// - After a snapshot restore the restarted controllers find leases held by the processes before it;
//   leader election off and short node leases let them start working at once.
// - kwok's default Pod range overlaps the default Service range, so the Node carries its own podCIDR.
// - `kubectl port-forward` to a Pod reaches the kwok controller, which plays the Node's kubelet
//   (pkg/kwok/server/debugging_port_forword.go): a ClusterPortForward whose selector matches the Pod and
//   whose forward lists the port dials the forward's target address instead. Given as documents of the
//   kwokctl config file, kwokctl copies them into the controller's own config (runtime/cluster.go Save:
//   kinds not enabled as CRDs stay config), which the controller reads once, at start; so nothing shows in
//   the cluster's API and the targets must be known before the cluster starts.
import { stringify } from 'yaml';
import type { K8sObject } from '../../k8s/client.ts';

export interface KwokBinaries {
  etcd: string;
  etcdctl: string;
  etcdutl: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
}

export interface KwokConfigInput {
  binaries: KwokBinaries;
  /** e.g. v1.35.4 */
  kubeVersion: string;
  /** e.g. v3.6.5 */
  etcdVersion: string;
  /** Where kwokctl keeps its cache (empty: nothing is downloaded, but the folder must be ours). */
  cacheDir: string;
  /**
   * Free loopback ports, one per listener. kwokctl's own choice starts from a fixed number (32765 down)
   * and two clusters made at once were seen taking the same port: one run then talked to the other's
   * API server.
   */
  ports?: {
    kubeApiserver: number;
    etcd: number;
    etcdPeer: number;
    kubeControllerManager: number;
    kubeScheduler: number;
    kwokController: number;
  };
}

/** Connections to these ports of the Pods of a namespace go to local addresses instead (kwok's ClusterPortForward). */
export interface PodPortForward {
  /** The kwok object's name. */
  name: string;
  namespace: string;
  /** Pod port → host:port on this machine. */
  ports: Record<number, string>;
}

export const SERVICE_CIDR = '10.96.0.0/16';
export const POD_CIDR = '10.244.0.0/24';
export const NODE_NAME = 'egress-conformance-node';

export function kwokctlConfiguration(c: KwokConfigInput): Record<string, unknown> {
  const b = c.binaries;
  // override false: appended (override true only replaces a flag kwokctl already passes; util.go applyComponentArgsOverride).
  const arg = (key: string, value: string) => ({ key, value, override: false });
  return {
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokctlConfiguration',
    options: {
      runtime: 'binary',
      bindAddress: '127.0.0.1',
      kubeVersion: c.kubeVersion,
      etcdVersion: c.etcdVersion.replace(/^v/, ''),
      cacheDir: c.cacheDir,
      quietPull: true,
      etcdBinary: b.etcd,
      etcdctlBinary: b.etcdctl,
      etcdutlBinary: b.etcdutl,
      kubeApiserverBinary: b.kubeApiserver,
      kubeControllerManagerBinary: b.kubeControllerManager,
      kubeSchedulerBinary: b.kubeScheduler,
      kubectlBinary: b.kubectl,
      kwokControllerBinary: b.kwok,
      // Admission on: Istio's validating webhook must be called at `kubectl apply` (with admission off,
      // kwokctl passes --admission-control= and no webhook is ever called: components/kube_apiserver.go).
      securePort: true,
      kubeAuthorization: true,
      kubeAdmission: true,
      nodeLeaseDurationSeconds: 10,
      ...(c.ports
        ? {
            kubeApiserverPort: c.ports.kubeApiserver,
            etcdPort: c.ports.etcd,
            etcdPeerPort: c.ports.etcdPeer,
            kubeControllerManagerPort: c.ports.kubeControllerManager,
            kubeSchedulerPort: c.ports.kubeScheduler,
            kwokControllerPort: c.ports.kwokController,
          }
        : {}),
      heartbeatFactor: 1,
    },
    componentsPatches: [
      { name: 'kube-apiserver', extraArgs: [arg('service-cluster-ip-range', SERVICE_CIDR)] },
      { name: 'kube-controller-manager', extraArgs: [arg('leader-elect', 'false')] },
      { name: 'kube-scheduler', extraArgs: [arg('leader-elect', 'false')] },
      // Throw-away data: no fsync makes every API write faster.
      // A single member elects itself only after a random 1 to 10 ticks (raft's election timeout is drawn from
      // [timeout, 2 × timeout) and etcd fast-forwards timeout - 1 ticks: etcdserver/server.go adjustTicks), and
      // serves no client before that: 0.1-1.0 s at the default 100 ms tick, 10-100 ms at a 10 ms tick. No peer
      // ever exists here, so the shorter timeout cannot cause a needless election.
      {
        name: 'etcd',
        extraArgs: [arg('unsafe-no-fsync', 'true'), arg('heartbeat-interval', '10'), arg('election-timeout', '100')],
      },
    ],
  };
}

/** kwok's ClusterPortForward for one forward (kwok.x-k8s.io/v1alpha1; one Forward per port, a Target each). */
export function clusterPortForward(f: PodPortForward): Record<string, unknown> {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterPortForward',
    metadata: { name: f.name },
    spec: {
      selector: { matchNamespaces: [f.namespace] },
      forwards: Object.entries(f.ports).map(([port, target]) => {
        const at = target.lastIndexOf(':');
        return { ports: [Number(port)], target: { address: target.slice(0, at), port: Number(target.slice(at + 1)) } };
      }),
    },
  };
}

export function kwokctlConfigurationYaml(c: KwokConfigInput, forwards: PodPortForward[] = []): string {
  return [kwokctlConfiguration(c), ...forwards.map(clusterPortForward)].map((d) => stringify(d)).join('---\n');
}

/**
 * The Node every Pod is scheduled to: kwok manages Nodes with this annotation (its default
 * manage-nodes-with-annotation-selector), and gives their Pods IPs from the Node's podCIDR.
 */
export function fakeNode(): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE_NAME,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    spec: { podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] },
  };
}
