// Reads the client sidecar's access log: which Envoy cluster a probe's connection went through.
//
// The kind lane's IstioOperators set `accessLogFile: /dev/stdout` and no `accessLogFormat`, so every line
// is Istio's default TEXT format, `EnvoyTextLogFormat` in pilot/pkg/model/telemetry_logging.go (used by
// fileAccessLogFormat when the format string is empty):
//
//   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS%
//   %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED%
//   %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
//   "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS%
//   %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%
//
// UPSTREAM_CLUSTER_RAW is the cluster's real name (not its alt_stat_name). With REDIRECT capture
// DOWNSTREAM_LOCAL_ADDRESS is the address the client dialled (the original destination), which is how a
// line is matched to a probe. Two cases carry no upstream cluster:
// - the HTTP catch-all of REGISTRY_ONLY is a direct 502 from the virtual host and route named `block_all`
//   (buildCatchAllVirtualHost in pilot/pkg/networking/core/httproute.go, util.BlackHole in
//   pilot/pkg/networking/util/util.go): the line has cluster `-`, route `block_all`, details
//   `direct_response`. The oracle names that outcome BlackHoleCluster, so this reader does too, and
//   keeps the route in the evidence.
// - anything else without a cluster (a local reply before routing): no cluster is claimed.

export interface AccessLogEntry {
  startTime: string;
  method: string;
  path: string;
  protocol: string;
  responseCode: number;
  responseFlags: string;
  responseCodeDetails: string;
  connectionTerminationDetails: string;
  upstreamTransportFailureReason: string;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number | undefined;
  authority: string;
  upstreamHost: string;
  /** `-` when there was none. */
  upstreamCluster: string;
  upstreamLocalAddress: string;
  downstreamLocalAddress: string;
  downstreamRemoteAddress: string;
  requestedServerName: string;
  routeName: string;
  /** The line as logged. */
  line: string;
}

const q = '"([^"]*)"';
const LINE = new RegExp(
  [
    String.raw`^\[([^\]]+)\]`,
    String.raw`"(\S+) (\S+) (\S+)"`,
    String.raw`(\d+) (\S+) (\S+) (.*?)`,
    q,
    String.raw`(\d+) (\d+) (\d+|-) (\S+)`,
    q,
    q,
    q,
    q,
    q,
    String.raw`(\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\s*$`,
  ].join(' '),
);

/** One access-log line of Istio's default TEXT format, or undefined for any other line (Envoy and agent logs). */
export function parseAccessLogLine(line: string): AccessLogEntry | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  // Every group of LINE is required, so the defaults never apply; they only tell the compiler so.
  const [
    ,
    startTime = '',
    method = '',
    path = '',
    protocol = '',
    code = '',
    flags = '',
    details = '',
    termination = '',
    transport = '',
    rx = '',
    tx = '',
    duration = '',
    ,
    ,
    ,
    ,
    authority = '',
    upstreamHost = '',
    cluster = '',
    upstreamLocal = '',
    downstreamLocal = '',
    downstreamRemote = '',
    sni = '',
    route = '',
  ] = m;
  return {
    startTime,
    method,
    path,
    protocol,
    responseCode: Number(code),
    responseFlags: flags,
    responseCodeDetails: details,
    connectionTerminationDetails: termination,
    upstreamTransportFailureReason: transport,
    bytesReceived: Number(rx),
    bytesSent: Number(tx),
    durationMs: duration === '-' ? undefined : Number(duration),
    authority,
    upstreamHost,
    upstreamCluster: cluster,
    upstreamLocalAddress: upstreamLocal,
    downstreamLocalAddress: downstreamLocal,
    downstreamRemoteAddress: downstreamRemote,
    requestedServerName: sni,
    routeName: route,
    line: line.trim(),
  };
}

export function parseAccessLog(text: string): AccessLogEntry[] {
  return text
    .split('\n')
    .map(parseAccessLogLine)
    .filter((e): e is AccessLogEntry => e !== undefined);
}

/** The port of an Envoy address field (`10.0.0.1:5432`, `[fd00::1]:80`); undefined for `-`. */
export function portOf(address: string): number | undefined {
  const m = /:(\d+)$/.exec(address);
  return m ? Number(m[1]) : undefined;
}

/** The cluster an entry went through, as the oracle names it; undefined when the line names none. */
export function clusterOf(e: AccessLogEntry): string | undefined {
  if (e.upstreamCluster !== '-' && e.upstreamCluster !== '') return e.upstreamCluster;
  if (e.routeName === 'block_all') return 'BlackHoleCluster';
  return undefined;
}

export interface ClusterReading {
  /** Set when every matching line names the same cluster. */
  cluster?: string;
  /** The lines read for the probe, as logged. */
  lines: string[];
  /** Why no cluster is claimed. */
  problem?: string;
}

/**
 * The cluster of a probe's connection(s): the entries (already limited to those logged since the probe
 * started) whose original destination port is the probe's. A psql probe may open two connections
 * (libpq retries without GSS/SSL negotiation); both must agree.
 */
export function clusterForPort(entries: AccessLogEntry[], port: number): ClusterReading {
  const mine = entries.filter((e) => portOf(e.downstreamLocalAddress) === port);
  const lines = mine.map((e) => e.line);
  const clusters = [...new Set(mine.map((e) => clusterOf(e) ?? `(none: route ${e.routeName}, ${e.responseCodeDetails})`))];
  if (clusters.length > 1) return { lines, problem: `access-log lines for port ${port} disagree: ${clusters.join(', ')}` };
  const [first] = mine;
  if (!first) return { lines, problem: `no access-log line for port ${port}` };
  const cluster = clusterOf(first);
  if (!cluster)
    return { lines, problem: `access-log line for port ${port} names no cluster (route ${first.routeName}, ${first.responseCodeDetails})` };
  return { cluster, lines };
}
