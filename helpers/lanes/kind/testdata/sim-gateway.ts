// The install's egress gateway as SimCluster shows it (fixtures/istio/*.yaml components.egressGateways as istioctl
// renders them: Pods labelled app=istio-egressgateway, istio=egressgateway whose istio-proxy runs `proxy router`,
// behind Service istio-system/istio-egressgateway, ports 80→8080 and 443→8443), and the access-log lines a
// call through it leaves in Istio's default TEXT format (probes/access-log.ts): the client sidecar's line
// naming the gateway's Service cluster, and the gateway's own line with its cluster, or its 404 with flag NR
// and details route_not_found when none of its routes takes the Host (Envoy's response flags).
import type { K8sObject } from '../runner.ts';

export const GATEWAY_NAMESPACE = 'istio-system';
export const GATEWAY_POD = 'istio-egressgateway-6d8f7b9c4-k2l7m';
const GATEWAY_IP = '10.244.0.20';
const LABELS = { app: 'istio-egressgateway', istio: 'egressgateway' };

/** The sidecar's cluster for the gateway's Service port (`outbound|PORT|SUBSET|FQDN`). */
export const gatewayCluster = (port = 80, subset = '') => `outbound|${port}|${subset}|istio-egressgateway.istio-system.svc.cluster.local`;

export const gatewayService: K8sObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'istio-egressgateway', namespace: GATEWAY_NAMESPACE, labels: LABELS },
  spec: {
    selector: LABELS,
    ports: [
      { name: 'http2', port: 80, targetPort: 8080 },
      { name: 'https', port: 443, targetPort: 8443 },
    ],
  },
};

export const gatewayPod: K8sObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: GATEWAY_POD, namespace: GATEWAY_NAMESPACE, labels: LABELS },
  spec: {
    containers: [
      {
        name: 'istio-proxy',
        image: 'docker.io/istio/proxyv2:1.30.3',
        args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local'],
      },
    ],
  },
  status: { phase: 'Running', podIP: GATEWAY_IP, conditions: [{ type: 'Ready', status: 'True' }] },
};

/** Whether a label selector (`k=v,k=v`, or none) matches the labels. */
export function selects(selector: string | undefined, labels: Record<string, string> = {}): boolean {
  return (selector ?? '')
    .split(',')
    .filter(Boolean)
    .every((kv) => {
      const [k = '', v = ''] = kv.split('=');
      return labels[k] === v;
    });
}

export interface GatewayCall {
  /** The probe URL's scheme, host and port (the Host header or SNI). */
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** What the gateway logs: the cluster it chose, or `(no route)` for its own NR 404. */
  gateway: string;
  /** The status the client sidecar logs (HTTP; default the gateway's: 404 for no route, else 200). */
  status?: number;
}

/** The sidecar's and the gateway's lines for one call through the gateway; `remote` makes each call's lines unique. */
export function gatewayCallLines(c: GatewayCall, remote: number): { sidecar: string; gateway: string } {
  const t = `[2026-11-29T18:41:05.${String(remote % 1000).padStart(3, '0')}Z]`;
  const client = `10.244.0.9:${remote}`;
  const id = `0c6a9c55-3e0d-4b7f-9a21-${String(remote).padStart(12, '0')}`;
  const dst = `172.18.0.4:${c.port}`;
  if (c.scheme === 'https') {
    // TLS passthrough: both proxies see a TCP stream, the gateway reads the SNI (REQUESTED_SERVER_NAME).
    return {
      sidecar: `${t} "- - -" 0 - - - "-" 517 3870 46 - "-" "-" "-" "-" "${GATEWAY_IP}:8443" ${gatewayCluster(443)} 10.244.0.9:${remote + 1} ${dst} ${client} ${c.host} -`,
      gateway: `${t} "- - -" 0 - - - "-" 517 3870 45 - "-" "-" "-" "-" "172.18.0.5:443" ${c.gateway} ${GATEWAY_IP}:40320 ${GATEWAY_IP}:8443 10.244.0.9:${remote + 1} ${c.host} -`,
    };
  }
  const authority = c.port === 80 ? c.host : `${c.host}:${c.port}`;
  const noRoute = c.gateway === '(no route)';
  const status = c.status ?? (noRoute ? 404 : 200);
  const sidecar = `${t} "GET / HTTP/1.1" ${status} - via_upstream - "-" 0 ${noRoute ? 0 : 612} 4 3 "-" "curl/8.11.1" "${id}" "${authority}" "${GATEWAY_IP}:8080" ${gatewayCluster(80)} 10.244.0.9:${remote + 1} ${dst} ${client} - default`;
  const gateway = noRoute
    ? `${t} "GET / HTTP/2" 404 NR route_not_found - "-" 0 0 0 - "10.244.0.9" "curl/8.11.1" "${id}" "${authority}" "-" - - ${GATEWAY_IP}:8080 10.244.0.9:${remote + 1} - -`
    : `${t} "GET / HTTP/2" ${status} - via_upstream - "-" 0 612 2 1 "10.244.0.9" "curl/8.11.1" "${id}" "${authority}" "172.18.0.5:80" ${c.gateway} ${GATEWAY_IP}:51234 ${GATEWAY_IP}:8080 10.244.0.9:${remote + 1} - -`;
  return { sidecar, gateway };
}
