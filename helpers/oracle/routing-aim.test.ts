// The routing model (routing.ts applyRouting) on small scenarios aimed at what its mutation run left alive: the
// reasons and hops of a VirtualService that answers locally, misses every route, is not imported, and of a
// DestinationRule's TLS. Each expectation is read in the pinned source (istio.io/istio
// v0.0.0-20260827124520-eed52ebb66ad, pilot/pkg/networking/core/route/route.go, model/sidecar.go).
import { describe, expect, it } from 'vitest';
import { askModel, loadTestYaml } from '../testing/ask-model.ts';

const ENTRY = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: default}
spec:
  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`;

const ask = (yaml: string, url: string, from = 'default') => askModel(yaml, url, from);

describe('a mesh VirtualService that answers itself (route.go translateRoute, ApplyRedirect: MOVED_PERMANENTLY by default)', () => {
  const yaml = `${ENTRY}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  http:
  - match: [{uri: {prefix: /moved}}]
    redirect: {uri: /new}
  - match: [{uri: {prefix: /gone}}]
    directResponse: {status: 410}
  - route: [{destination: {host: a.example.com}}]
`;

  it('a redirect (301 unless redirectCode says otherwise) and a direct response: nothing leaves the sidecar', () => {
    const moved = ask(yaml, 'http://a.example.com/moved');
    expect(moved).toMatchObject({ verdict: 'blocked', cluster: '(redirect)', signal: 'http-local' });
    expect(moved.path).toEqual(['sidecar (redirect)']);
    expect(moved.reason).toMatch(/VirtualService default\/vs \(mesh\) answers it itself: a redirect, HTTP 301; nothing leaves the sidecar/);
    const gone = ask(yaml, 'http://a.example.com/gone');
    expect(gone).toMatchObject({ verdict: 'blocked', cluster: '(direct response)', signal: 'http-local' });
    expect(gone.reason).toMatch(/answers it itself: a direct response, HTTP 410/);
    const routed = ask(yaml, 'http://a.example.com/other');
    expect(routed).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
    expect(routed.reason).toMatch(/VirtualService default\/vs \(mesh\) routes it to outbound\|80\|\|a\.example\.com/);
  });
});

describe("a mesh VirtualService none of whose routes match: the virtual host holds only its routes, Envoy's 404 (NR)", () => {
  it('names the path the routes did not match and ends at (no route)', () => {
    // route.go buildSidecarVirtualHostsForVirtualService: the service's default route is gone once the
    // VirtualService takes the virtual host.
    const yaml = `${ENTRY}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: a.example.com}}]
`;
    const e = ask(yaml, 'http://a.example.com/other');
    expect(e).toMatchObject({ verdict: 'blocked', cluster: '(no route)', signal: 'http-404' });
    expect(e.path).toEqual(['sidecar (no route)']);
    expect(e.reason).toMatch(/none matching \/other: Envoy answers 404/);
    expect(ask(yaml, 'http://a.example.com/api/x')).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
  });
});

describe("a VirtualService the Sidecar's egress hosts do not import (sidecar.go: egress hosts select VirtualServices by namespace)", () => {
  it('is said not to be imported, and routes nothing', () => {
    const yaml = `${ENTRY}
  exportTo: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: elsewhere, namespace: payments}
spec:
  hosts: [a.example.com]
  exportTo: ["*"]
  http: [{route: [{destination: {host: a.example.com, port: {number: 8080}}}]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: own, namespace: default}
spec:
  egress: [{hosts: ["default/*"]}]
`;
    const e = ask(yaml, 'http://a.example.com/');
    expect(e).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
    expect(e.reason).toMatch(/VirtualService payments\/elsewhere is not imported: the Sidecar's egress hosts for port 80 do not take it/);
    // Without the Sidecar the namespace's default scope imports it (exportTo *), and it routes to port 8080.
    const open = ask(yaml.slice(0, yaml.lastIndexOf('---')), 'http://a.example.com/');
    expect(open.reason).not.toMatch(/is not imported/);
    expect(open.cluster).toBe('outbound|8080||a.example.com');
  });
});

describe("a DestinationRule's TLS is set on its cluster (cluster_traffic_policy.go applyTrafficPolicy)", () => {
  it('the sidecar originates it on the cluster the call takes, and the reason names the rule', () => {
    const yaml = `${ENTRY}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: default}
spec:
  host: a.example.com
  trafficPolicy: {tls: {mode: SIMPLE}}
`;
    const e = ask(yaml, 'http://a.example.com/');
    expect(e.path).toEqual(['sidecar outbound|80||a.example.com tls:SIMPLE']);
    // No VirtualService: no route facts on the hop.
    expect(e.hops?.[0]?.route).toBeUndefined();
    expect(e.reason).toMatch(/DestinationRule default\/dr applies for default/);
    expect(e.reason).not.toMatch(/not built/);
  });

  it('a cluster istiod does not build (a DNS entry whose workloadSelector matches no Pod) gets no TLS', () => {
    // cluster_builder.go buildCluster returns nil for a DNS cluster without endpoints: no cluster, no transport socket.
    const yaml = `${ENTRY}
  workloadSelector: {labels: {app: nothing}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: default}
spec:
  host: a.example.com
  trafficPolicy: {tls: {mode: SIMPLE}}
