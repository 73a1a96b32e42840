// Dynamic DNS in the pinned build: the mesh mode ALLOW_ANY_DYNAMIC_DNS and ServiceEntry resolution DYNAMIC_DNS.
// Source: pilot/pkg/networking/core/httproute.go buildCatchAllVirtualHost, listener_builder.go
// buildOutboundCatchAllNetworkFilterChains / buildOutboundCatchAllNetworkFiltersOnly, cluster.go buildOutboundClusters
// (istio.io/istio at fixtures/versions.json controlPlane.goModuleVersion).
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import type { ResourceSet } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const V = PINNED.controlPlane.istioVersion;
const res = (yaml: string): ResourceSet => loadYamlText(yaml, 'test.yaml', emptyResources());
const ask = (r: ResourceSet, to: string) =>
  expectProbe(r, { from: { namespace: 'default' }, to: parseProbeUrl(to) }, { istioVersion: V, policy: 'ALLOW_ANY_DYNAMIC_DNS' });
const httpSe = res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: default}
spec: {hosts: [api.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
`);

describe('mesh outboundTrafficPolicy ALLOW_ANY_DYNAMIC_DNS', () => {
  it("plain HTTP on a port without a listener takes virtualOutbound's DFP chain", () => {
    expect(ask(res(''), 'http://unknown.example.net:8000/')).toMatchObject({
      verdict: 'allowed',
      cluster: 'AllowAnyDynamicDNSCluster',
      rule: 'mesh.allow-any-dynamic-dns',
      policy: 'ALLOW_ANY_DYNAMIC_DNS',
    });
  });

  it("plain HTTP to an unknown host on a port's HTTP route takes the catch-all virtual host's DFP cluster", () => {
    expect(ask(httpSe, 'http://unknown.example.net/')).toMatchObject({ verdict: 'allowed', cluster: 'AllowAnyDynamicDNSCluster' });
    expect(ask(httpSe, 'http://api.example.com/')).toMatchObject({ cluster: 'outbound|80||api.example.com' });
  });

  it('TLS and raw TCP are not eligible: PassthroughCluster, as under ALLOW_ANY', () => {
    for (const to of ['https://unknown.example.net/', 'tcp://unknown.example.net:7000', 'tcp://api.example.com:80']) {
      const got = ask(httpSe, to);
      expect(got, to).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster' });
      expect(got.rule, to).toBe('mesh.dynamic-dns-passthrough');
    }
  });

  it('the capture port is still blackholed', () => {
    expect(ask(res(''), 'tcp://foo:15001')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
});

describe('ServiceEntry resolution DYNAMIC_DNS', () => {
  const dfp = res(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wild, namespace: default}
spec: {hosts: ["*.example.com"], ports: [{number: 80, name: http, protocol: HTTP}, {number: 443, name: tls, protocol: TLS}], resolution: DYNAMIC_DNS}
`);
  const under = (to: string) =>
    expectProbe(dfp, { from: { namespace: 'default' }, to: parseProbeUrl(to) }, { istioVersion: V, policy: 'REGISTRY_ONLY' });

  it("routes HTTP under the wildcard to the entry's DFP cluster, and says so", () => {
    const got = under('http://a.example.com/');
    expect(got).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||*.example.com', rule: 'se.http-route' });
    expect(got.reason).toContain('dynamic forward proxy');
  });

  it('takes TLS under the wildcard by SNI, and leaves the apex to the policy (a wildcard does not match its apex)', () => {
    expect(under('https://a.example.com/')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|443||*.example.com' });
    expect(under('https://example.com/')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    expect(under('http://example.com/')).toMatchObject({ verdict: 'blocked', signal: 'http-502' });
  });
});
