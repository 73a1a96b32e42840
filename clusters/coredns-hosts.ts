// Makes cluster DNS resolve the external test hosts to the server containers on the kind network.
// Pure text transformation of the CoreDNS Corefile, so it is unit-tested without a cluster.

/** One `IP NAME` line of the CoreDNS hosts plugin. */
export interface HostEntry {
  host: string;
  ip: string;
}

const BEGIN = '# egress-conformance hosts begin';
const END = '# egress-conformance hosts end';

/**
 * The hosts block. `ttl 1`: the hosts plugin rejects 0 (valid range 1..65535, "ttl provided is invalid"),
 * and one second is short enough that entries re-pointed by a later run are seen at once.
 * `fallthrough` passes every other name on to the kubernetes and forward plugins.
 */
export function hostsBlock(entries: HostEntry[], indent = '    '): string {
  const lines = [
    `${indent}${BEGIN}`,
    `${indent}hosts {`,
    ...entries.map((e) => `${indent}    ${e.ip} ${e.host}`),
    `${indent}    ttl 1`,
    `${indent}    fallthrough`,
    `${indent}}`,
    `${indent}${END}`,
  ];
  return lines.join('\n');
}

/**
 * Returns the Corefile with our hosts block (replacing one from an earlier run, so a reused cluster gets the
 * new container IPs) placed before the `kubernetes` plugin of the root server block, and with the kubernetes
 * plugin's `ttl 30` set to `ttl 0` as Istio's CI does, so DNS changes are seen at once.
 */
export function patchCorefile(corefile: string, entries: HostEntry[]): string {
  const stripped = removeBlock(corefile);
  const lines = stripped.split('\n');
  const at = lines.findIndex((l) => /^\s*kubernetes\s/.test(l));
  if (at < 0) {
    throw new Error('CoreDNS Corefile has no `kubernetes` plugin line; cannot place the hosts block');
  }
  const indent = /^(\s*)/.exec(lines[at] ?? '')?.[1] ?? '';
  lines.splice(at, 0, hostsBlock(entries, indent));
  return lines.join('\n').replace(/^(\s*)ttl 30$/m, '$1ttl 0');
}

function removeBlock(corefile: string): string {
  const lines = corefile.split('\n');
  const b = lines.findIndex((l) => l.trim() === BEGIN);
  const e = lines.findIndex((l) => l.trim() === END);
  if (b < 0 || e < b) return corefile;
  lines.splice(b, e - b + 1);
  return lines.join('\n');
}
