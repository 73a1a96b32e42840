// The pure pieces of the hop past the sidecar: cluster names, the TLS a cluster originates (as istiod shapes
// UpstreamTlsContext: Istio mTLS with the SDS secrets `default`/`ROOTCA`, a DestinationRule SIMPLE with its
// SNI, auto mTLS as a transport_socket_match on tlsMode), what the next proxy receives, and which Pods run a
// gateway (`proxy router`).
import { describe, expect, it } from 'vitest';
import type { XdsCluster } from './xds-types.ts';
import { gatewayPodOf, runsRouter } from './gateway-pod.ts';
import { arrivalAfter, clusterTls, parseClusterName } from './hop-eval.ts';
import { routeFacts } from './route-match.ts';
import { arrivalCall } from './hop-referee.ts';

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
