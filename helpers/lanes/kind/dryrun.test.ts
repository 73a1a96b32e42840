// The dry run prints what a run would do, from the same step builders KindLane executes, and executes nothing.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue } from '../../catalogue/load.ts';
import { PINNED } from '../../tools/versions.ts';
import { buildPlan, REPO_ROOT } from './plan.ts';
import { renderDryRun } from './render.ts';
import { SCENARIOS, cases, standinToolkit } from './testdata/standins.ts';

const WORK = '/tmp/egress-conformance-dry';

function render(extra: Partial<Parameters<typeof buildPlan>[0]> = {}) {
  const plan = buildPlan({ cases: cases(), runId: 'dry-1', workDir: WORK, probeCommands: standinToolkit, ...extra });
  return { plan, text: renderDryRun(plan) };
}

describe('kind lane dry run', () => {
  it('prints kind create with the pinned digest image and the run\'s own kubeconfig', () => {
    const { text } = render();
    expect(text).toContain(
      `$ kind create cluster --name egress-conformance --config ${join(REPO_ROOT, 'clusters', 'kind.yaml')} ` +
        `--image ${PINNED.kindNodeImage} --kubeconfig ${WORK}/kubeconfig --wait 180s`,
    );
    expect(text).toContain(`every command runs with KUBECONFIG=${WORK}/kubeconfig`);
    expect(text).toMatch(/\$ docker info --format/);
    expect(text).toContain(`resolve kind ${PINNED.kind}`);
    expect(text).toContain(`resolve istioctl ${PINNED.istio}`);
  });

  it('prints one istioctl install per policy, in order, each followed by the istiod, webhook and mesh checks', () => {
    const { text } = render();
    const installs = text.split('\n').filter((l) => l.includes('$ istioctl install'));
    expect(installs).toHaveLength(2);
    expect(installs[0]).toContain(`-f ${join(REPO_ROOT, 'fixtures', 'istio', 'ALLOW_ANY.yaml')} --kubeconfig ${WORK}/kubeconfig --readiness-timeout`);
    expect(installs[1]).toContain('REGISTRY_ONLY.yaml');
    expect(text).toMatch(/istioctl install[^\n]*ALLOW_ANY[^\n]*\n\s+wait for Deployment istio-system\/istiod available[^\n]*\n\s+wait until the validating webhook answers[^\n]*\n\s+read ConfigMap istio-system\/istio key mesh: outboundTrafficPolicy.mode must be ALLOW_ANY/);
  });

  it('prints every manifest: namespaces, client pods, each scenario resource, apply and delete', () => {
    const { text } = render();
    for (const ns of ['frontend', 'default', 'egress-control']) {
      expect(text).toContain(`apply Namespace ${ns}:`);
      expect(text).toContain(`apply (if absent; recreated if its egress-conformance.io/client-hash differs) Pod ${ns}/egress-client:`);
    }
    expect(text).toMatch(/apply ServiceEntry frontend\/db-external:\n\s+apiVersion: networking.istio.io\/v1\n\s+kind: ServiceEntry[\s\S]*?- db\.example\.com/);
    expect(text.match(/apply ServiceEntry frontend\/db-external:/g)).toHaveLength(2);
    expect(text.match(/delete ServiceEntry frontend\/db-external and wait until gone/g)).toHaveLength(2);
    expect(text).toContain(`image: ${PINNED.images.curl}`);
    expect(text).toContain(`proxy.istio.io/config: '{"holdApplicationUntilProxyStarts": true}'`);
    // Servers, with the run label, and the CoreDNS entries filled at run time.
    expect(text).toMatch(/\$ docker create --name egress-conformance-dry-1-db --network kind --label egress-conformance.run=dry-1 .*postgres/);
    expect(text).toContain('<<ip.db>> db.example.com');
    expect(text).toContain('<<ip.web>> unlisted.example.com');
    expect(text).toContain('proxy_pass egress-conformance-dry-1-db:5432;');
    // Probes and their control.
    expect(text).toContain('probe ALLOW_ANY/db-serviceentry/frontend→tcp://db.example.com:5432');
    expect(text).toContain('exec in frontend/egress-client [psql]: pg_isready -h db.example.com -p 5432');
    expect(text).toContain('control: same in egress-control/egress-client [psql]');
    // Teardown last.
    expect(text.trimEnd()).toMatch(/\[\d+\/\d+\] teardown:[\s\S]*\$ kind delete cluster --name egress-conformance --kubeconfig \/tmp\/egress-conformance-dry\/kubeconfig[\s\S]*rm -rf \/tmp\/egress-conformance-dry[\s\S]*also runs on failure/);
  });

  it('with preloadImages, loads the client and Istio images into the new cluster', () => {
    const { text } = render({ preloadImages: true });
    expect(text).toContain(`$ kind load docker-image --name egress-conformance ${PINNED.images.curl} ${PINNED.images.postgres} docker.io/istio/pilot:${PINNED.istio} docker.io/istio/proxyv2:${PINNED.istio}`);
    expect(render().text).not.toContain('kind load');
  });

  it('--keep and --reuse show in the plan', () => {
    const keep = render({ keep: true }).text;
    expect(keep).not.toContain('$ kind delete cluster');
    // The kept cluster's CoreDNS points at the server containers: they are kept too, and the plan says how to remove both.
    expect(keep).not.toContain('docker rm -f -v');
    expect(keep).toContain('teardown (--keep): keep cluster egress-conformance and this run\'s server containers');
    expect(keep).toContain('Remove them with: kind delete cluster --name egress-conformance && docker rm -f $(docker ps -aq --filter label=egress-conformance.run=dry-1)');
    expect(keep).toContain(`rm -rf ${WORK}`);
    const reuse = render({ reuse: true }).text;
    expect(reuse).toContain('reuse it only if it holds ConfigMap kube-system/egress-conformance-owner');
    expect(reuse).toContain(`$ kind export kubeconfig --name egress-conformance --kubeconfig ${WORK}/kubeconfig`);
  });

  it('a scenario with its own meshConfig gets a generated IstioOperator, printed, and fresh clients', () => {
    const dns = { ...SCENARIOS[1], name: 'dns-capture', resources: { ...SCENARIOS[1].resources, mesh: { meshConfig: { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } } } } } };
    const runs = cases([SCENARIOS[0], dns]).filter((c) => c.policy === 'REGISTRY_ONLY');
    const { text } = render({ cases: runs });
    const block = /write (\S+\/istio-REGISTRY_ONLY-[0-9a-f]{6}\.yaml):\n((?:\s+\|.*\n)+)/.exec(text);
    expect(block?.[1].startsWith(WORK)).toBe(true);
    expect(block?.[2]).toContain('ISTIO_META_DNS_CAPTURE: "true"');
    expect(block?.[2]).toContain('mode: REGISTRY_ONLY');
    expect(text).toContain(`$ istioctl install -y -f ${block?.[1]} `);
    expect(text.split('\n').filter((l) => l.includes('$ istioctl install'))).toHaveLength(2);
    expect(text).toContain('clients: recreate');
  });

  it('the DNS step says what the Corefile gets: hosts ttl 1 (0 is rejected), kubernetes plugin ttl 0', () => {
    const { text } = render();
    expect(text).toMatch(/\] dns: CoreDNS hosts entries for the external hosts \(hosts ttl 1, kubernetes plugin ttl 0\)/);
    expect(text).not.toMatch(/TTL 0/);
  });

  it('renders the real catalogue with the real probe commands: every resource applied and deleted', () => {
    const scenarios = loadCatalogue();
    const plan = buildPlan({ cases: expandCases(scenarios), runId: 'dry-2', workDir: WORK });
    const text = renderDryRun(plan);
    for (const s of scenarios) {
      for (const r of [...s.resources.serviceEntries, ...s.resources.sidecars]) {
        const ns = (r.manifest as { metadata?: { namespace?: string } }).metadata?.namespace ?? r.namespace;
        expect(text).toContain(`apply ${r.kind} ${ns}/${r.name}:`);
        expect(text).toContain(`delete ${r.kind} ${ns}/${r.name}`);
      }
    }
    expect(text.split('\n').filter((l) => l.includes('$ istioctl install'))).toHaveLength(2);
    expect(text).toMatch(/exec in frontend\/egress-client \[psql\]: psql /);
    expect(text).toMatch(/exec in frontend\/egress-client \[curl\]: curl /);
  });
});
