import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type EvalTarget, evaluate } from './evaluator.ts';
import type { ConfigSnapshot } from './xds-types.ts';

const TCP = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

const tcp = (cluster: string) => ({ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP, cluster } }] });
const hcm = (route: string) => ({
  filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, rds: { route_config_name: route } } }],
});
const listener = (name: string, address: string, port: number, rest: Record<string, unknown>) => ({
  name,
  address: { socket_address: { address, port_value: port } },
  ...rest,
});
const tlsInspector = {
  name: 'envoy.filters.listener.tls_inspector',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
};
const httpInspector = {
  name: 'envoy.filters.listener.http_inspector',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector' },
};

function virtualOutbound(catchAll: string) {
  return listener('virtualOutbound', '0.0.0.0', 15001, {
    use_original_dst: { value: true },
    filter_chains: [
      { name: 'virtualOutbound-blackhole', filter_chain_match: { destination_port: { value: 15001 } }, ...tcp('BlackHoleCluster') },
      { name: 'virtualOutbound-catchall-tcp', ...tcp(catchAll) },
    ],
  });
}

function handMade(policyCluster: 'PassthroughCluster' | 'BlackHoleCluster'): ConfigSnapshot {
  const blocked = policyCluster === 'BlackHoleCluster';
  return {
    clusters: [
      'PassthroughCluster',
      'BlackHoleCluster',
      'outbound|5432||db.example.com',
      'outbound|80||api.example.com',
      'outbound|443||api.example.com',
      'outbound|443||*.wild.example.com',
      'outbound|5433||pinned.example.com',
    ].map((name) => ({ name })),
    listeners: [
      virtualOutbound(policyCluster),
      listener('0.0.0.0_5432', '0.0.0.0', 5432, { filter_chains: [tcp('outbound|5432||db.example.com')] }),
      listener('192.0.2.10_5433', '192.0.2.10', 5433, { filter_chains: [tcp('outbound|5433||pinned.example.com')] }),
      listener('0.0.0.0_80', '0.0.0.0', 80, {
        listener_filters: [httpInspector],
        filter_chains: [
          { filter_chain_match: { transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] }, ...hcm('80') },
        ],
        default_filter_chain: { name: 'PassthroughFilterChain', ...tcp(policyCluster) },
      }),
      listener('0.0.0.0_443', '0.0.0.0', 443, {
        listener_filters: [tlsInspector],
        filter_chains: [
          { filter_chain_match: { server_names: ['*.wild.example.com'] }, ...tcp('outbound|443||*.wild.example.com') },
          { filter_chain_match: { server_names: ['api.example.com'] }, ...tcp('outbound|443||api.example.com') },
        ],
        default_filter_chain: { name: 'PassthroughFilterChain', ...tcp(policyCluster) },
      }),
    ],
    routes: [
      {
        name: '80',
        ignore_port_in_host_matching: true,
        virtual_hosts: [
          {
            name: 'api.example.com:80',
            domains: ['api.example.com', 'api.example.com.'],
            routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'outbound|80||api.example.com' } }],
          },
          blocked
            ? {
                name: 'block_all',
                domains: ['*'],
                routes: [{ name: 'block_all', match: { prefix: '/' }, direct_response: { status: 502 } }],
              }
            : {
                name: 'allow_any',
                domains: ['*'],
                routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }],
              },
        ],
      },
    ],
  };
}

const t = (scheme: EvalTarget['scheme'], host: string, port: number, isIp = false): EvalTarget => ({ scheme, host, port, isIp, path: '/' });
const ELSEWHERE = '203.0.113.7';

