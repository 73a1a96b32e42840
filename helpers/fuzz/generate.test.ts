// The generators, without Go: deterministic per seed, every field of the pinned build that decides sidecar
// egress drawn, a rejected resource repaired or dropped alone, and probes aimed so that most land in a
// ServiceEntry's route or chain (by the model's answer: the lane's own category is counted in every fuzz run).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectProbe } from '../oracle/index.ts';
import { serviceEntryManifest } from './arbitraries.ts';
import { sharesHostInNamespace } from './creation-order.ts';
import { repairAll, scenarioArb } from './generate.ts';
import { categoryOfExpectation, emptyMix, serviceEntryShare } from './outcome.ts';
import { addressesAround, namesFor } from './probes.ts';
import { admit, toProbe } from './scenario.ts';

const V = '1.32.0-alpha.eed52ebb66ad';
const sample = (seed: number, n = 300) => fc.sample(scenarioArb(), { seed, numRuns: n });
type Any = Record<string, any>;

describe('scenario generators', () => {
  it('generate the same scenarios for the same seed, and other ones for another seed', () => {
    expect(JSON.stringify(sample(42, 50))).toBe(JSON.stringify(sample(42, 50)));
    expect(JSON.stringify(sample(42, 50))).not.toBe(JSON.stringify(sample(43, 50)));
  });

  it('admit every scenario: a resource Istio would refuse is repaired or dropped alone, with its reason', () => {
    const all = sample(1, 400);
    for (const s of all) expect(admit(s).ok, JSON.stringify(s.manifests)).toBe(true);
    const dropped = all.flatMap((s) => s.dropped ?? []);
    const kept = all.reduce((n, s) => n + s.manifests.length, 0);
    expect(dropped.length).toBeLessThan(kept / 10);
    for (const d of dropped) expect(d).toMatch(/^(ServiceEntry|Sidecar): spec/);
    // A scenario that lost a resource keeps the others.
    expect(all.some((s) => s.dropped?.length && s.manifests.length > 0)).toBe(true);
  });

  it('repair one resource without touching its neighbours', () => {
    const bad = serviceEntryManifest({
      name: 'a',
      namespace: 'default',
      hosts: ['a.example.com', '*.example.org'],
      ports: [{ number: 5432, protocol: 'TCP', name: 'Bad_Name', targetPort: undefined }],
      resolution: 'DYNAMIC_DNS',
      addresses: ['192.0.2.0/24'],
      endpoints: ['10.1.2.3'],
      endpointPort: undefined,
      exportTo: [],
      workloadSelector: undefined,
      location: undefined,
      labels: undefined,
    });
    const { manifests, dropped } = repairAll([bad]);
    expect(dropped).toEqual([]);
    expect(manifests[0]?.spec).toMatchObject({
      hosts: ['*.example.org'],
      resolution: 'DYNAMIC_DNS',
      ports: [{ name: 'p5432', protocol: 'HTTP' }],
    });
    const spec = (manifests[0]?.spec ?? {}) as Any;
    expect(spec.addresses).toBeUndefined();
    expect(spec.endpoints).toBeUndefined();
  });

  it('draw every field that decides sidecar egress', () => {
    const all = sample(3, 600);
    const ses = all.flatMap((s) => s.manifests.filter((m) => m.kind === 'ServiceEntry')).map((m) => m as Any);
    const scs = all.flatMap((s) => s.manifests.filter((m) => m.kind === 'Sidecar')).map((m) => m as Any);
    expect(new Set(ses.map((s) => s.spec.resolution))).toEqual(new Set(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS']));
    const ports = ses.flatMap((s) => s.spec.ports);
    expect(new Set(ports.map((p: Any) => p.protocol ?? ''))).toEqual(
      new Set(['', 'TCP', 'HTTP', 'HTTPS', 'TLS', 'HTTP2', 'GRPC', 'GRPC-WEB', 'MONGO', 'REDIS', 'MYSQL', 'UDP']),
    );
    expect(ports.some((p: Any) => p.targetPort)).toBe(true);
    expect(ses.some((s) => s.spec.endpoints?.some((e: Any) => e.ports))).toBe(true);
    expect(ses.some((s) => (s.spec.addresses ?? []).some((a: string) => a.includes('/') && !a.endsWith('/32')))).toBe(true);
    expect(ses.some((s) => s.spec.location === 'MESH_INTERNAL')).toBe(true);
    expect(ses.some((s) => s.metadata.labels?.['networking.istio.io/enable-autoallocate-ip'] === 'false')).toBe(true);
    expect(new Set(ses.map((s) => JSON.stringify(s.spec.exportTo ?? [])))).toContain('["~"]');
    // workloadSelector: absent on most entries (the inverted fc.option frequency set it on 8 in 9), empty, matching.
    const selected = ses.filter((s) => s.spec.workloadSelector);
    expect(selected.length).toBeGreaterThan(0);
    expect(selected.length).toBeLessThan(ses.length / 4);
    expect(selected.some((s) => Object.keys(s.spec.workloadSelector.labels).length === 0)).toBe(true);
    expect(selected.some((s) => s.spec.workloadSelector.labels.app === 'curl')).toBe(true);
    const egress = scs.flatMap((s) => s.spec.egress ?? []);
    expect(egress.some((e: Any) => e.bind)).toBe(true);
    expect(new Set(egress.map((e: Any) => e.captureMode).filter(Boolean))).toEqual(new Set(['DEFAULT', 'IPTABLES', 'NONE']));
    expect(egress.some((e: Any) => e.hosts.some((h: string) => h.startsWith('~')))).toBe(true);
    expect(scs.some((s) => s.spec.outboundTrafficPolicy?.egressProxy?.host === 'nowhere.example.net')).toBe(true);
    expect(scs.some((s) => s.spec.outboundTrafficPolicy?.egressProxy?.host === 'a.example.com')).toBe(true);
    expect(new Set(all.map((s) => s.policy))).toEqual(new Set(['ALLOW_ANY', 'REGISTRY_ONLY', 'ALLOW_ANY_DYNAMIC_DNS']));
    expect(all.some((s) => s.meshConfig.serviceEntryVisibility)).toBe(true);
    expect(all.some((s) => (s.meshConfig.defaultConfig as Any)?.proxyMetadata?.ISTIO_META_DNS_AUTO_ALLOCATE)).toBe(true);
    expect(all.some((s) => s.meshConfig.rootNamespace)).toBe(true);
    const sources = new Set(all.flatMap((s) => s.probes.map((p) => toProbe(p).from.namespace)));
    expect(sources).toEqual(new Set(['default', 'frontend', 'payments']));
  });

  it('aim probes at hosts, names under wildcards, apexes, addresses, range edges and just outside', () => {
    expect(namesFor('*.example.com')).toEqual({ match: ['w.example.com', 'deep.w.example.com'], near: ['example.com'] });
    expect(addressesAround('192.0.2.0/28')).toEqual({
      inside: ['192.0.2.5', '192.0.2.0', '192.0.2.15'],
      outside: ['192.0.2.16', '192.0.1.255'],
    });
    expect(addressesAround('192.0.2.10')).toEqual({ inside: ['192.0.2.10'], outside: ['192.0.2.11'] });
  });

  it('declare creation order: every entry of a scenario whose entries share a host in a namespace has its own second, and some others', () => {
    const all = sample(3, 400);
    const seconds = (s: (typeof all)[number]) =>
      s.manifests.filter((m) => m.kind === 'ServiceEntry').map((m) => (m.metadata as Any).creationTimestamp as string | undefined);
    const tied = all.filter((s) => sharesHostInNamespace(s.manifests));
    expect(tied.length).toBeGreaterThan(0);
    for (const s of tied) {
      const ts = seconds(s);
      expect(ts.every((t) => typeof t === 'string')).toBe(true);
      expect(new Set(ts).size).toBe(ts.length);
    }
    const ordered = all.filter((s) => !sharesHostInNamespace(s.manifests) && seconds(s).some((t) => t));
    expect(ordered.length).toBeGreaterThan(10);
    // Sometimes against name order: the case where names standing in for creation would answer otherwise.
    const againstNames = ordered.filter((s) => {
      const es = s.manifests.filter((m) => m.kind === 'ServiceEntry').map((m) => m.metadata as Any);
      return es.some((a) => es.some((b) => a.name < b.name && a.creationTimestamp > b.creationTimestamp));
    });
    expect(againstNames.length).toBeGreaterThan(0);
    for (const s of all) expect(admit(s).ok).toBe(true);
  });

  it('give a scenario with something of its own to aim at as many probes as asked (the corpus asks 6 to 12)', () => {
    const counts = fc.sample(scenarioArb({ minProbes: 6, maxProbes: 12 }), { seed: 5, numRuns: 200 }).map((s) => s.probes.length);
    expect(counts.filter((n) => n >= 6).length).toBeGreaterThan(150);
    // Without anything to aim at, fewer, whatever was asked; routed probes (3 per target, 2 targets) come on top.
    expect(counts.some((n) => n < 6)).toBe(true);
    expect(Math.max(...counts)).toBeLessThanOrEqual(12 + 6);
  });

  // Issue #15 asks for 60 %: by the model, seeds 1–3 land 63–67 % (a scenario with nothing of its own to aim
  // at gets two probes, and aims respect the mesh's visibility ceiling); suites/fuzz.test.ts holds istiod to it.
  it('land at least 60% of probes in a ServiceEntry route or chain (by the model)', () => {
    const mix = emptyMix();
    for (const s of sample(1, 500)) {
      const a = admit(s);
      if (!a.ok) throw new Error(a.why);
      for (const p of s.probes) mix[categoryOfExpectation(expectProbe(a.resources, toProbe(p), { istioVersion: V, policy: s.policy }))]++;
    }
    expect(mix['no-listener']).toBeGreaterThan(0);
    expect(mix.passthrough + mix.blackhole).toBeGreaterThan(0);
    expect(serviceEntryShare(mix)).toBeGreaterThanOrEqual(0.6);
  });
});
