// A call to a ServiceEntry's address is routed by the VirtualService on that entry's host: istiod gives the
// virtual host of a VirtualService's service the service's addresses as domains (httproute.go
// generateVirtualHostDomains). Found by fuzzing (seed 11, path 22, shrunk): the model looked the
// VirtualService up by the dialled IP and kept the entry's own cluster where istiod routed to port 8080.
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const SCENARIO = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 8080, name: http-8080, protocol: HTTP}, {number: 80, name: http2-80, protocol: HTTP2}]
  resolution: NONE
  addresses: [192.0.2.10]
  exportTo: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: routes-0, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{timeout: 3s, retries: {attempts: 2}, route: [{destination: {host: a.example.com, port: {number: 8080}}}]}]
  exportTo: [default, payments]
`;

describe('VirtualService for a call to an address', () => {
  const resources = loadYamlText(SCENARIO, 'fuzz-s11-22.yaml', emptyResources());
  const ask = (from: string, url: string) =>
    expectProbe(
      resources,
      { from: { namespace: from }, to: parseProbeUrl(url, 'test') },
      {
        istioVersion: PINNED.controlPlane.istioVersion,
        policy: 'ALLOW_ANY_DYNAMIC_DNS',
      },
    );

  it("routes by the entry's VirtualService, as istiod did (lane and simulator: outbound|8080||a.example.com)", () => {
    expect(ask('default', 'http://192.0.2.10:80/').cluster).toBe('outbound|8080||a.example.com');
    expect(ask('default', 'http://a.example.com:80/').cluster).toBe('outbound|8080||a.example.com');
  });

  it('not from a namespace the VirtualService is not exported to', () => {
    expect(ask('frontend', 'http://192.0.2.10:80/').cluster).toBe('outbound|80||a.example.com');
  });
});
