// The kind lane's gateway hop, on access-log lines in Istio's default TEXT format as a sidecar and the
// egress gateway write them for the egress task's HTTP call (recorded shape: helpers/lanes/kind/probes/testdata).
import { describe, expect, it } from 'vitest';
import { parseAccessLog } from './probes/access-log.ts';
import { parseProbeUrl } from '../../probes/url.ts';
import type { Observation } from '../../model/types.ts';
import { gatewayHop, gatewayOfCluster, withGatewayHop } from './gateway-log.ts';

const GW = 'istio-system/istio-egressgateway';
const SIDECAR_CLUSTER = 'outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local';
const gatewayLog = [
  '2026-11-29T18:41:02.118Z\tinfo\tEnvoy proxy is ready',
  '[2026-11-29T18:41:05.512Z] "GET / HTTP/2" 200 - via_upstream - "-" 0 612 31 30 "10.244.0.12" "curl/8.11.1" "0b1e7f9a-3c55-4d0e-9f0f-5b0b3a8e9c11" "edition.example.com" "172.18.0.5:80" outbound|80||edition.example.com 10.244.0.20:51234 10.244.0.20:8080 10.244.0.12:40112 - -',
  '[2026-11-29T18:41:06.001Z] "GET / HTTP/2" 404 NR route_not_found - "-" 0 0 0 - "10.244.0.12" "curl/8.11.1" "6f1c0b7e-1d2a-4a55-8a8b-2c1d0e9f7a21" "other.example.com" "-" - - 10.244.0.20:8080 10.244.0.12:40114 - -',
  '[2026-11-29T18:41:07.300Z] "- - -" 0 - - - "-" 517 3870 45 - "-" "-" "-" "-" "172.18.0.5:443" outbound|443||edition.example.com 10.244.0.20:40320 10.244.0.20:8443 10.244.0.12:50110 edition.example.com -',
].join('\n');
const entries = parseAccessLog(gatewayLog);
const first = (cluster: string): Observation => ({ verdict: 'allowed', cluster, evidence: {} });

describe('gateway hop from the gateway access log', () => {
  it('names the gateway from the sidecar cluster of its Service, and nothing else', () => {
    expect(gatewayOfCluster(SIDECAR_CLUSTER, [GW])).toBe(GW);
    expect(gatewayOfCluster('outbound|80||edition.example.com', [GW])).toBeUndefined();
    expect(gatewayOfCluster('outbound|80||httpbin.default.svc.cluster.local', [GW])).toBeUndefined();
  });

  it('HTTP: the line with the probe Host gives the gateway cluster; TLS passthrough: the line with the SNI', () => {
    expect(gatewayHop(entries, GW, parseProbeUrl('http://edition.example.com/', 't')).hop?.cluster).toBe(
      'outbound|80||edition.example.com',
    );
    expect(gatewayHop(entries, GW, parseProbeUrl('https://edition.example.com/', 't')).hop?.cluster).toBe(
      'outbound|443||edition.example.com',
    );
  });

  it('a 404 of the gateway itself (NR, route_not_found) names no cluster: the hop ends there, (no route)', () => {
    const r = gatewayHop(entries, GW, parseProbeUrl('http://other.example.com/', 't'));
    expect(r).toMatchObject({ noRoute: true, hop: { kind: 'gateway', proxy: GW, cluster: '(no route)' } });
    expect(r.problem).toBeUndefined();
  });

  it('joins the hops; a call sent to the gateway with no gateway line is an error, never a pass', () => {
    const http = parseProbeUrl('http://edition.example.com/', 't');
    const two = withGatewayHop(first(SIDECAR_CLUSTER), 'default/egress-client', () => entries, [GW], http);
    expect(two.hops?.map((h) => `${h.proxy} ${h.cluster}`)).toEqual([
      `default/egress-client ${SIDECAR_CLUSTER}`,
      `${GW} outbound|80||edition.example.com`,
    ]);
    const none = withGatewayHop(first(SIDECAR_CLUSTER), 'default/egress-client', () => [], [GW], http);
    expect(none.verdict).toBe('error');
    const direct = withGatewayHop(first('outbound|80||edition.example.com'), 'default/egress-client', () => entries, [GW], http);
    expect(direct.hops).toHaveLength(1);
  });
});
