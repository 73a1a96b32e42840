// The dry run drives KindLane with the recording runner, as the suite drives it, and executes nothing.
// What it prints is what a run issues: the last test runs the lane against shims and compares.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue } from '../../catalogue/load.ts';
import { PINNED } from '../../tools/versions.ts';
import { REPO_ROOT } from './context.ts';
import { dryRun, driveLikeSuite } from './dry-run.ts';
import type { TraceEntry } from './runner.ts';
import { harness } from './testdata/harness.ts';
import { SCENARIOS, cases, standinToolkit } from './testdata/standins.ts';

const WORK = '/tmp/egress-conformance-dry';

/** A scenario with its own meshConfig (DNS capture): its own IstioOperator, and clients made anew. */
const DNS_CAPTURE = {
  ...SCENARIOS[1],
  name: 'dns-capture',
  resources: {
    ...SCENARIOS[1].resources,
    mesh: { meshConfig: { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } } } },
  },
};

async function render(extra: Partial<Parameters<typeof dryRun>[0]> = {}) {
  return (await dryRun({ cases: cases(), runId: 'dry-1', workDir: WORK, toolkit: standinToolkit, ...extra })).text;
}

describe('kind lane dry run', () => {
  it("prints kind create with the pinned digest image and the run's own kubeconfig", async () => {
    const text = await render();
    expect(text).toContain(
      `$ kind create cluster --name egress-conformance --config ${join(REPO_ROOT, 'clusters', 'kind.yaml')} ` +
        `--image ${PINNED.kindNodeImage} --kubeconfig ${WORK}/kubeconfig --wait 180s`,
    );
    expect(text).toContain(`every command runs with KUBECONFIG=${WORK}/kubeconfig`);
    expect(text).toMatch(/\$ docker info --format/);
    expect(text).toContain(`resolve kind ${PINNED.kind}`);
    expect(text).toContain(`resolve istioctl ${PINNED.istio}`);
  });

  it('prints each IstioOperator in full, then its rendering applied, istiod, the webhook and the mode read back', async () => {
    const text = await render();
    const installs = text.split('\n').filter((l) => l.includes('$ istioctl manifest generate'));
    expect(installs).toHaveLength(2);
    const iop = /write (\S+\/istio-ALLOW_ANY-[0-9a-f]{6}\.yaml):\n((?:\s+\|.*\n)+)/.exec(text);
    expect(iop?.[1]?.startsWith(WORK)).toBe(true);
    expect(iop?.[2]).toMatch(/\|\s+kind: IstioOperator/);
    expect(iop?.[2]).toMatch(/\|\s+accessLogFile: \/dev\/stdout/);
    expect(iop?.[2]).toMatch(/\|\s+mode: ALLOW_ANY/);
    expect(installs[0]).toContain(`$ istioctl manifest generate -f ${iop?.[1]}   #`);
    expect(installs[1]).toMatch(/istio-REGISTRY_ONLY-[0-9a-f]{6}\.yaml/);
    expect(text).toMatch(
      /istioctl manifest generate[^\n]*ALLOW_ANY[^\n]*\n\s+apply every object `istioctl manifest generate` printed: server-side apply, Namespace and CRDs first[^\n]*\n\s+wait until Deployment istio-system\/istiod available[^\n]*\n\s+wait until validating webhook answers[^\n]*\n\s+read ConfigMap istio-system\/istio key mesh: outboundTrafficPolicy.mode/,
    );
  });

  it('prints every manifest, the sync barrier, and each probe with its expected verdict and cluster', async () => {
    const text = await render();
    for (const ns of ['frontend', 'default', 'egress-control']) {
      expect(text).toContain(`apply Namespace ${ns}:`);
      expect(text).toContain(`apply Pod ${ns}/egress-client:`);
    }
    expect(text).toMatch(
      /apply ServiceEntry frontend\/db-external:\n\s+apiVersion: networking.istio.io\/v1\n\s+kind: ServiceEntry[\s\S]*?egress-conformance.io\/generation: "1"[\s\S]*?- db\.example\.com/,
    );
    expect(text.match(/apply ServiceEntry frontend\/db-external:/g)).toHaveLength(2);
    expect(text.match(/delete ServiceEntry frontend\/db-external/g)).toHaveLength(2);
    expect(text).toContain(`image: ${PINNED.images.curl}`);
    // Servers with the run label; the CoreDNS entries carry the addresses the containers will have.
    expect(text).toMatch(
      /\$ docker create --name egress-conformance-dry-1-db --network kind --label egress-conformance.run=dry-1 .*postgres/,
    );
    expect(text).toContain('<IP of egress-conformance-dry-1-db on the kind network> db.example.com');
    expect(text).toContain('proxy_pass egress-conformance-dry-1-db:5432;');
    // The barrier, per scenario: istiod's store, the marker, every client sidecar.
    expect(text).toMatch(
      /sync: every client sidecar ACKs generation 1 \(PassthroughCluster connect_timeout 10\.001s\)\n\s+wait until istiod's config store holds exactly this run's 1 Istio object\(s\) at generation 1[\s\S]*?connectTimeout: 10\.001s[\s\S]*?wait until sidecar of frontend\/egress-client has generation 1[\s\S]*?wait until sidecar of default\/egress-client has generation 1/,
    );
    expect(text).not.toMatch(/^\s+(pause|sleep) /m);
    // Probes: command, control, access log, expectation.
    expect(text).toContain('probe ALLOW_ANY/db-serviceentry/frontend→tcp://db.example.com:5432');
    expect(text).toContain('exec in frontend/egress-client [psql]: pg_isready -h db.example.com -p 5432');
    expect(text).toContain('control: same in egress-control/egress-client [psql]');
    expect(text).toContain("cluster: the new line for the probe's port in the access log of frontend/egress-client [istio-proxy]");
    // The gateway hop: its Pods' logs marked at the start, then read when the sidecar sent the call to a gateway.
    expect(text).toContain(
      'gateway: before the first attempt, the lines already in the access log [istio-proxy] of every Pod whose istio-proxy runs `proxy router` are marked seen;',
    );
    expect(text).toContain(
      "Service NS/NAME selects such Pods, the hop past the sidecar is their new line for the probe's Host (HTTP) or SNI (TLS)",
    );
    expect(text).toContain("config_dump) say whether a gateway takes the probe's host (then it bypasses that gateway)");
    expect(text).toMatch(
      /probe REGISTRY_ONLY\/db-serviceentry\/frontend→tcp:\/\/db\.example\.com:5432\n(?:.*\n){7}\s+expect: allowed via outbound\|5432\|\|db\.example\.com/,
    );
    expect(text).toMatch(
      /probe REGISTRY_ONLY\/no-serviceentry\/frontend→http:\/\/unlisted\.example\.com\/\n(?:.*\n){7}\s+expect: blocked via BlackHoleCluster \(http-502\)/,
    );
    // Teardown last.
    expect(text.trimEnd()).toMatch(
      /\nteardown:[\s\S]*\$ kind delete cluster --name egress-conformance --kubeconfig \/tmp\/egress-conformance-dry\/kubeconfig[\s\S]*rm -rf \/tmp\/egress-conformance-dry$/,
    );
  });

  it('with preloadImages, loads the client and Istio images into the new cluster', async () => {
    expect(await render({ preloadImages: true })).toContain(
      `$ kind load docker-image --name egress-conformance ${PINNED.images.curl} ${PINNED.images.postgres} docker.io/istio/pilot:${PINNED.istio} docker.io/istio/proxyv2:${PINNED.istio}`,
    );
    expect(await render()).not.toContain('kind load');
  });

  it('--keep and --reuse show in the plan', async () => {
    const keep = await render({ keep: true });
    expect(keep).not.toContain('$ kind delete cluster');
    expect(keep).not.toContain('docker rm -f -v');
    expect(keep).toContain("teardown (--keep): keep cluster egress-conformance and this run's server containers");
    expect(keep).toContain(
      'Remove them with: kind delete cluster --name egress-conformance && docker rm -f $(docker ps -aq --filter label=egress-conformance.run=dry-1)',
    );
    expect(keep).toContain(`rm -rf ${WORK}`);
    const reuse = await render({ reuse: true });
    expect(reuse).toContain('--reuse: no cluster named egress-conformance yet, so one is created');
  });

  it('a scenario with its own meshConfig gets its IstioOperator and fresh clients', async () => {
    const text = await render({ cases: cases([SCENARIOS[0], DNS_CAPTURE]).filter((c) => c.policy === 'REGISTRY_ONLY') });
    const blocks = [...text.matchAll(/write (\S+\/istio-REGISTRY_ONLY-[0-9a-f]{6}\.yaml):\n((?:\s+\|.*\n)+)/g)];
    expect(blocks).toHaveLength(2);
    expect(blocks[1]?.[2]).toContain('ISTIO_META_DNS_CAPTURE: "true"');
    expect(blocks[1]?.[2]).toContain('mode: REGISTRY_ONLY');
    // The progress names the IstioOperator file actually installed, and where it came from.
    const steps = text.split('\n').filter((l) => l.includes(': install '));
    expect(steps).toHaveLength(2);
    expect(steps[0]).toContain(`install ${blocks[0]?.[1]} (fixtures/istio/REGISTRY_ONLY.yaml; outboundTrafficPolicy REGISTRY_ONLY)`);
    expect(steps[1]).toContain(`install ${blocks[1]?.[1]} (fixtures/istio/REGISTRY_ONLY.yaml + the scenario's meshConfig;`);
    expect(text).not.toMatch(/install \S*ALLOW_ANY/);
    expect(text).toContain('clients: recreate');
    expect(text).toMatch(/clients: recreate[\s\S]*?delete Pod frontend\/egress-client\n\s+wait until Pod frontend\/egress-client deleted/);
  });

  it('renders the real catalogue with the real probe commands and the oracle’s expectations', async () => {
    const scenarios = loadCatalogue();
    const all = expandCases(scenarios);
    const text = (await dryRun({ cases: all, runId: 'dry-2', workDir: WORK })).text;
    for (const s of scenarios) {
      for (const r of [...s.resources.serviceEntries, ...s.resources.sidecars]) {
        expect(text).toContain(`apply ${r.kind} ${r.namespace}/${r.name}:`);
        expect(text).toContain(`delete ${r.kind} ${r.namespace}/${r.name}`);
      }
    }
    expect(text.split('\n').filter((l) => l.includes('$ istioctl manifest generate')).length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/exec in frontend\/egress-client \[psql\]: psql /);
    expect(text).toMatch(/exec in frontend\/egress-client \[curl\]: curl /);
    expect(text.match(/^\s+expect: /gm)).toHaveLength(all.length);
    expect(text.match(/^\s+probe /gm)).toHaveLength(all.length);
  });
});

