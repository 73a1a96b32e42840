// Pure pieces of the kind lane: the CoreDNS patch, pod and deployment readiness.
import { describe, expect, it } from 'vitest';
import { patchCorefile } from '../../../clusters/coredns-hosts.ts';
import { deploymentReady } from './phases/cluster.ts';
import { podReadiness } from './phases/workloads.ts';

const COREFILE = `.:53 {
    errors
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . /etc/resolv.conf
    cache 30
}
`;

describe('CoreDNS hosts patch', () => {
  const entries = [
    { host: 'db.example.com', ip: '172.18.0.3' },
    { host: 'api.example.com', ip: '172.18.0.4' },
  ];

  it('puts a hosts block with fallthrough before the kubernetes plugin and sets its ttl to 0', () => {
    const out = patchCorefile(COREFILE, entries);
    expect(out).toMatch(
      /hosts \{\n\s+172\.18\.0\.3 db\.example\.com\n\s+172\.18\.0\.4 api\.example\.com\n\s+ttl 1\n\s+fallthrough\n\s+\}[\s\S]*\n\s+kubernetes cluster\.local/,
    );
    expect(out).toMatch(/^\s+ttl 0$/m);
    expect(out).not.toMatch(/^\s+ttl 30$/m);
    // hosts' own ttl must be 1..65535 (CoreDNS rejects 0).
    expect(out).not.toMatch(/hosts \{[^}]*ttl 0/);
    expect(out).toContain('cache 30');
  });

  it('is idempotent: a second patch (reused cluster, new IPs) replaces the block', () => {
    const once = patchCorefile(COREFILE, entries);
    const twice = patchCorefile(once, [{ host: 'db.example.com', ip: '172.18.0.9' }]);
    expect(twice.match(/hosts \{/g)).toHaveLength(1);
    expect(twice).toContain('172.18.0.9 db.example.com');
    expect(twice).not.toContain('172.18.0.3');
  });

  it('refuses a Corefile without a kubernetes plugin', () => {
    expect(() => patchCorefile('.:53 {\n  forward . 8.8.8.8\n}\n', entries)).toThrow(/kubernetes/);
  });
});

describe('readiness', () => {
  const pod = (statuses: { name: string; ready: boolean; reason?: string }[], containers = ['curl', 'psql'], init: string[] = []) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'frontend' },
    spec: { containers: containers.map((name) => ({ name })), initContainers: init.map((name) => ({ name })) },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: statuses.every((s) => s.ready) ? 'True' : 'False' }],
      containerStatuses: statuses.map((s) => ({ name: s.name, ready: s.ready, state: s.reason ? { waiting: { reason: s.reason } } : {} })),
    },
  });

  it('waits for every named container, istio-proxy as a native sidecar included', () => {
    expect(
      podReadiness(
        pod(
          [
            { name: 'curl', ready: true },
            { name: 'psql', ready: true },
            { name: 'istio-proxy', ready: true },
          ],
          ['curl', 'psql'],
          ['istio-proxy'],
        ),
        ['curl', 'psql', 'istio-proxy'],
      ).ready,
    ).toBe(true);
    expect(
      podReadiness(
        pod(
          [
            { name: 'curl', ready: true },
            { name: 'psql', ready: false },
            { name: 'istio-proxy', ready: true },
          ],
          ['curl', 'psql', 'istio-proxy'],
        ),
        ['curl', 'psql', 'istio-proxy'],
      ).ready,
    ).toBe(false);
  });

  it('fails at once when the sidecar was not injected or an image cannot be pulled', () => {
    expect(
      podReadiness(
        pod([
          { name: 'curl', ready: true },
          { name: 'psql', ready: true },
        ]),
        ['curl', 'psql', 'istio-proxy'],
      ),
    ).toMatchObject({ fatal: true, state: expect.stringMatching(/not injected/) });
    expect(
      podReadiness(
        pod([
          { name: 'curl', ready: false, reason: 'ImagePullBackOff' },
          { name: 'psql', ready: true },
        ]),
        ['curl', 'psql'],
      ),
    ).toMatchObject({ fatal: true });
  });

  it('a deployment counts once its rollout is complete', () => {
    const d = (status: Record<string, number>, generation = 2) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', generation },
      spec: { replicas: 2 },
      status,
    });
    expect(deploymentReady(d({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }))).toBe(true);
    expect(deploymentReady(d({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }))).toBe(false);
    expect(deploymentReady(d({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }))).toBe(false);
    expect(deploymentReady(undefined)).toBe(false);
  });
});
