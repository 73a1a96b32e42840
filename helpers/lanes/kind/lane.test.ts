// KindLane drives the same steps one call at a time (as a suite or an exam lab would), shims on PATH.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProbeUrl } from '../../probes/url.ts';
import { KindLane } from './lane.ts';
import { harness } from './testdata/harness.ts';
import { SCENARIOS, line, readShimLog, standinToolkit } from './testdata/standins.ts';

describe('KindLane', () => {
  it('setup, apply scenario per policy, observe, clear, teardown', async () => {
    const h = harness();
    const o = h.options();
    const lane = new KindLane({ runId: 'lane-1', workDir: h.workDir, env: h.env, k8s: o.k8s, toolkit: standinToolkit, handleSignals: false, out: () => {}, pollMs: 1, probeIntervalMs: 0, timeouts: { settle: 0 } });
    const info = await lane.setup();
    expect(info).toMatchObject({ lane: 'kind', istioVersion: '1.30.3' });
    expect(info.details.kindNetwork).toContain('172.18.0.0/16');
    expect(await lane.setup()).toBe(info); // idempotent

    const s = SCENARIOS[0];
    const h1 = await lane.applyScenario(s.name, 'ALLOW_ANY', s.resources);
    const obs = await lane.observe(h1, { from: { namespace: 'frontend' }, to: parseProbeUrl('tcp://db.example.com:5432') });
    expect(obs.verdict).toBe('allowed');
    expect(obs.evidence.pod).toBe('frontend/egress-client');
    await lane.clearScenario(h1);

    const h2 = await lane.applyScenario(s.name, 'REGISTRY_ONLY', s.resources);
    // A probe from a labelled workload gets its own client pod, created on first use.
    const labelled = await lane.observe(h2, { from: { namespace: 'frontend', labels: { app: 'legacy' } }, to: parseProbeUrl('http://api.example.com/') });
    expect(labelled.evidence.pod).toMatch(/^frontend\/egress-client-[0-9a-f]{6}$/);
    const pod = [...h.fake.store.values()].find((x) => x.kind === 'Pod' && x.metadata.labels?.app === 'legacy');
    expect(pod?.metadata.namespace).toBe('frontend');

    await lane.teardown();
    await lane.teardown(); // safe twice
    const lines = readShimLog(h.log).map(line);
    expect(lines.filter((l) => l.startsWith('istioctl install'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('kind delete cluster'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('docker rm -f -v'))).toHaveLength(1);
    expect(existsSync(h.workDir)).toBe(false);
    expect(h.userKubeconfigUntouched()).toBe(true);
    // Cleared once explicitly; the second application goes with the cluster at teardown.
    expect(h.fake.calls.filter((c) => c.op === 'delete' && c.kind === 'ServiceEntry')).toHaveLength(1);
  });
});
