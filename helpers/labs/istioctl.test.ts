// The candidate's istioctl on a live lab (issue #17, item 6): it finds istiod as on a cluster, by
// port-forwarding to the Running Pod labelled app=istiod on 15012 (istioctl/pkg/multixds/gather.go), which
// kwok leads to the local istiod (a ClusterPortForward: helpers/cluster/kwok/config.ts). So `proxy-status`
// answers from the real istiod: no proxy while none is connected, and a connected one listed. What reads
// Envoy's admin port on a Pod (`proxy-config`) cannot answer: kwok runs no Envoy, and says so.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { AdsClient } from '../lanes/control-plane/ads-client.ts';
import { findIstioctlBuildSync } from '../tools/pilot-locate.ts';
import { PINNED_PILOT } from '../tools/pilot-discovery.ts';
import { readWarm } from '../stack/warm.ts';
import { ClientNodeK8s } from '../k8s/client.ts';
import { labStart } from './session.ts';
import { readCurrent } from './live.ts';
import { labStackEnv, onWarmStack } from '../testing/lab-stack.ts';

const stack = labStackEnv('labs-istioctl-');
const quiet = { out: () => {}, err: () => {} };

async function istioctl(args: string[]): Promise<{ exitCode: number; output: string }> {
  const current = readCurrent(stack.env)!;
  const r = await execa(findIstioctlBuildSync(PINNED_PILOT, stack.env)!, args, {
    env: { ...stack.env, KUBECONFIG: current.kubeconfig, HOME: stack.dir },
    reject: false,
    all: true,
    timeout: 60_000,
  });
  return { exitCode: r.exitCode ?? -1, output: String(r.all) };
}

describe("the candidate's istioctl on a live lab", () => {
  onWarmStack(stack, () => {});

  it('analyze and proxy-status answer from the local istiod through the istiod Pod; proxy-config says no Envoy answers', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    expect(await labStart('tcp-trap-addresses', { io: quiet, env: stack.env })).toBe(0);

    // analyze reads the cluster through the API server: it answers (0: no issues, 79: issues found) about it.
    const analyze = await istioctl(['analyze', '-A']);
    expect([0, 79], analyze.output).toContain(analyze.exitCode);
    expect(analyze.output).toMatch(/\(Namespace frontend\)|No validation issues/);

    // No proxy is connected between gradings: istiod's answer is the empty table.
    const none = await istioctl(['proxy-status']);
    expect(none.exitCode, none.output).toBe(0);
    expect(none.output.trim().split('\n')).toEqual([expect.stringMatching(/^NAME\s+CLUSTER\s+ISTIOD\s+VERSION\s+SUBSCRIBED TYPES$/)]);

    // A proxy connected as pilot-agent connects one (its node carries PROXY_CONFIG, which istiod requires of
    // the proxies it lists: pilot/pkg/xds/statusgen.go isProxy) is listed by its Pod, with istiod's name.
    const warm = readWarm(stack.env)!;
    const pod = (await new ClientNodeK8s(warm.kubeconfig).listPods('frontend'))[0]!;
    const proxy = new AdsClient(warm.endpoints['istiod xDS (gRPC)']!, {
      namespace: 'frontend',
      ip: String((pod.status as { podIP?: string }).podIP),
      podName: pod.metadata.name,
      labels: {},
      istioVersion: warm.build.istioVersion,
      extraMetadata: { PROXY_CONFIG: { discoveryAddress: 'istiod.istio-system.svc:15012' } } as unknown as Record<string, string>,
    });
    try {
      await proxy.fetch({});
      const listed = await istioctl(['proxy-status']);
      expect(listed.exitCode, listed.output).toBe(0);
      expect(listed.output).toMatch(
        new RegExp(`^${pod.metadata.name}\\.frontend\\s+Kubernetes\\s+istiod-iec\\s+\\S+\\s+3 \\(CDS,LDS,RDS\\)`, 'm'),
      );
    } finally {
      proxy.close();
    }

    const config = await istioctl(['proxy-config', 'cluster', pod.metadata.name, '-n', 'frontend']);
    expect(config.exitCode).not.toBe(0);
    expect(config.output).toMatch(/no forward found for port 15000/);
  }, 300_000);
});