describe('evaluate (hand-made config)', () => {
  const ro = handMade('BlackHoleCluster');
  const aa = handMade('PassthroughCluster');

  it('a TCP ServiceEntry port without addresses captures every host on that port', () => {
    for (const snap of [ro, aa]) {
      const o = evaluate(snap, t('tcp', 'anything.example.org', 5432), ELSEWHERE);
      expect(o).toMatchObject({ verdict: 'allowed', cluster: 'outbound|5432||db.example.com' });
      expect(o.evidence).toMatchObject({ listener: '0.0.0.0_5432', listenerMatch: 'wildcard' });
    }
  });

  it('an unknown port falls to virtualOutbound: BlackHole (tcp-close) or Passthrough', () => {
    expect(evaluate(ro, t('tcp', 'x.example.com', 6379), ELSEWHERE)).toMatchObject({
      verdict: 'blocked',
      cluster: 'BlackHoleCluster',
      signal: 'tcp-close',
    });
    const o = evaluate(aa, t('tcp', 'x.example.com', 6379), ELSEWHERE);
    expect(o).toMatchObject({ verdict: 'allowed', cluster: 'PassthroughCluster' });
    expect(o.evidence).toMatchObject({ listener: 'virtualOutbound', filterChain: 'virtualOutbound-catchall-tcp' });
  });

  it('an exact address listener wins over virtualOutbound only for its address', () => {
    expect(evaluate(ro, t('tcp', '192.0.2.10', 5433, true), '192.0.2.10')).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|5433||pinned.example.com',
    });
    expect(evaluate(ro, t('tcp', 'other.example.com', 5433), ELSEWHERE)).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
  });

  it('HTTP to a known host routes to its cluster; an unknown host gets the catch-all', () => {
    expect(evaluate(ro, t('http', 'api.example.com', 80), ELSEWHERE)).toMatchObject({
      verdict: 'allowed',
      cluster: 'outbound|80||api.example.com',
    });
    const blocked = evaluate(ro, t('http', 'unknown.example.com', 80), ELSEWHERE);
    expect(blocked).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'http-502' });
    expect(blocked.evidence).toMatchObject({ routeConfig: '80', virtualHost: 'block_all', directResponse: 502 });
    expect(evaluate(aa, t('http', 'unknown.example.com', 80), ELSEWHERE)).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
    });
  });

  it('raw TCP on an HTTP port misses the http/1.1 chain and takes the default chain', () => {
    const o = evaluate(ro, t('tcp', 'api.example.com', 80), ELSEWHERE);
    expect(o).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster', signal: 'tcp-close' });
    expect(o.evidence).toMatchObject({ filterChain: 'PassthroughFilterChain' });
  });

  it('TLS picks the chain by SNI, exact before wildcard; no SNI match → default chain', () => {
    expect(evaluate(ro, t('https', 'api.example.com', 443), ELSEWHERE)).toMatchObject({ cluster: 'outbound|443||api.example.com' });
    expect(evaluate(ro, t('https', 'a.b.wild.example.com', 443), ELSEWHERE)).toMatchObject({ cluster: 'outbound|443||*.wild.example.com' });
    expect(evaluate(ro, t('https', 'wild.example.com', 443), ELSEWHERE)).toMatchObject({ verdict: 'blocked', cluster: 'BlackHoleCluster' });
    // An IP literal sends no SNI.
    expect(evaluate(aa, t('https', '198.51.100.1', 443, true), '198.51.100.1')).toMatchObject({
      verdict: 'allowed',
      cluster: 'PassthroughCluster',
    });
  });

  // Envoy: tcp_proxy to an unknown cluster closes; the router answers 503 (cluster_not_found_response_code).
  it('a route to a cluster missing from CDS is a blocked call: tcp_proxy closes, the router answers 503', () => {
    const broken = {
      ...ro,
      clusters: ro.clusters.filter((c) => c.name !== 'outbound|5432||db.example.com' && c.name !== 'outbound|80||api.example.com'),
    };
    const tcp = evaluate(broken, t('tcp', 'db.example.com', 5432), ELSEWHERE);
    expect(tcp).toMatchObject({ verdict: 'blocked', cluster: 'outbound|5432||db.example.com', signal: 'tcp-close' });
    expect(tcp.evidence.clusterNotFound).toMatch(/not in the CDS snapshot/);
    const http = evaluate(broken, t('http', 'api.example.com', 80), ELSEWHERE);
    expect(http).toMatchObject({ verdict: 'blocked', cluster: 'outbound|80||api.example.com', signal: 'http-503' });
  });
});

// Snapshots captured from the real pinned pilot-discovery (testdata/capture.ts) for a sidecar in `frontend`
// with: db.example.com TCP 5432, api.example.com HTTP 80 + HTTPS 443, *.wild.example.com TLS 443 (NONE),
// pinned-db.example.com TCP 5433 at 192.0.2.10.
function real(policy: 'REGISTRY_ONLY' | 'ALLOW_ANY'): ConfigSnapshot {
  return JSON.parse(readFileSync(new URL(`./testdata/snapshot-frontend-${policy}.json`, import.meta.url), 'utf8'));
}

