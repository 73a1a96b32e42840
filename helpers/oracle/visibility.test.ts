// meshConfig.serviceEntryVisibility (pinned build: pilot/pkg/model/push_context.go serviceExportTo,
// serviceentry_visibility.go toServiceVisibility; istio/istio#60870), checked on the lane by
// fixtures/rules/service-entry-visibility.yaml.
import { describe, expect, it } from 'vitest';
import { expandCases, loadCatalogue, RULES_DIR } from '../catalogue/load.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import type { ResourceSet } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const V = PINNED.controlPlane.istioVersion;
const withSev = (sev: string, exportTo = '') =>
  loadYamlText(
    `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec: {meshConfig: {serviceEntryVisibility: ${sev}}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: default}
spec: {hosts: [db.example.com], ${exportTo} ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}
`,
    'test.yaml',
    emptyResources(),
  );
const ask = (r: ResourceSet, from: string, v = V) =>
  expectProbe(
    r,
    { from: { namespace: from }, to: parseProbeUrl('tcp://db.example.com:5432') },
    { istioVersion: v, policy: 'REGISTRY_ONLY' },
  );

describe('meshConfig.serviceEntryVisibility', () => {
  it('NAMESPACE with applyToSidecars keeps a public entry in its own namespace only', () => {
    const r = withSev('{defaultVisibility: NAMESPACE, applyToSidecars: true}');
    expect(ask(r, 'default')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.com' });
    const other = ask(r, 'frontend');
    expect(other).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(other.rules).toContain('export.service-entry-visibility');
  });

  it('NAMESPACE hides an entry whose exportTo leaves its own namespace out', () => {
    const r = withSev('{defaultVisibility: NAMESPACE, applyToSidecars: true}', 'exportTo: [frontend],');
    expect(ask(r, 'frontend')).toMatchObject({ verdict: 'blocked' });
    expect(ask(r, 'default')).toMatchObject({ verdict: 'blocked' });
  });

  it('NONE hides it everywhere; without applyToSidecars, or before the field existed, nothing changes', () => {
    expect(ask(withSev('{defaultVisibility: NONE, applyToSidecars: true}'), 'default')).toMatchObject({ verdict: 'blocked' });
    expect(ask(withSev('{defaultVisibility: NONE}'), 'frontend')).toMatchObject({ verdict: 'allowed' });
    const april = PINNED_BUILDS.find((b) => b.label === 'master-2026-04-23')!.istioVersion;
    expect(ask(withSev('{defaultVisibility: NONE, applyToSidecars: true}'), 'frontend', april)).toMatchObject({ verdict: 'allowed' });
  });

  it('namespace policies are said to be not modelled', () => {
    const r = withSev(
      '{applyToSidecars: true, policies: [{visibility: NONE, matchingRules: [{namespaceSelector: {matchLabels: {x: y}}}]}]}',
    );
    expect(ask(r, 'frontend').reason).toContain('not modelled: meshConfig.serviceEntryVisibility.policies');
  });

  it('the rule fixture loads and its probes are answered', () => {
    const cases = expandCases(loadCatalogue(RULES_DIR, undefined, { requirePins: false })).filter(
      (c) => c.scenario.name === 'service-entry-visibility' && c.policy === 'REGISTRY_ONLY',
    );
    expect(cases.map((c) => expectProbe(c.scenario.resources, c.probe, { istioVersion: V, policy: c.policy }).verdict)).toEqual([
      'allowed',
      'blocked',
      'blocked',
    ]);
  });
});
