// Istio's own admission rules for the resources the suite accepts: a resource Istio would reject is
// bad input, never a case. Facts: pkg/config/validation/validation.go (ValidateServiceEntry,
// ValidateSidecar, validateExportTo) and pkg/config/protocol (protocol names).
import { isIP } from 'node:net';
import { isCidr } from '../net/addresses.ts';

// Istio's own label pattern (pkg/config/labels dns1123LabelFmt), upper-case letters included: `istioctl validate`
// accepts a host, port name or exportTo entry written with them.
const DNS1123_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const PROTOCOLS = new Set(['HTTP', 'HTTP_PROXY', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS', 'UDP']);

/**
 * A host as Istio accepts it (agent.ValidateWildcardDomain): DNS-1123 labels, a first label that may be
 * `*`, `*foo` or `*-foo`, a top-level label that is not all digits, a trailing dot allowed.
 * `partial` tells whether the first label is a partial wildcard (`*foo`): a warning on a ServiceEntry,
 * an error in a Sidecar.
 */
export function hostProblem(host: string, opts: { allowPartial?: boolean } = {}): string | undefined {
  if (host === '*') return `host "*" is not allowed; name the hosts, or use a wildcard such as "*.example.com"`;
  if (host.length === 0) return 'an empty host is not allowed';
  if (host.length > 255) return `host "${host}" is longer than 255 characters`;
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  const [first = '', ...rest] = labels; // split yields at least one label
  const bad = `host "${host}" is not a valid DNS name (labels are letters, digits and "-"; only the first label may hold a wildcard)`;
  if (first !== '*') {
    const m = /^\*(-?)(.*)$/.exec(first);
    if (m) {
      if (!DNS1123_LABEL.test(m[2] ?? '') || first.length > 63) return bad;
      if (!opts.allowPartial) return `host "${host}": partial wildcard "${first}" is not allowed; use "*.${rest.join('.')}"`;
    } else if (!DNS1123_LABEL.test(first) || first.length > 63) return bad;
  }
  for (const label of rest) if (label.length > 63 || !DNS1123_LABEL.test(label)) return bad;
  const tld = labels[labels.length - 1] ?? '';
  if (labels.length > 1 && /^\d+$/.test(tld))
    return `host "${host}" is not a valid DNS name (top-level domain "${tld}" cannot be all digits)`;
  return undefined;
}

function isFqdnHost(h: string): boolean {
  return !h.includes('*') && hostProblem(h) === undefined;
}

export function exportToProblems(exportTo: unknown, field = 'spec.exportTo', ownNamespace?: string): string[] {
  if (exportTo === undefined || exportTo === null) return [];
  if (!Array.isArray(exportTo)) return [`${field} must be a list`];
  const errs: string[] = [];
  const seen = new Set<string>();
  for (const e of exportTo) {
    if (typeof e !== 'string') {
      errs.push(`${field} entries must be strings`);
      continue;
    }
    if (seen.has(e)) errs.push(`${field} has "${e}" twice`);
    seen.add(e);
    if (e !== '.' && e !== '*' && e !== '~' && !(DNS1123_LABEL.test(e) && e.length <= 63)) {
      errs.push(`${field} "${e}" is not ".", "*", "~" or a namespace name`);
    }
  }
  if (ownNamespace && seen.has('.') && seen.has(ownNamespace))
    errs.push(`${field}: "." and "${ownNamespace}" both name the resource's own namespace`);
  if (seen.size > 1 && seen.has('*')) errs.push(`${field}: "*" (public) cannot be combined with other values`);
  if (seen.size > 1 && seen.has('~')) errs.push(`${field}: "~" (no one) cannot be combined with other values`);
  return errs;
}

type Obj = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function serviceEntryProblems(spec: Obj, namespace: string): string[] {
  const errs: string[] = [];
  const hosts = asArray(spec.hosts) as string[];
  const addresses = asArray(spec.addresses) as string[];
  const ports = asArray(spec.ports) as Obj[];
  const endpoints = asArray(spec.endpoints) as Obj[];
  const resolution = (spec.resolution as string | undefined) ?? 'NONE';
  const hasSelector = spec.workloadSelector !== undefined && spec.workloadSelector !== null;

  if (hosts.length === 0) errs.push('spec.hosts: a ServiceEntry needs at least one host');
  for (const h of hosts) {
    const p = typeof h === 'string' ? hostProblem(h, { allowPartial: true }) : 'hosts must be strings';
    if (p) errs.push(`spec.hosts: ${p}`);
  }
  if (new Set(hosts).size !== hosts.length) errs.push('spec.hosts: a host is listed twice');

  let cidrs = 0;
  for (const a of addresses) {
    if (typeof a !== 'string' || (isIP(a) === 0 && !isCidr(a)))
      errs.push(`spec.addresses: "${String(a)}" is not an IP address or CIDR range`);
    else if (a.includes('/')) cidrs++;
  }

  if (!['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'].includes(resolution)) {
    errs.push(`spec.resolution: "${resolution}" is not NONE, STATIC, DNS, DNS_ROUND_ROBIN or DYNAMIC_DNS`);
  }
  if (spec.location !== undefined && !['MESH_EXTERNAL', 'MESH_INTERNAL'].includes(spec.location as string)) {
    errs.push(`spec.location: "${String(spec.location)}" is not MESH_EXTERNAL or MESH_INTERNAL`);
  }

  if (hasSelector && endpoints.length > 0) errs.push('spec: only one of workloadSelector or endpoints may be set');

  const numbers = new Set<number>();
  const names = new Set<string>();
  let nonHttpTls = false;
  for (const [i, p] of ports.entries()) {
    const num = p.number as number;
    const name = p.name as string | undefined;
    const proto = typeof p.protocol === 'string' ? p.protocol.toUpperCase() : '';
    if (!Number.isInteger(num) || num < 1 || num > 65535)
      errs.push(`spec.ports[${i}].number: ${String(num)} is not a port number (1-65535)`);
    else if (numbers.has(num)) errs.push(`spec.ports[${i}].number: port ${num} is declared twice`);
    numbers.add(num);
    if (!name) errs.push(`spec.ports[${i}].name: every port needs a name`);
    else if (names.has(name)) errs.push(`spec.ports[${i}].name: port name "${name}" is used twice`);
    else if (!DNS1123_LABEL.test(name) || name.length > 63) errs.push(`spec.ports[${i}].name: "${name}" is not a valid port name`);
    if (name) names.add(name);
    if (proto && !PROTOCOLS.has(proto)) errs.push(`spec.ports[${i}].protocol: "${String(p.protocol)}" is not a protocol Istio knows`);
    if (
      p.targetPort !== undefined &&
      (!Number.isInteger(p.targetPort) || (p.targetPort as number) < 1 || (p.targetPort as number) > 65535)
    ) {
      errs.push(`spec.ports[${i}].targetPort: ${String(p.targetPort)} is not a port number`);
    }
    if (!['HTTP', 'HTTP_PROXY', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'TLS'].includes(proto)) nonHttpTls = true;
  }

  switch (resolution) {
    case 'DYNAMIC_DNS':
      errs.push(...dynamicDnsProblems(hosts, addresses, endpoints, ports));
      break;
    case 'NONE':
      if (endpoints.length > 0) errs.push('spec.endpoints: no endpoints may be given with resolution NONE');
      break;
    case 'STATIC':
      // No endpoints is accepted (istioctl validate agrees): the cluster is simply empty.
      for (const e of endpoints) {
        const a = e.address as string | undefined;
        if (a && isIP(a) === 0 && !a.startsWith('unix://'))
          errs.push(`spec.endpoints: "${a}" must be an IP address with resolution STATIC`);
      }
      break;
    default:
      // DNS and DNS_ROUND_ROBIN resolve the hosts themselves unless endpoints are given.
      if (endpoints.length === 0) {
        for (const h of hosts) {
          if (typeof h === 'string' && !isFqdnHost(h))
            errs.push(`spec.hosts: "${h}" cannot be resolved by DNS; wildcard hosts with resolution ${resolution} need endpoints`);
        }
      }
      if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1)
        errs.push('spec.endpoints: resolution DNS_ROUND_ROBIN takes at most one endpoint');
      for (const e of endpoints) {
        const a = e.address as string | undefined;
        if (a && isIP(a) === 0 && !isFqdnHost(a)) errs.push(`spec.endpoints: "${a}" is neither an IP address nor a DNS name`);
      }
  }
  if (cidrs > 0 && resolution !== 'NONE' && resolution !== 'STATIC') {
    errs.push(`spec.addresses: CIDR ranges are only allowed with resolution NONE or STATIC, not ${resolution}`);
  }
  for (const e of endpoints) {
    if (!e.address && !hasSelector) errs.push('spec.endpoints: every endpoint needs an address');
    for (const [pn, pv] of Object.entries((e.ports as Obj | undefined) ?? {})) {
      if (!names.has(pn))
        errs.push(`spec.endpoints: port name "${pn}" of endpoint ${String(e.address)} is not a port of this ServiceEntry`);
      if (!Number.isInteger(pv) || (pv as number) < 1 || (pv as number) > 65535)
        errs.push(`spec.endpoints: port ${String(pv)} of endpoint ${String(e.address)} is out of range`);
    }
  }
  if (resolution !== 'NONE' && hosts.length > 1 && nonHttpTls) {
    errs.push(
      'spec.hosts: several hosts with a non-HTTP, non-TLS port cannot be told apart; use one ServiceEntry per host, or resolution NONE',
    );
  }
  errs.push(...exportToProblems(spec.exportTo, 'spec.exportTo', namespace));
  return errs;
}

/**
 * DYNAMIC_DNS (a dynamic forward proxy cluster per host): wildcard hosts only, no addresses, no endpoints, and
 * only the protocols the DFP cluster carries. ValidateServiceEntry, `case networking.ServiceEntry_DYNAMIC_DNS`,
 * pkg/config/validation/validation.go at the pinned build; HTTPS and an unset protocol are refused there too.
 */
function dynamicDnsProblems(hosts: string[], addresses: string[], endpoints: Obj[], ports: Obj[]): string[] {
  const errs: string[] = [];
  for (const h of hosts)
    if (typeof h === 'string' && !h.startsWith('*'))
      errs.push(`spec.hosts: "${h}" must be a wildcard such as "*.example.com" with resolution DYNAMIC_DNS`);
  if (addresses.length > 0) errs.push('spec.addresses: no addresses may be given with resolution DYNAMIC_DNS');
  if (endpoints.length > 0) errs.push('spec.endpoints: no endpoints may be given with resolution DYNAMIC_DNS');
  for (const [i, p] of ports.entries()) {
    const proto = typeof p.protocol === 'string' ? p.protocol.toUpperCase() : '';
    if (!['HTTP', 'TLS', 'GRPC', 'HTTP2'].includes(proto))
      errs.push(`spec.ports[${i}].protocol: resolution DYNAMIC_DNS takes only HTTP, TLS, GRPC or HTTP2, not "${proto || '(unset)'}"`);
  }
  return errs;
}

const CAPTURE_MODES = new Set(['DEFAULT', 'IPTABLES', 'NONE']);

/**
 * An egress listener with a port: its name, protocol and number, and a bind that is an IP address (or, for port
 * 0, a unix socket); validateSidecarEgressPortBindAndCaptureMode in pkg/config/validation/validation.go.
 */
function egressPortProblems(e: Obj, i: number): string[] {
  const errs: string[] = [];
  const p = e.port as Obj;
  const at = `spec.egress[${i}]`;
  const name = p.name as string | undefined;
  if (name && (!DNS1123_LABEL.test(name) || name.length > 63)) errs.push(`${at}.port.name: "${name}" is not a valid port name`);
  const proto = typeof p.protocol === 'string' ? p.protocol.toUpperCase() : '';
  if (proto && !PROTOCOLS.has(proto)) errs.push(`${at}.port.protocol: "${String(p.protocol)}" is not a protocol Istio knows`);
  const num = p.number;
  const bind = typeof e.bind === 'string' ? e.bind : '';
  if (num === 0) {
    if (!bind.startsWith('unix://')) errs.push(`${at}.bind: a listener on port 0 needs a unix:// bind address`);
  } else if (!Number.isInteger(num) || (num as number) < 1 || (num as number) > 65535)
    errs.push(`${at}.port.number: ${String(num)} is not a port number (1-65535)`);
  else if (bind && isIP(bind) === 0) errs.push(`${at}.bind: "${bind}" is not an IP address`);
  if (e.captureMode !== undefined && !CAPTURE_MODES.has(String(e.captureMode)))
    errs.push(`${at}.captureMode: "${String(e.captureMode)}" is not DEFAULT, IPTABLES or NONE`);
  return errs;
}

export function sidecarProblems(spec: Obj): string[] {
  const errs: string[] = [];
  const egress = asArray(spec.egress) as Obj[];
  if (egress.length === 0 && asArray(spec.ingress).length === 0 && !spec.outboundTrafficPolicy && !spec.inboundConnectionPool) {
    errs.push('spec: a Sidecar needs egress, ingress or outboundTrafficPolicy (Istio rejects an empty one)');
  }
  const ports = new Set<number>();
  egress.forEach((e, i) => {
    const hosts = asArray(e.hosts);
    const port = (e.port as Obj | undefined)?.number as number | undefined;
    if (e.port) errs.push(...egressPortProblems(e, i));
    if (port === undefined) {
      if (i !== egress.length - 1) errs.push(`spec.egress[${i}]: the egress listener without a port must be the last one`);
    } else if (ports.has(port)) errs.push(`spec.egress[${i}].port: port ${port} has two egress listeners`);
    else ports.add(port);
    if (hosts.length === 0) errs.push(`spec.egress[${i}].hosts: an egress listener needs at least one host`);
    for (const h of hosts) {
      if (typeof h !== 'string') {
        errs.push(`spec.egress[${i}].hosts: entries must be strings`);
        continue;
      }
      const parts = h.split('/');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
        errs.push(`spec.egress[${i}].hosts: "${h}" must be namespace/dnsName, e.g. "./*" or "istio-system/*"`);
        continue;
      }
      const [ns = '', dns = ''] = parts; // exactly two, checked above
      const bare = ns.startsWith('~') ? ns.slice(1) : ns;
      if (bare !== '' && bare !== '*' && bare !== '.' && !DNS1123_LABEL.test(bare))
        errs.push(`spec.egress[${i}].hosts: "${ns}" in "${h}" is not a namespace, ".", "*" or "~"`);
      if (dns !== '*') {
        if (!dns.includes('.')) errs.push(`spec.egress[${i}].hosts: "${dns}" in "${h}" is a short name; use a fully qualified name`);
        else {
          const p = hostProblem(dns);
          if (p) errs.push(`spec.egress[${i}].hosts: ${p}`);
        }
      }
    }
  });
  const otp = spec.outboundTrafficPolicy as Obj | undefined;
  if (otp?.mode === 'ALLOW_ANY_DYNAMIC_DNS') {
    // validateSidecarOutboundTrafficPolicy: the mode exists in MeshConfig only (the Sidecar API's enum lacks it).
    errs.push('spec.outboundTrafficPolicy.mode: ALLOW_ANY_DYNAMIC_DNS is only supported in the mesh config, not in a Sidecar');
  } else if (otp && otp.mode !== undefined && otp.mode !== 'ALLOW_ANY' && otp.mode !== 'REGISTRY_ONLY') {
    errs.push(`spec.outboundTrafficPolicy.mode: "${String(otp.mode)}" is not ALLOW_ANY or REGISTRY_ONLY`);
  }
  if (otp?.egressProxy && otp.mode !== 'ALLOW_ANY') errs.push('spec.outboundTrafficPolicy.egressProxy is only allowed with mode ALLOW_ANY');
  return errs;
}
