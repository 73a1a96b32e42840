// Parses probe destinations: http://host[:port][/path], https://host[:port][/path], tcp://host:port.
import { isIP } from 'node:net';
import type { ProbeSource, ProbeTarget, Scheme } from '../model/types.ts';
import { UserError } from '../model/errors.ts';

const DEFAULT_PORT: Record<Scheme, number | undefined> = { http: 80, https: 443, tcp: undefined };

export function parseProbeUrl(raw: string, what = '--probe'): ProbeTarget {
  const m = /^([a-z]+):\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#\s]+)(?::(\d+))?(\/[^\s]*)?$/.exec(raw.trim());
  if (!m) {
    throw new UserError(
      `${what}: "${raw}" is not a probe URL; use http://HOST[:PORT][/PATH], https://HOST[:PORT][/PATH] or tcp://HOST:PORT`,
    );
  }
  const scheme = m[1] as Scheme;
  if (!(scheme in DEFAULT_PORT)) {
    throw new UserError(`${what}: scheme "${m[1]}" in "${raw}" is not supported; use http, https or tcp`);
  }
  // Group 2 is not optional: a match always has it.
  const written = m[2]!.replace(/^\[|\]$/g, '').toLowerCase();
  // One trailing dot makes an absolute name, valid in a URL (RFC 3986 reg-name; curl takes it).
  const absolute = written.length > 1 && written.endsWith('.') && isIP(written.slice(0, -1)) === 0;
  const host = absolute ? written.slice(0, -1) : written;
  const isIp = isIP(host) !== 0;
  if (!isIp && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
    throw new UserError(`${what}: "${host}" in "${raw}" is not a valid hostname or IP address`);
  }
  const port = m[3] !== undefined ? Number(m[3]) : DEFAULT_PORT[scheme];
  if (port === undefined) {
    throw new UserError(`${what}: "${raw}" needs a port; tcp:// probes are written tcp://HOST:PORT`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError(`${what}: port ${m[3]} in "${raw}" is out of range (1-65535)`);
  }
  if (scheme === 'tcp' && m[4] && m[4] !== '/') {
    throw new UserError(`${what}: "${raw}" has a path; tcp:// probes carry none`);
  }
  return { scheme, host, port, path: m[4] ?? '/', isIp, ...(absolute ? { absolute: true as const } : {}), raw };
}

type Named = Pick<ProbeTarget, 'scheme' | 'host' | 'port'> & { absolute?: true };

/** The host as the URL writes it: IPv6 in brackets, an absolute name with its trailing dot. */
export function urlHost(target: Named): string {
  if (isIP(target.host) === 6) return `[${target.host}]`;
  return target.absolute ? `${target.host}.` : target.host;
}

/** The Host header curl sends: the URL's host, with the port only when it is not the scheme's default. */
export function hostHeader(target: Named): string {
  const dflt = target.scheme === 'https' ? 443 : 80;
  return target.port === dflt ? urlHost(target) : `${urlHost(target)}:${target.port}`;
}

/**
 * A probe's source: `NAMESPACE` or `NAMESPACE[key=value,key=value]`, a workload with those pod labels
 * (what a Sidecar's workloadSelector matches).
 */
export function parseProbeSource(text: string, what = '--probe'): ProbeSource {
  const m = /^([^[\]=]+)(?:\[([^\]]*)\])?$/.exec(text.trim());
  const namespace = m?.[1] ?? text;
  if (!m || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    throw new UserError(
      `${what}: "${namespace}" is not a valid namespace name (DNS-1123 label); a labelled workload is written NAMESPACE[key=value,...]`,
    );
  }
  if (m[2] === undefined) return { namespace };
  const labels: Record<string, string> = {};
  for (const pair of m[2].split(',')) {
    const [k, v, ...rest] = pair.split('=');
    // Label keys: an optional DNS prefix and a name; values: up to 63 of [A-Za-z0-9-_.], alphanumeric at both ends.
    if (
      !k ||
      v === undefined ||
      rest.length ||
      !/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k) ||
      !/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(v)
    ) {
      throw new UserError(`${what}: "${pair}" in "${text}" is not a pod label key=value, e.g. default[app=web]`);
    }
    labels[k] = v;
  }
  if (Object.keys(labels).length === 0)
    throw new UserError(`${what}: "${text}" has empty brackets; write NAMESPACE or NAMESPACE[key=value]`);
  return { namespace, labels };
}

/** `NAMESPACE[labels]` as printed in tables and case ids: `default[app=web]`. */
export function formatProbeSource(from: ProbeSource): string {
  const labels = Object.entries(from.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return labels.length ? `${from.namespace}[${labels.map(([k, v]) => `${k}=${v}`).join(',')}]` : from.namespace;
}

/** `NAMESPACE=URL` or `NAMESPACE[key=value,...]=URL` as given to `--probe`. */
export function parseProbeFlag(flag: string): {
  namespace: string;
  labels?: Record<string, string>;
  from: ProbeSource;
  target: ProbeTarget;
} {
  // The source ends at the first "=" outside the label brackets.
  const open = flag.indexOf('[');
  const first = flag.indexOf('=');
  const labelled = open >= 0 && (first < 0 || open < first);
  const close = labelled ? flag.indexOf(']') : -1;
  const eq = labelled ? (close < 0 ? -1 : flag.indexOf('=', close)) : first;
  if (eq <= 0) {
    throw new UserError(
      `--probe: "${flag}" must be NAMESPACE=URL, e.g. --probe frontend=tcp://db.example.com:5432 (or NAMESPACE[app=web]=URL for a labelled workload)`,
    );
  }
  const from = parseProbeSource(flag.slice(0, eq));
  return { namespace: from.namespace, ...(from.labels ? { labels: from.labels } : {}), from, target: parseProbeUrl(flag.slice(eq + 1)) };
}
