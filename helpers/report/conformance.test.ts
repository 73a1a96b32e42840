// The conformance report: features found from the catalogue's own scenarios, each feature's result from
// its cases (a skipped case makes it partial and unclaimed, a failed or errored one a failure), the YAML
// shape, and the Markdown summary opening with it.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { expandCases, loadCatalogue } from '../catalogue/load.ts';
import { PINNED } from '../tools/versions.ts';
import { conformanceReport, renderConformanceYaml } from './conformance.ts';
import { caseBase } from './case-base.ts';
import { renderMarkdown } from './markdown.ts';
import type { CaseResult, Outcome, RunReport } from './results.ts';

const cases = expandCases(loadCatalogue());
/** Every catalogue case as a result with the given outcome (by id), pass otherwise. */
function results(outcomeOf: (id: string) => Outcome = () => 'pass'): CaseResult[] {
  return cases.map((c) => ({ ...caseBase(c, PINNED.istio), outcome: outcomeOf(c.id) }));
}
const report = (rs: CaseResult[]): RunReport => ({
  lane: 'kind',
  istioVersion: '1.30.3',
  versions: { lane: 'kind' },
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:20:00.000Z',
  results: rs,
});
const feature = (c: ReturnType<typeof conformanceReport>, name: string) =>
  c.profiles.flatMap((p) => [...(p.core?.features ?? []), ...(p.extended?.features ?? [])]).find((f) => f.name === name);

describe('conformance report', () => {
  it("finds each profile's features in the catalogue's scenarios (TLS origination by the sidecar, the egress gateway)", () => {
    const byScenario = (name: string) =>
      new Set(
        results()
          .filter((r) => r.scenario === name)
          .flatMap((r) => r.features ?? []),
      );
    expect(byScenario('tls-origination-sidecar')).toContain('SidecarTLSOrigination');
    expect(byScenario('egress-gateway-http')).toContain('EgressGatewayRouting');
    expect(byScenario('egress-gateway-tls-passthrough')).toContain('EgressGatewayTLSPassthrough');
    expect(byScenario('no-serviceentry')).not.toContain('ServiceEntryExternalHost');
    const c = conformanceReport(report(results()));
    expect(c.profiles.map((p) => p.name)).toEqual(['SIDECAR-EGRESS', 'EGRESS-GATEWAY', 'TLS-ORIGINATION']);
    for (const p of c.profiles) expect(p.core?.result).toBe('success');
  });

  it('a skipped case makes its feature partial and unclaimed; a failed or errored one a failure; names listed', () => {
    const all = results();
    const tls = all.filter((r) => r.features?.includes('SidecarTLSOrigination'));
    const gw = all.filter((r) => r.features?.includes('EgressGatewayRouting'));
    const skipped = tls[0]!.id;
    const errored = gw[0]!.id;
    const c = conformanceReport(report(results((id) => (id === skipped ? 'skipped' : id === errored ? 'error' : 'pass'))));
    const f = feature(c, 'SidecarTLSOrigination')!;
    expect(f).toMatchObject({ result: 'partial', skippedTests: [skipped] });
    expect(f.statistics).toEqual({ Passed: tls.length - 1, Skipped: 1, Failed: 0 });
    const tlsProfile = c.profiles.find((p) => p.name === 'TLS-ORIGINATION')!;
    expect(tlsProfile.core?.supportedFeatures).not.toContain('SidecarTLSOrigination');
    expect(tlsProfile.core?.untestedFeatures).toContain('SidecarTLSOrigination');
    expect(feature(c, 'EgressGatewayRouting')).toMatchObject({ result: 'failure', failedTests: [errored] });
    expect(c.profiles.find((p) => p.name === 'EGRESS-GATEWAY')!.core).toMatchObject({
      result: 'failure',
      unsupportedFeatures: ['EgressGatewayRouting'],
    });
  });

  it('is YAML in the ConformanceReport shape, and the Markdown summary opens with it', () => {
    const doc = parse(renderConformanceYaml(report(results())));
    expect(doc).toMatchObject({ kind: 'ConformanceReport', lane: 'kind', date: '2026-12-01T10:20:00.000Z' });
    expect(doc.implementation).toMatchObject({
      project: 'istio',
      version: '1.30.3',
      installed: expect.stringMatching(/istioctl install -f/),
    });
    expect(doc.statistics).toEqual({ Passed: cases.length, Skipped: 0, Failed: 0 });
    const md = renderMarkdown(report(results()));
    const first = md.indexOf('### ');
    expect(md.slice(first)).toMatch(/^### Conformance\n/);
    expect(md.indexOf('### Conformance')).toBeLessThan(md.indexOf('### Verdict matrix'));
    expect(md).toContain('| TLS-ORIGINATION | core | SidecarTLSOrigination | success |');
  });
});
