// The access-log reader on lines in Istio's default TEXT format (pilot/pkg/model/telemetry_logging.go,
// EnvoyTextLogFormat), as the istio-proxy container logs them between the agent's and Envoy's own lines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterForPort, clusterOf, parseAccessLog, parseAccessLogLine, portOf } from './access-log.ts';

const LOG = readFileSync(new URL('./testdata/istio-proxy-log.txt', import.meta.url), 'utf8');

describe('Istio access log (default TEXT format)', () => {
  const entries = parseAccessLog(LOG);
  const entry = (i: number) => {
    const e = entries[i];
    if (!e) throw new Error(`testdata/istio-proxy-log.txt has no access-log entry ${i}`);
    return e;
  };

  it('keeps access-log lines only, skipping the agent and Envoy lines around them', () => {
    expect(entries).toHaveLength(9);
    expect(entries.every((e) => e.line.startsWith('['))).toBe(true);
  });

  it('reads a TCP connection to a ServiceEntry: cluster, original destination, upstream host', () => {
    expect(entries[0]).toMatchObject({
      method: '-',
      protocol: '-',
      responseCode: 0,
      responseFlags: '-',
      bytesReceived: 88,
      bytesSent: 415,
      durationMs: 25,
      upstreamHost: '172.18.0.3:5432',
      upstreamCluster: 'outbound|5432||db.example.com',
      downstreamLocalAddress: '172.18.0.3:5432',
      downstreamRemoteAddress: '10.244.0.9:39866',
      routeName: '-',
    });
    expect(clusterOf(entry(0))).toBe('outbound|5432||db.example.com');
  });

  it('names the block_all direct 502 BlackHoleCluster, as the oracle does', () => {
    const e = entry(1);
    expect(e).toMatchObject({
      method: 'GET',
      path: '/',
      responseCode: 502,
      responseCodeDetails: 'direct_response',
      upstreamCluster: '-',
      routeName: 'block_all',
      authority: 'unlisted.example.com',
    });
    expect(clusterOf(e)).toBe('BlackHoleCluster');
  });

  it('reads BlackHoleCluster for a TCP connection with nothing matched (UH)', () => {
    expect(entries[2]).toMatchObject({
      responseFlags: 'UH',
      upstreamCluster: 'BlackHoleCluster',
      upstreamHost: '-',
      downstreamLocalAddress: '172.18.0.4:443',
    });
  });

  it('reads an HTTP request through a ServiceEntry route and through allow_any', () => {
    expect(entries[3]).toMatchObject({
      path: '/hello',
      responseCode: 200,
      responseCodeDetails: 'via_upstream',
      durationMs: 4,
      upstreamCluster: 'outbound|80||api.example.com',
      routeName: 'default',
    });
    expect(entries[4]).toMatchObject({ upstreamCluster: 'PassthroughCluster', routeName: 'allow_any' });
    expect(entries[5]).toMatchObject({ upstreamCluster: 'PassthroughCluster', requestedServerName: 'api.example.com' });
  });

  it('reads a failed upstream connection with its transport failure reason', () => {
    expect(entries[6]).toMatchObject({
      responseCode: 503,
      responseFlags: 'UF',
      responseCodeDetails: 'upstream_reset_before_response_started{remote_connection_failure}',
      upstreamTransportFailureReason: 'delayed_connect_error:_Connection_refused',
      upstreamLocalAddress: '-',
    });
  });

  it('rejects lines of another format', () => {
    expect(parseAccessLogLine('[2026-11-29T18:41:02.118Z] "GET / HTTP/1.1" 200')).toBeUndefined();
    expect(parseAccessLogLine('2026-11-29T18:40:01.004791Z\tinfo\tEnvoy proxy is ready')).toBeUndefined();
  });

  it('ports of address fields', () => {
    expect(portOf('172.18.0.3:5432')).toBe(5432);
    expect(portOf('[fd00::1]:80')).toBe(80);
    expect(portOf('-')).toBeUndefined();
  });

  it('a probe’s cluster: the lines for its port, which must agree', () => {
    expect(clusterForPort(entries, 5432)).toEqual({ cluster: 'outbound|5432||db.example.com', lines: [entry(0).line] });
    expect(clusterForPort([entry(1)], 80).cluster).toBe('BlackHoleCluster');
    expect(clusterForPort(entries, 8080)).toMatchObject({ problem: 'no access-log line for port 8080', lines: [] });
    const split = clusterForPort(entries, 5433);
    expect(split.cluster).toBeUndefined();
    expect(split.problem).toMatch(/disagree: BlackHoleCluster, PassthroughCluster/);
    const local = parseAccessLogLine(entry(1).line.replace('block_all', 'some_route'))!;
    expect(clusterForPort([local], 80).problem).toMatch(/names no cluster \(route some_route, direct_response\)/);
  });
});
