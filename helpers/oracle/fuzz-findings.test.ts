// Rules the fuzzer (`egress-conformance fuzz`) found the oracle getting wrong against the real istiod.
// Each test names the Istio source the fix rests on and the shrunk fixture (fixtures/rules/fuzz-*.yaml)
// that found it; that fixture is also run on the lane by suites/rules.test.ts.
import { describe, expect, it } from 'vitest';
import { expectProbe } from './index.ts';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import type { PolicyMode, ResourceSet } from '../model/types.ts';
import { PINNED } from '../tools/versions.ts';

const V = PINNED.controlPlane.istioVersion;
const res = (yaml: string): ResourceSet => loadYamlText(yaml, 'test.yaml', emptyResources());
const probe = (r: ResourceSet, from: string, to: string, policy: PolicyMode, labels?: Record<string, string>) =>
  expectProbe(r, { from: { namespace: from, ...(labels ? { labels } : {}) }, to: parseProbeUrl(to) }, { istioVersion: V, policy });

describe('Sidecar selection (pilot/pkg/model/push_context.go initSidecarScopes, doGetSidecarScope)', () => {
  const emptySelector = (ns: string, name = 'a') => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${name}, namespace: ${ns}}
spec:
  workloadSelector: {labels: {}}
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
---
`;
  it('a root-namespace Sidecar with an empty workloadSelector is not the mesh default (fuzz-s1-1)', () => {
    // istiod tests `WorkloadSelector != nil`, not the number of labels.
    expect(probe(res(emptySelector('istio-system')), 'default', 'tcp://a.example.com:80', 'ALLOW_ANY')).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster' });
  });

  it('an empty workloadSelector selects every workload of its own namespace, ahead of a selector-less Sidecar', () => {
    const nsWide = `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: b-wide, namespace: default}
spec:
  outboundTrafficPolicy: {mode: ALLOW_ANY}
---
`;
    const r = res(nsWide + emptySelector('default', 'z-empty'));
    expect(probe(r, 'default', 'tcp://a.example.com:80', 'ALLOW_ANY', { app: 'curl' })).toMatchObject({ verdict: 'blocked', policy: 'REGISTRY_ONLY' });
    expect(probe(r, 'default', 'tcp://a.example.com:80', 'ALLOW_ANY')).toMatchObject({ verdict: 'blocked', policy: 'REGISTRY_ONLY' });
  });
});
