// The kwokctl configuration the lane's cluster runs with: every component from a local binary (nothing
// downloaded), on 127.0.0.1, admission on (Istio's webhook must be called), and the three settings
// found necessary after a snapshot restore when kwok was first tried on this project's machines.
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { fakeNode, kwokctlConfigurationYaml, POD_CIDR, SERVICE_CIDR } from './config.ts';
import { snapshotKey } from './snapshot.ts';

const binaries = {
  etcd: '/b/etcd',
  etcdctl: '/b/etcdctl',
  etcdutl: '/b/etcdutl',
  kubeApiserver: '/b/kube-apiserver',
  kubeControllerManager: '/b/kube-controller-manager',
  kubeScheduler: '/b/kube-scheduler',
  kubectl: '/b/kubectl',
  kwok: '/b/kwok',
};

describe('kwokctl configuration', () => {
  const conf = parse(kwokctlConfigurationYaml({ binaries, kubeVersion: 'v1.35.4', etcdVersion: 'v3.6.5', cacheDir: '/w/cache' }));

  it('runs every component from the pinned local binaries on loopback, with admission on', () => {
    expect(conf).toMatchObject({ apiVersion: 'config.kwok.x-k8s.io/v1alpha1', kind: 'KwokctlConfiguration' });
    expect(conf.options).toMatchObject({
      runtime: 'binary',
      bindAddress: '127.0.0.1',
      kubeVersion: 'v1.35.4',
      etcdVersion: '3.6.5',
      kubeAdmission: true,
      kubeAuthorization: true,
      kubeApiserverBinary: '/b/kube-apiserver',
      kubeControllerManagerBinary: '/b/kube-controller-manager',
      kubeSchedulerBinary: '/b/kube-scheduler',
      kwokControllerBinary: '/b/kwok',
      etcdutlBinary: '/b/etcdutl',
    });
    const binaryFields = Object.keys(conf.options).filter((k) => k.endsWith('Binary'));
    expect(binaryFields.sort()).toEqual(
      [
        'etcdBinary',
        'etcdctlBinary',
        'etcdutlBinary',
        'kubeApiserverBinary',
        'kubeControllerManagerBinary',
        'kubeSchedulerBinary',
        'kubectlBinary',
        'kwokControllerBinary',
      ].sort(),
    );
  });

  it('restarts cleanly after a snapshot restore: no leader election, short node leases', () => {
    const patch = (name: string) => conf.componentsPatches.find((p: { name: string }) => p.name === name)?.extraArgs;
    expect(patch('kube-controller-manager')).toContainEqual({ key: 'leader-elect', value: 'false', override: false });
    expect(patch('kube-scheduler')).toContainEqual({ key: 'leader-elect', value: 'false', override: false });
    expect(patch('kube-apiserver')).toContainEqual({ key: 'service-cluster-ip-range', value: SERVICE_CIDR, override: false });
    expect(conf.options.nodeLeaseDurationSeconds).toBe(10);
  });

  it("the fake Node is kwok's and has a Pod range apart from the Service range", () => {
    const node = fakeNode();
    expect(node.metadata.annotations).toMatchObject({ 'kwok.x-k8s.io/node': 'fake' });
    expect(node.spec).toMatchObject({ podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] });
    expect(POD_CIDR.split('.')[1]).not.toBe(SERVICE_CIDR.split('.')[1]);
  });

  it("port forwards follow as kwok's ClusterPortForward documents: the namespace's Pods, one target per port", () => {
    const text = kwokctlConfigurationYaml({ binaries, kubeVersion: 'v1.35.4', etcdVersion: 'v3.6.5', cacheDir: '/w/cache' }, [
      { name: 'istiod', namespace: 'istio-system', ports: { 15012: '127.0.0.1:4012', 15014: '127.0.0.1:4014' } },
    ]);
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(['KwokctlConfiguration', 'ClusterPortForward']);
    expect(docs[1]).toEqual({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'ClusterPortForward',
      metadata: { name: 'istiod' },
      spec: {
        selector: { matchNamespaces: ['istio-system'] },
        forwards: [
          { ports: [15012], target: { address: '127.0.0.1', port: 4012 } },
          { ports: [15014], target: { address: '127.0.0.1', port: 4014 } },
        ],
      },
    });
  });

  it('etcd elects itself within 100 ms: a 10 ms tick and a 100 ms election timeout (default 100 ms and 1 s)', () => {
    const conf = parse(kwokctlConfigurationYaml({ binaries, kubeVersion: 'v1.35.4', etcdVersion: 'v3.6.5', cacheDir: '/w/cache' }));
    const etcd = conf.componentsPatches.find((p: { name: string }) => p.name === 'etcd');
    expect(etcd.extraArgs).toEqual(
      expect.arrayContaining([
        { key: 'heartbeat-interval', value: '10', override: false },
        { key: 'election-timeout', value: '100', override: false },
      ]),
    );
  });

  it('a snapshot key changes with the Istio build and the IstioOperator text', () => {
    const a = snapshotKey(['istio v1', 'operator x']);
    expect(snapshotKey(['istio v1', 'operator x'])).toBe(a);
    expect(snapshotKey(['istio v2', 'operator x'])).not.toBe(a);
    expect(snapshotKey(['istio v1', 'operator y'])).not.toBe(a);
  });
});