/** A trace entry as compared: values only a live run knows (container ids, addresses) are left out. */
function key(e: TraceEntry): string {
  switch (e.op) {
    case 'exec':
      return `exec ${(e.argv[0] === 'docker' && e.argv[1] === 'rm' ? e.argv.slice(0, 4) : e.argv).join(' ')}`;
    case 'apply':
      return `apply ${e.object.kind} ${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`;
    case 'delete':
      return `delete ${e.ref.kind} ${e.ref.namespace ?? ''}/${e.ref.name}`;
    case 'write':
      return `write ${e.path}`;
    case 'note':
      return `note ${e.text.replace(/→ (<[^>]*>|[\d.]+)/g, '→ IP')}`;
    case 'step':
      return `step ${e.title}`;
    case 'read':
      return `read ${e.what}`;
    case 'probe':
      return `probe ${e.id} ${e.pod} ${e.argv.join(' ')}`;
    default:
      return `${e.op} ${JSON.stringify(e)}`;
  }
}

describe('dry run and run', () => {
  it('issue the same steps in the same order (the run against shims and the API fake)', async () => {
    const h = harness();
    const live: TraceEntry[] = [];
    const lane = h.lane({ onTrace: (e) => live.push(e) });
    await driveLikeSuite(lane, cases());
    const dry = await dryRun({ cases: cases(), runId: 'test-run-1', workDir: h.workDir, toolkit: standinToolkit });
    const liveKeys = live.map(key);
    const dryKeys = dry.trace.map(key);
    expect(liveKeys.length).toBeGreaterThan(100);
    expect(liveKeys).toEqual(dryKeys);
    // The notes that differ only by run-time values were compared without them; every process is in both.
    expect(live.filter((e) => e.op === 'exec').length).toBe(dry.trace.filter((e) => e.op === 'exec').length);
  });

  it('also when proxy defaults change (clients recreated) and a probe comes from a labelled workload (its client made with its scenario)', async () => {
    const [probe] = DNS_CAPTURE.probes;
    if (!probe) throw new Error('SCENARIOS[1] has no probes');
    const labelled = { ...probe, from: { namespace: 'frontend', labels: { app: 'legacy' } } };
    const runs = [
      ...cases([SCENARIOS[0], DNS_CAPTURE]),
      { id: 'REGISTRY_ONLY/dns-capture/frontend[app=legacy]', scenario: DNS_CAPTURE, policy: 'REGISTRY_ONLY' as const, probe: labelled },
    ];
    const h = harness();
    const live: TraceEntry[] = [];
    await driveLikeSuite(h.lane({ onTrace: (e) => live.push(e) }), runs);
    const dry = await dryRun({ cases: runs, runId: 'test-run-1', workDir: h.workDir, toolkit: standinToolkit });
    expect(live.map(key)).toEqual(dry.trace.map(key));
    const steps = dry.trace.filter((e) => e.op === 'step').map((e) => (e as { title: string }).title);
    expect(steps.some((t) => t.startsWith('clients: recreate'))).toBe(true);
    expect(steps.some((t) => /^clients: deploy if absent frontend\/egress-client-[0-9a-f]{8}$/.test(t))).toBe(true);
  });
});
