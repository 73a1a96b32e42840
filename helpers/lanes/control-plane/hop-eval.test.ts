// The pure pieces of the hop past the sidecar: cluster names, the TLS a cluster originates (as istiod shapes
// UpstreamTlsContext: Istio mTLS with the SDS secrets `default`/`ROOTCA`, a DestinationRule SIMPLE with its
// SNI, auto mTLS as a transport_socket_match on tlsMode), what the next proxy receives, and which Pods run a
// gateway (`proxy router`).
import { describe, expect, it } from 'vitest';
import type { ConfigSnapshot, XdsCluster, XdsFilterChain, XdsListener } from './xds-types.ts';
import { gatewayPodOf, runsRouter } from './gateway-pod.ts';
import { arrivalAfter, clusterDiscovery, clusterTls, evaluateArrival, parseClusterName } from './hop-eval.ts';
import { routeFacts } from './route-match.ts';
import { arrivalCall } from './hop-referee.ts';
import { clientSignal } from './gateway-hop.ts';

const UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const mtls = {
  name: 'envoy.transport_sockets.tls',
  typed_config: {
    '@type': UPSTREAM,
    sni: 'edition.example.com',
    common_tls_context: { alpn_protocols: ['istio-peer-exchange', 'istio'], tls_certificate_sds_secret_configs: [{ name: 'default' }] },
  },
};
const simple = {
  name: 'envoy.transport_sockets.tls',
  typed_config: { '@type': UPSTREAM, sni: 'edition.example.com', common_tls_context: {} },
};

describe('hop pieces', () => {
  it('reads outbound|PORT|SUBSET|HOST', () => {
    expect(parseClusterName('outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local')).toEqual({
      port: 80,
      subset: 'edition',
      host: 'istio-egressgateway.istio-system.svc.cluster.local',
    });
    expect(parseClusterName('PassthroughCluster')).toBeUndefined();
  });

  it('tells Istio mTLS, a DestinationRule SIMPLE and auto mTLS apart', () => {
    expect(clusterTls({ name: 'a', transport_socket: mtls } as XdsCluster).tls).toMatchObject({
      mode: 'ISTIO_MUTUAL',
      sni: 'edition.example.com',
    });
    expect(clusterTls({ name: 'b', transport_socket: simple } as XdsCluster).tls).toMatchObject({
      mode: 'SIMPLE',
      sni: 'edition.example.com',
    });
    const auto = clusterTls({
      name: 'c',
      transport_socket_matches: [
        { name: 'tlsMode-istio', match: { fields: { tlsMode: { string_value: 'istio' } } }, transport_socket: mtls },
      ],
    } as unknown as XdsCluster);
    expect(auto.auto).toBe(true);
    expect(clusterTls({ name: 'd' } as XdsCluster)).toEqual({});
  });

  it('what the gateway receives: the proxy TLS with its SNI and the HTTP inside, or the client TLS as it came', () => {
    const http = { scheme: 'http' as const, host: 'edition.example.com', isIp: false };
    const a = arrivalAfter(
      { mode: 'ISTIO_MUTUAL', sni: 'edition.example.com', alpn: ['istio'] },
      http,
      'edition.example.com',
      '/',
      '10.244.0.9',
      8443,
    );
    expect(a).toMatchObject({ tls: { by: 'proxy', mutual: true, sni: 'edition.example.com' }, http: { host: 'edition.example.com' } });
    expect(arrivalCall(a)).toMatchObject({ tls: 'mtls', protocol: 'http', port: 8443, sni: 'edition.example.com' });
    const passthrough = arrivalAfter(undefined, { ...http, scheme: 'https' }, 'edition.example.com', '/', '10.244.0.9', 8443);
    expect(passthrough.http).toBeUndefined();
    expect(arrivalCall(passthrough)).toMatchObject({ tls: 'tls', protocol: 'tcp', sni: 'edition.example.com' });
    expect(arrivalCall(arrivalAfter(undefined, http, 'edition.example.com', '/', '10.244.0.9', 8080))).toMatchObject({
      tls: 'plaintext',
      protocol: 'http',
    });
  });

  it('route facts: timeout and retries as Envoy carries them', () => {
    expect(routeFacts({ timeout: { seconds: '3' }, retry_policy: { num_retries: { value: 2 } } })).toEqual(['timeout 3s', 'retries 2']);
    expect(routeFacts({ cluster: 'x' })).toEqual([]);
  });

  it('a gateway Pod runs `proxy router` and is Ready with an IP', () => {
    const spec = { containers: [{ name: 'istio-proxy', args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local'] }] };
    expect(runsRouter(spec)).toBe(true);
    expect(runsRouter({ containers: [{ name: 'istio-proxy', args: ['proxy', 'sidecar'] }] })).toBe(false);
    const ready = { phase: 'Running', podIP: '10.244.0.9', conditions: [{ type: 'Ready', status: 'True' }] };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'gw-1', namespace: 'istio-system', labels: { app: 'istio-egressgateway' } },
      spec,
      status: ready,
    };
    expect(gatewayPodOf(pod)?.workload).toBe('istio-system/istio-egressgateway');
    expect(gatewayPodOf({ ...pod, status: { ...ready, conditions: [] } })).toBeUndefined();
  });
});

// A gateway's xDS as istiod shapes it for one server (pilot/pkg/networking/core/gateway.go): a listener on the
// Pod's port, one chain, an HTTP connection manager reading RDS; what is around it varies per test.
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const DOWNSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
function gateway(opts: { port: number; route: string; tls?: 'ISTIO_MUTUAL' | 'SIMPLE'; vhosts: object[] }): ConfigSnapshot {
  const chain: XdsFilterChain = {
    filters: [
      { name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, rds: { route_config_name: opts.route } } },
    ],
    ...(opts.tls
      ? {
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': DOWNSTREAM,
              common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default' }] },
              require_client_certificate: { value: opts.tls === 'ISTIO_MUTUAL' },
            },
          },
        }
      : {}),
  } as XdsFilterChain;
  const listener = {
    name: `0.0.0.0_${opts.port}`,
    address: { socket_address: { address: '0.0.0.0', port_value: opts.port } },
    filter_chains: [chain],
  } as XdsListener;
  return {
    listeners: [listener],
    routes: [{ name: opts.route, virtual_hosts: opts.vhosts }] as ConfigSnapshot['routes'],
    clusters: [{ name: 'outbound|80||edition.example.com' }] as XdsCluster[],
  };
}
const http = { scheme: 'http' as const, host: 'edition.example.com', isIp: false };
const routed = [
  {
    name: 'edition.example.com:80',
    domains: ['edition.example.com'],
    routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: 'outbound|80||edition.example.com' } }],
  },
];