describe('evaluate (snapshots from the real istiod)', () => {
  const cases: Array<[EvalTarget, string, Record<'REGISTRY_ONLY' | 'ALLOW_ANY', [string, string, string?]>]> = [
    [
      t('tcp', 'db.example.com', 5432),
      ELSEWHERE,
      { REGISTRY_ONLY: ['allowed', 'outbound|5432||db.example.com'], ALLOW_ANY: ['allowed', 'outbound|5432||db.example.com'] },
    ],
    [
      t('tcp', 'unlisted.example.com', 5432),
      ELSEWHERE,
      { REGISTRY_ONLY: ['allowed', 'outbound|5432||db.example.com'], ALLOW_ANY: ['allowed', 'outbound|5432||db.example.com'] },
    ],
    [
      t('http', 'api.example.com', 80),
      ELSEWHERE,
      { REGISTRY_ONLY: ['allowed', 'outbound|80||api.example.com'], ALLOW_ANY: ['allowed', 'outbound|80||api.example.com'] },
    ],
    [
      t('http', 'unlisted.example.com', 80),
      ELSEWHERE,
      { REGISTRY_ONLY: ['blocked', 'BlackHoleCluster', 'http-502'], ALLOW_ANY: ['allowed', 'PassthroughCluster'] },
    ],
    [
      t('https', 'api.example.com', 443),
      ELSEWHERE,
      { REGISTRY_ONLY: ['allowed', 'outbound|443||api.example.com'], ALLOW_ANY: ['allowed', 'outbound|443||api.example.com'] },
    ],
    [
      t('https', 'x.wild.example.com', 443),
      ELSEWHERE,
      { REGISTRY_ONLY: ['allowed', 'outbound|443||*.wild.example.com'], ALLOW_ANY: ['allowed', 'outbound|443||*.wild.example.com'] },
    ],
    [
      t('https', 'unlisted.example.com', 443),
      ELSEWHERE,
      { REGISTRY_ONLY: ['blocked', 'BlackHoleCluster', 'tcp-close'], ALLOW_ANY: ['allowed', 'PassthroughCluster'] },
    ],
    [
      t('http', 'unlisted.example.com', 8080),
      ELSEWHERE,
      { REGISTRY_ONLY: ['blocked', 'BlackHoleCluster', 'tcp-close'], ALLOW_ANY: ['allowed', 'PassthroughCluster'] },
    ],
    [
      t('tcp', '192.0.2.10', 5433, true),
      '192.0.2.10',
      {
        REGISTRY_ONLY: ['allowed', 'outbound|5433||pinned-db.example.com'],
        ALLOW_ANY: ['allowed', 'outbound|5433||pinned-db.example.com'],
      },
    ],
    [
      t('tcp', 'pinned-db.example.com', 5433),
      ELSEWHERE,
      { REGISTRY_ONLY: ['blocked', 'BlackHoleCluster', 'tcp-close'], ALLOW_ANY: ['allowed', 'PassthroughCluster'] },
    ],
  ];
  for (const policy of ['REGISTRY_ONLY', 'ALLOW_ANY'] as const) {
    for (const [target, addr, want] of cases) {
      it(`${policy}: ${target.scheme}://${target.host}:${target.port} → ${want[policy].join(' ')}`, () => {
        const [verdict, cluster, signal] = want[policy];
        const o = evaluate(real(policy), target, addr);
        expect(o.verdict).toBe(verdict);
        expect(o.cluster).toBe(cluster);
        if (signal) expect(o.signal).toBe(signal);
        expect(o.evidence.listener).toBeDefined();
      });
    }
  }
});

describe("Envoy's own 404 at a sidecar", () => {
  it("a Host no virtual host of an address listener's route config takes is blocked with 404 (corpus master-2026-08-27 s230-165#9)", () => {
    const snapshot: ConfigSnapshot = {
      clusters: [{ name: 'PassthroughCluster' }, { name: 'outbound|5432||api.example.net' }],
      listeners: [
        virtualOutbound('PassthroughCluster'),
        listener('198.51.100.7_5432', '198.51.100.7', 5432, { filter_chains: [hcm('api.example.net:5432')] }),
      ],
      routes: [
        {
          name: 'api.example.net:5432',
          virtual_hosts: [
            {
              name: 'other.example.net:5432',
              domains: ['other.example.net'],
              routes: [{ match: { prefix: '/' }, route: { cluster: 'outbound|5432||api.example.net' } }],
            },
          ],
        },
      ],
    } as ConfigSnapshot;
    const target: EvalTarget = { scheme: 'http', host: '198.51.100.7', port: 5432, path: '/' } as EvalTarget;
    expect(evaluate(snapshot, target, '198.51.100.7')).toMatchObject({ verdict: 'blocked', cluster: '(no route)', signal: 'http-404' });
  });
});