`;
    const e = ask(yaml, 'http://a.example.com/');
    expect(e.verdict).toBe('blocked');
    expect(e.path).toEqual(['sidecar outbound|80||a.example.com']);
    expect(e.reason).toMatch(/DestinationRule default\/dr applies for default, but the cluster is not built: no TLS is originated/);
  });
});

describe('what the routing model says it does not model', () => {
  const VS = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [a.example.com]
  http: [{route: [{destination: {host: a.example.com}}]}]
`;
  const DEFAULT_EXPORT = 'meshConfig.defaultVirtualServiceExportTo (a VirtualService without exportTo is taken as exported everywhere)';
  const withDefault = (yaml: string, exportTo: string[] | undefined, url = 'http://a.example.com/') => {
    const resources = loadTestYaml(yaml, 'routing-aim.test.ts');
    if (exportTo) resources.mesh.meshConfig.defaultVirtualServiceExportTo = exportTo;
    return askModel(resources, url);
  };

  it("a mesh default exportTo other than '*' for a VirtualService without exportTo (istiod applied one elsewhere all the same)", () => {
    expect(withDefault(`${ENTRY}${VS}`, ['.']).notModelled).toContain(DEFAULT_EXPORT);
    // Any VirtualService without exportTo, whatever else the routing holds.
    const dr = `${ENTRY}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: default}
spec:
  host: a.example.com
`;
    expect(withDefault(`${dr}${VS}`, ['.']).notModelled).toContain(DEFAULT_EXPORT);
    expect(withDefault(`${ENTRY}${VS}`, ['.']).reason).toMatch(/not modelled: meshConfig\.defaultVirtualServiceExportTo/);
    expect(withDefault(`${ENTRY}${VS}`, ['*']).notModelled ?? []).not.toContain(DEFAULT_EXPORT);
    expect(withDefault(`${ENTRY}${VS}`, undefined).notModelled ?? []).not.toContain(DEFAULT_EXPORT);
    expect(withDefault(`${ENTRY}${VS}  exportTo: ["."]\n`, ['.']).notModelled ?? []).not.toContain(DEFAULT_EXPORT);
    // Only VirtualServices: a DestinationRule without exportTo is not concerned.
    expect(withDefault(dr, ['.']).notModelled ?? []).not.toContain(DEFAULT_EXPORT);
  });

  it('VirtualService routes on a Sidecar egress port of protocol HTTP_PROXY (httproute.go routes it with listener port 0)', () => {
    const sidecar = (protocol: string) => `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: own, namespace: default}
spec:
  egress:
  - port: {number: 8081, protocol: ${protocol}, name: proxy}
    hosts: ["*/*"]
  - hosts: ["*/*"]
`;
    const note = 'VirtualService routes on a Sidecar egress port of protocol HTTP_PROXY (listener port 0)';
    expect(withDefault(`${ENTRY}${VS}${sidecar('HTTP_PROXY')}`, undefined, 'http://a.example.com:8081/').notModelled).toContain(note);
    // Another port, another protocol, or no VirtualService: nothing to say.
    expect(withDefault(`${ENTRY}${VS}${sidecar('HTTP_PROXY')}`, undefined).notModelled ?? []).not.toContain(note);
    expect(withDefault(`${ENTRY}${VS}${sidecar('HTTP')}`, undefined, 'http://a.example.com:8081/').notModelled ?? []).not.toContain(note);
    expect(withDefault(`${ENTRY}${sidecar('HTTP_PROXY')}`, undefined, 'http://a.example.com:8081/').notModelled ?? []).not.toContain(note);
    const dr = `${ENTRY}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: default}
spec:
  host: a.example.com
`;
    expect(withDefault(`${dr}${sidecar('HTTP_PROXY')}`, undefined, 'http://a.example.com:8081/').notModelled ?? []).not.toContain(note);
    expect(withDefault(`${dr}${VS}${sidecar('HTTP_PROXY')}`, undefined, 'http://a.example.com:8081/').notModelled).toContain(note);
  });
});

describe('a mesh VirtualService host no service has gets a virtual host of its own on port 80 (route.go separateVSHostsAndServices)', () => {
  const yaml = `${ENTRY}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: alias, namespace: default}
spec:
  hosts: [b.example.com]
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: a.example.com}}]
`;

  it('its routes take the request the route would leave to the catch-all; a path none matches is 404', () => {
    const routed = ask(yaml, 'http://b.example.com/api');
    expect(routed).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||a.example.com' });
    expect(routed.signal).toBeUndefined();
    expect(routed.reason).toMatch(
      /VirtualService default\/alias \(mesh\) has a virtual host b\.example\.com on route 80, no service of the route having that host, and routes it to outbound\|80\|\|a\.example\.com/,
    );
    const missed = ask(yaml, 'http://b.example.com/other');
    expect(missed).toMatchObject({ verdict: 'blocked', cluster: '(no route)', signal: 'http-404' });
    expect(missed.path).toEqual(['sidecar (no route)']);
    expect(missed.reason).toMatch(/has a virtual host b\.example\.com on route 80 whose routes do not match \/other: Envoy answers 404/);
    // No routing resource at all: the sidecar's answer as it is, no hop followed.
    expect(ask(ENTRY, 'http://a.example.com/').hops).toBeUndefined();
    // Without the VirtualService, the catch-all's 502 (REGISTRY_ONLY).
    expect(ask(ENTRY, 'http://b.example.com/api')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502' });
    // Plain TCP or TLS to that name meets no HTTP route.
    expect(ask(yaml, 'tcp://b.example.com:80')).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });
});