describe('where a call ends at the gateway (the hop evaluator on a gateway listener)', () => {
  const istioMutual = { mode: 'ISTIO_MUTUAL' as const, sni: 'edition.example.com', alpn: ['istio'] };

  it('routed: the gateway sends the call on to the cluster its route names', () => {
    const snap = gateway({ port: 8443, route: 'https.443', tls: 'ISTIO_MUTUAL', vhosts: routed });
    const o = evaluateArrival(snap, arrivalAfter(istioMutual, http, 'edition.example.com', '/', '10.244.0.9', 8443));
    expect(o).toMatchObject({ verdict: 'allowed', cluster: 'outbound|80||edition.example.com' });
  });

  it('no listener on the port: the connection is refused, a blocked call (not an unclassified one)', () => {
    const snap = gateway({ port: 8080, route: 'http.80', vhosts: routed });
    const o = evaluateArrival(snap, arrivalAfter(undefined, { ...http, scheme: 'https' }, 'edition.example.com', '/', '10.244.0.9', 8443));
    expect(o).toMatchObject({ verdict: 'blocked', cluster: '(connection refused)', signal: 'tcp-close' });
  });

  it("istiod's 404 virtual host (blackhole:PORT, no routes) for a server no VirtualService routes: blocked with the 404", () => {
    const snap = gateway({ port: 8080, route: 'http.80', vhosts: [{ name: 'blackhole:80', domains: ['*'], routes: [] }] });
    const o = evaluateArrival(snap, arrivalAfter(undefined, http, 'edition.example.com', '/', '10.244.0.9', 8080));
    expect(o).toMatchObject({ verdict: 'blocked', cluster: '(no route)', signal: 'http-404' });
    expect(String(o.evidence.notFound)).toMatch(/blackhole:80/);
  });

  it('a server asking for a client certificate (ISTIO_MUTUAL) fails the handshake of one-way TLS, and takes Istio mTLS', () => {
    const snap = gateway({ port: 8443, route: 'https.443', tls: 'ISTIO_MUTUAL', vhosts: routed });
    const simple = evaluateArrival(
      snap,
      arrivalAfter({ ...istioMutual, mode: 'SIMPLE' }, http, 'edition.example.com', '/', '10.244.0.9', 8443),
    );
    expect(simple).toMatchObject({ verdict: 'blocked', cluster: '(handshake failed)', signal: 'tcp-close' });
    const oneWay = gateway({ port: 8443, route: 'https.443', tls: 'SIMPLE', vhosts: routed });
    expect(
      evaluateArrival(oneWay, arrivalAfter({ ...istioMutual, mode: 'SIMPLE' }, http, 'edition.example.com', '/', '10.244.0.9', 8443)),
    ).toMatchObject({ verdict: 'allowed' });
  });

  it("TLS a proxy originated, meeting a plain HTTP server, is a codec error that closes the connection; a client's own TLS there stays unclassified", () => {
    const snap = gateway({ port: 8080, route: 'http.80', vhosts: routed });
    const o = evaluateArrival(snap, arrivalAfter(istioMutual, http, 'edition.example.com', '/', '10.244.0.9', 8080));
    expect(o).toMatchObject({ verdict: 'blocked', cluster: '(protocol error)', signal: 'tcp-close' });
    const own = evaluateArrival(
      snap,
      arrivalAfter(undefined, { ...http, scheme: 'https' }, 'edition.example.com', '/', '10.244.0.9', 8080),
    );
    expect(own.verdict).toBe('error');
  });
});

describe("what the client sees of a call that ends at the gateway: its sidecar's answer", () => {
  it('through an HTTP route the gateway’s 404 comes back and a refused or closed connection is a 503; through a tcp_proxy, a close', () => {
    expect(clientSignal('http-404', true)).toBe('http-404');
    expect(clientSignal('tcp-close', true)).toBe('http-503');
    expect(clientSignal('http-503', true)).toBe('http-503');
    expect(clientSignal('tcp-close', false)).toBe('tcp-close');
  });
});

describe('cluster discovery, as istiod types the cluster', () => {
  it('the Envoy type, or the dynamic forward proxy a wildcard DYNAMIC_DNS entry gets', () => {
    expect(clusterDiscovery({ name: 'a', type: 'ORIGINAL_DST' } as XdsCluster)).toBe('ORIGINAL_DST');
    expect(clusterDiscovery({ name: 'b', type: 'STRICT_DNS' } as XdsCluster)).toBe('STRICT_DNS');
    expect(clusterDiscovery({ name: 'c', cluster_type: { name: 'envoy.clusters.dynamic_forward_proxy' } } as unknown as XdsCluster)).toBe(
      'DYNAMIC_FORWARD_PROXY',
    );
    expect(clusterDiscovery(undefined)).toBeUndefined();
  });
});
