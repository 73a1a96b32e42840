// Parses probe destinations: http://host[:port][/path], https://host[:port][/path], tcp://host:port.
import { isIP } from 'node:net';
import type { ProbeTarget, Scheme } from '../model/types.ts';
import { UserError } from '../model/errors.ts';

const DEFAULT_PORT: Record<Scheme, number | undefined> = { http: 80, https: 443, tcp: undefined };

export function parseProbeUrl(raw: string, what = '--probe'): ProbeTarget {
  const m = /^([a-z]+):\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#\s]+)(?::(\d+))?(\/[^\s]*)?$/.exec(raw.trim());
  if (!m) {
    throw new UserError(`${what}: "${raw}" is not a probe URL; use http://HOST[:PORT][/PATH], https://HOST[:PORT][/PATH] or tcp://HOST:PORT`);
  }
  const scheme = m[1] as Scheme;
  if (!(scheme in DEFAULT_PORT)) {
    throw new UserError(`${what}: scheme "${m[1]}" in "${raw}" is not supported; use http, https or tcp`);
  }
  const host = m[2].replace(/^\[|\]$/g, '').toLowerCase();
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
  return { scheme, host, port, path: m[4] ?? '/', isIp, raw };
}

/** `NAMESPACE=URL` as given to `--probe`. */
export function parseProbeFlag(flag: string): { namespace: string; target: ProbeTarget } {
  const eq = flag.indexOf('=');
  if (eq <= 0) {
    throw new UserError(`--probe: "${flag}" must be NAMESPACE=URL, e.g. --probe frontend=tcp://db.example.com:5432`);
  }
  const namespace = flag.slice(0, eq);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    throw new UserError(`--probe: "${namespace}" is not a valid namespace name (DNS-1123 label)`);
  }
  return { namespace, target: parseProbeUrl(flag.slice(eq + 1)) };
}
