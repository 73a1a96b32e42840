// The generators: deterministic per seed, varied over the fields that decide egress, and every scenario that
// passes admission loads the same way a rule fixture does.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scenarioArb } from './arbitraries.ts';
import { admit, toProbe } from './scenario.ts';
import { hostProblem } from '../istio/validate.ts';

const sample = (seed: number, n = 300) => fc.sample(scenarioArb(), { seed, numRuns: n });

describe('scenario generators', () => {
  it('generate the same scenarios for the same seed, and other ones for another seed', () => {
    expect(JSON.stringify(sample(42, 50))).toBe(JSON.stringify(sample(42, 50)));
    expect(JSON.stringify(sample(42, 50))).not.toBe(JSON.stringify(sample(43, 50)));
  });

  it('admit a good share and reject the rest with a reason naming the field', () => {
    const results = sample(1).map(admit);
    const admitted = results.filter((r) => r.ok).length;
    expect(admitted).toBeGreaterThan(60);
    expect(admitted).toBeLessThan(300);
    for (const r of results) if (!r.ok) expect(r.why).toMatch(/would be rejected by Istio: spec/);
  });

  it('give admitted scenarios only resources that re-load and probes that parse', () => {
    for (const s of sample(2)) {
      const a = admit(s);
      if (!a.ok) continue;
      expect(a.resources.serviceEntries.length + a.resources.sidecars.length).toBe(s.manifests.length);
      for (const se of a.resources.serviceEntries) for (const h of se.hosts) expect(hostProblem(h, { allowPartial: true })).toBeUndefined();
      for (const p of s.probes) expect(() => toProbe(p)).not.toThrow();
    }
  });

  it('cover the fields that decide egress', () => {
    const all = sample(3, 600);
    const ses = all.flatMap((s) => s.manifests.filter((m) => m.kind === 'ServiceEntry')).map((m) => m.spec as Record<string, any>);
    const scs = all.flatMap((s) => s.manifests.filter((m) => m.kind === 'Sidecar')).map((m) => m as Record<string, any>);
    const protocols = new Set(ses.flatMap((s) => s.ports.map((p: { protocol?: string }) => p.protocol ?? '')));
    expect([...protocols].sort()).toEqual([
      '',
      'GRPC',
      'GRPC-WEB',
      'HTTP',
      'HTTP2',
      'HTTPS',
      'MONGO',
      'MYSQL',
      'REDIS',
      'TCP',
      'TLS',
      'UDP',
    ]);
    expect(new Set(ses.map((s) => s.resolution))).toEqual(new Set(['NONE', 'DNS', 'STATIC', 'DNS_ROUND_ROBIN']));
    expect(ses.some((s) => s.ports.length === 0)).toBe(true);
    expect(ses.some((s) => (s.addresses ?? []).some((a: string) => a.includes('/') && !a.endsWith('/32')))).toBe(true);
    expect(ses.some((s) => (s.addresses ?? []).some((a: string) => !a.includes('/')))).toBe(true);
    expect(ses.some((s) => s.hosts.length > 1 && s.hosts.some((h: string) => h.startsWith('*')))).toBe(true);
    expect(ses.some((s) => s.endpoints)).toBe(true);
    expect(new Set(ses.map((s) => JSON.stringify(s.exportTo ?? [])))).toContain('["~"]');
    expect(ses.some((s) => s.workloadSelector)).toBe(true);
    expect(scs.some((s) => s.metadata.namespace === 'istio-system' || s.metadata.namespace === 'mesh-root')).toBe(true);
    expect(scs.some((s) => s.spec.workloadSelector && Object.keys(s.spec.workloadSelector.labels).length === 0)).toBe(true);
    expect(scs.some((s) => (s.spec.egress ?? []).some((e: { hosts: string[] }) => e.hosts.some((h) => h.startsWith('~'))))).toBe(true);
    expect(scs.some((s) => s.spec.outboundTrafficPolicy?.egressProxy)).toBe(true);
    expect(all.some((s) => (s.meshConfig.defaultConfig as any)?.proxyMetadata?.ISTIO_META_DNS_CAPTURE === 'true')).toBe(true);
    expect(all.some((s) => s.meshConfig.rootNamespace)).toBe(true);
    const urls = all.flatMap((s) => s.probes.map((p) => toProbe(p)));
    expect(new Set(urls.map((p) => p.to.scheme))).toEqual(new Set(['http', 'https', 'tcp']));
    expect(urls.some((p) => p.to.isIp)).toBe(true);
    expect(urls.some((p) => p.from.labels)).toBe(true);
    expect(new Set(all.map((s) => s.policy))).toEqual(new Set(['ALLOW_ANY', 'REGISTRY_ONLY']));
  });

  it('never give two objects of one kind the same namespace and name', () => {
    for (const s of sample(4)) {
      const keys = s.manifests.map((m) => `${String(m.kind)}/${(m.metadata as any).namespace}/${(m.metadata as any).name}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });
});
