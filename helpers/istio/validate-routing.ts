// Istio's admission rules for Gateway, VirtualService and DestinationRule, as far as egress configurations
// use them. Facts: pkg/config/validation/validation.go at the pinned build (istio.io/istio
// v0.0.0-20260827124520-eed52ebb66ad): ValidateGateway / validateServer / validateServerPort /
// validateTLSOptions, ValidateVirtualService / validateTLSRoute / validateSniHost / validateGatewayNames /
// validateRouteDestinations / validateDestination, ValidateDestinationRule / validateSubset.
// Rules for fields egress configurations do not use (CORS, fault injection, outlier detection, ...) are not
// repeated here; istiod still applies them when the lane runs.
import { exportToProblems, hostProblem } from './validate.ts';

type Obj = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const isLabel = (s: unknown): s is string => typeof s === 'string' && s.length <= 63 && DNS1123_LABEL.test(s);
// validateSubsetName: pkg/config/labels IsDNS1123Label, whose label format takes upper case too (instance.go
// dns1123LabelFmt `[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?`); `Edition` is a subset istioctl accepts.
const isSubsetName = (s: unknown): s is string =>
  typeof s === 'string' && s.length <= 63 && /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(s);

/**
 * validateExportTo with isServiceEntry false: `~` (visibility.None) is for ServiceEntries only; on a
 * VirtualService or DestinationRule visibility.Instance.Validate refuses it.
 */
function routingExportToProblems(exportTo: unknown, namespace: string): string[] {
  const errs = exportToProblems(exportTo, 'spec.exportTo', namespace);
  if (Array.isArray(exportTo) && exportTo.includes('~'))
    errs.push('spec.exportTo: "~" (none) is not allowed for Istio configuration objects other than ServiceEntries');
  return errs;
}
// pkg/config/protocol Parse: names Istio knows (case-insensitive); anything else is Unsupported.
const PROTOCOLS = new Set(['HTTP', 'HTTP_PROXY', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS', 'UDP']);
const TLS_PROTOCOLS = new Set(['HTTPS', 'TLS']);
const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP_PROXY', 'GRPC', 'GRPC-WEB', 'HTTP2']);
const CLIENT_TLS_MODES = new Set(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']);

const portOk = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
const protoOf = (p: Obj | undefined) => (typeof p?.protocol === 'string' ? p.protocol.toUpperCase() : '');

/** agent.ValidateNamespaceSlashWildcardHostname: `[ns/]host`, ns `*`, `.` or a label; host may be `*`. */
function serverHostProblem(h: unknown): string | undefined {
  if (typeof h !== 'string') return 'hosts must be strings';
  const parts = h.split('/');
  if (parts.length > 2) return `host "${h}" has more than one "/"`;
  const [ns, host] = parts.length === 2 ? parts : ['*', parts[0] ?? ''];
  if (ns !== '*' && ns !== '.' && !isLabel(ns)) return `host "${h}": "${ns}" is not "*", "." or a namespace name`;
  if (host === '*') return undefined;
  return hostProblem(host ?? '', { allowPartial: true });
}

function serverTlsProblems(tls: Obj, i: number): string[] {
  const errs: string[] = [];
  const mode = (tls.mode as string | undefined) ?? 'PASSTHROUGH';
  const certs = !!tls.serverCertificate && !!tls.privateKey;
  const sources = [certs, !!tls.credentialName, asArray(tls.credentialNames).length > 0, asArray(tls.tlsCertificates).length > 0];
  if (mode === 'ISTIO_MUTUAL') {
    for (const f of ['serverCertificate', 'privateKey', 'caCertificates', 'credentialName'])
      if (tls[f]) errs.push(`spec.servers[${i}].tls: ISTIO_MUTUAL cannot have ${f}`);
    return errs;
  }
  if (sources.filter(Boolean).length > 1)
    errs.push(`spec.servers[${i}].tls: only one of credentialName, credentialNames, serverCertificate/privateKey, tlsCertificates`);
  if (['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL'].includes(mode) && !tls.credentialName && asArray(tls.credentialNames).length === 0) {
    if (mode !== 'SIMPLE' && !tls.caCertificates) errs.push(`spec.servers[${i}].tls: ${mode} requires caCertificates`);
    if (asArray(tls.tlsCertificates).length === 0 && (!tls.serverCertificate || !tls.privateKey))
      errs.push(`spec.servers[${i}].tls: ${mode} needs credentialName, or serverCertificate and privateKey`);
  }
  return errs;
}

export function gatewayProblems(spec: Obj, name: string): string[] {
  const errs: string[] = [];
  if (!isLabel(name)) errs.push(`metadata.name: a Gateway name is a DNS label (no dots), not "${name}"`);
  const servers = asArray(spec.servers) as Obj[];
  if (servers.length === 0) errs.push('spec.servers: a Gateway needs at least one server');
  const portNames = new Set<string>();
  servers.forEach((s, i) => {
    const hosts = asArray(s.hosts);
    if (hosts.length === 0) errs.push(`spec.servers[${i}].hosts: a server needs at least one host`);
    for (const h of hosts) {
      const p = serverHostProblem(h);
      if (p) errs.push(`spec.servers[${i}].hosts: ${p}`);
    }
    const port = s.port as Obj | undefined;
    if (!port) {
      errs.push(`spec.servers[${i}].port is required`);
      return;
    }
    const proto = protoOf(port);
    let portValid = true;
    if (!PROTOCOLS.has(proto)) {
      errs.push(`spec.servers[${i}].port.protocol: "${String(port.protocol ?? '')}" is not a protocol Istio knows`);
      portValid = false;
    }
    if (!portOk(port.number)) {
      errs.push(`spec.servers[${i}].port.number: ${String(port.number)} is not a port number (1-65535)`);
      portValid = false;
    }
    if (port.targetPort) {
      errs.push(`spec.servers[${i}].port.targetPort has no effect on a Gateway; remove it`);
      portValid = false;
    }
    if (!port.name) {
      errs.push(`spec.servers[${i}].port.name must be set`);
      portValid = false;
    }
    if (typeof port.name === 'string' && portNames.has(port.name))
      errs.push(`spec.servers: port name "${port.name}" is used by two servers`);
    if (typeof port.name === 'string') portNames.add(port.name);
    const tls = s.tls as Obj | undefined;
    if (tls) errs.push(...serverTlsProblems(tls, i));
    if (!portValid) return;
    if (TLS_PROTOCOLS.has(proto) && !tls) errs.push(`spec.servers[${i}]: a ${proto} server needs tls settings`);
    else if (!TLS_PROTOCOLS.has(proto) && tls) {
      // A plain HTTP server may only carry httpsRedirect (IsPassThroughServer: mode unset or PASSTHROUGH).
      const passthrough = !tls.mode || tls.mode === 'PASSTHROUGH';
      const certs = tls.caCertificates || tls.privateKey || tls.serverCertificate;
      if (!HTTP_PROTOCOLS.has(proto) || !passthrough || certs) errs.push(`spec.servers[${i}]: a ${proto} server cannot have tls settings`);
    }
  });
  return errs;
}

function gatewayNameProblems(names: unknown[], field: string): string[] {
  const errs: string[] = [];
  for (const g of names) {
    if (typeof g !== 'string') {
      errs.push(`${field}: entries must be strings`);
      continue;
    }
    const parts = g.split('/');
    if (parts.length === 1) {
      if (g !== 'mesh' && hostProblem(g) !== undefined) errs.push(`${field}: "${g}" is not a gateway name`);
    } else if (parts.length !== 2 || !isLabel(parts[0]) || !isLabel(parts[1])) errs.push(`${field}: "${g}" is not NAMESPACE/NAME`);
  }
  return errs;
}

function destinationProblems(routes: unknown[], field: string): string[] {
  const errs: string[] = [];
  let total = 0;
  routes.forEach((r, i) => {
    const d = (r as Obj | null)?.destination as Obj | undefined;
    if (!d) {
      errs.push(`${field}[${i}].destination is required`);
      return;
    }
    if (d.host === '*' || typeof d.host !== 'string') errs.push(`${field}[${i}].destination.host: "${String(d.host)}" is not a host`);
    else {
      const p = hostProblem(d.host, { allowPartial: true });
      if (p) errs.push(`${field}[${i}].destination.host: ${p}`);
    }
    if (d.subset !== undefined && !isSubsetName(d.subset))
      errs.push(`${field}[${i}].destination.subset: "${String(d.subset)}" is not valid`);
    const port = (d.port as Obj | undefined)?.number;
    if (port !== undefined && !portOk(port)) errs.push(`${field}[${i}].destination.port: ${String(port)} is not a port number`);
    const w = (r as Obj).weight;
    if (w !== undefined && (!Number.isInteger(w) || (w as number) < 0)) errs.push(`${field}[${i}].weight: ${String(w)} < 0`);
    total += typeof w === 'number' ? w : 0;
  });
  if (routes.length > 1 && total === 0) errs.push(`${field}: total destination weight = 0`);
  return errs;
}

/** host.Name.SubsetOf: every name the first matches, the second matches too. */
function subsetOfHost(a: string, b: string): boolean {
  if (b === '*') return true;
  if (b.startsWith('*')) return a.startsWith('*') ? a.endsWith(b.slice(1)) : a.endsWith(b.slice(1)) && a.length > b.length - 1;
  return a === b;
}

export function virtualServiceProblems(spec: Obj, namespace: string): string[] {
  const errs: string[] = [];
  const hosts = asArray(spec.hosts);
  const gateways = asArray(spec.gateways);
  const http = asArray(spec.http);
  const tls = asArray(spec.tls);
  const tcp = asArray(spec.tcp);
  if (hosts.length === 0) {
    if (gateways.length) errs.push('spec.gateways: a delegate VirtualService (no hosts) has no gateways');
    if (tls.length || tcp.length) errs.push('spec: a delegate VirtualService (no hosts) has no tls or tcp routes');
  }
  errs.push(...gatewayNameProblems(gateways, 'spec.gateways'));
  const appliesToMesh = gateways.length === 0 || gateways.includes('mesh');
  for (const h of hosts) {
    if (typeof h !== 'string') errs.push('spec.hosts: entries must be strings');
    else if (h === '*') {
      if (appliesToMesh) errs.push('spec.hosts: "*" is not allowed for a VirtualService bound to the mesh');
    } else {
      const p = hostProblem(h, { allowPartial: true });
      if (p && !/^[\d.]+$|:/.test(h)) errs.push(`spec.hosts: ${p}`);
    }
  }
  const hs = hosts.filter((h): h is string => typeof h === 'string');
  for (let i = 0; i < hs.length; i++)
    for (let j = i + 1; j < hs.length; j++)
      if (subsetOfHost(hs[j]!, hs[i]!) || subsetOfHost(hs[i]!, hs[j]!))
        errs.push(`spec.hosts: "${hs[i]}" and "${hs[j]}" overlap (duplicate hosts)`);
  if (http.length + tls.length + tcp.length === 0) errs.push('spec: a VirtualService needs http, tls or tcp routes');
  http.forEach((r, i) => {
    const route = r as Obj | null;
    if (!route) return void errs.push(`spec.http[${i}] may not be null`);
    if (route.route !== undefined) errs.push(...destinationProblems(asArray(route.route), `spec.http[${i}].route`));
  });
  tls.forEach((r, i) => {
    const route = (r ?? {}) as Obj;
    const match = asArray(route.match) as Obj[];
    if (match.length === 0) errs.push(`spec.tls[${i}].match: a TLS route needs at least one match`);
    match.forEach((m, j) => {
      const sni = asArray(m?.sniHosts);
      if (sni.length === 0) errs.push(`spec.tls[${i}].match[${j}].sniHosts: at least one SNI host`);
      for (const s of sni) {
        if (typeof s !== 'string' || hostProblem(s, { allowPartial: true })) {
          errs.push(`spec.tls[${i}].match[${j}].sniHosts: "${String(s)}" is not a host`);
        } else if (!hs.some((h) => subsetOfHost(s, h)))
          errs.push(`spec.tls[${i}].match[${j}].sniHosts: "${s}" is not within the VirtualService's hosts`);
      }
      errs.push(...gatewayNameProblems(asArray(m?.gateways), `spec.tls[${i}].match[${j}].gateways`));
    });
    if (asArray(route.route).length === 0) errs.push(`spec.tls[${i}].route is required`);
    errs.push(...destinationProblems(asArray(route.route), `spec.tls[${i}].route`));
  });
  tcp.forEach((r, i) => {
    const route = (r ?? {}) as Obj;
    if (asArray(route.route).length === 0) errs.push(`spec.tcp[${i}].route is required`);
    errs.push(...destinationProblems(asArray(route.route), `spec.tcp[${i}].route`));
  });
  errs.push(...routingExportToProblems(spec.exportTo, namespace));
  return errs;
}

function trafficPolicyTlsProblems(policy: Obj | undefined, field: string): string[] {
  const errs: string[] = [];
  if (!policy) return errs;
  const tls = policy.tls as Obj | undefined;
  if (tls?.mode !== undefined && !CLIENT_TLS_MODES.has(String(tls.mode)))
    errs.push(`${field}.tls.mode: "${String(tls.mode)}" is not DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL`);
  asArray(policy.portLevelSettings).forEach((p, i) => {
    const pl = (p ?? {}) as Obj;
    if (!pl.port) errs.push(`${field}.portLevelSettings[${i}].port is required`);
    if (!pl.tls && !pl.connectionPool && !pl.loadBalancer && !pl.outlierDetection)
      errs.push(`${field}.portLevelSettings[${i}]: needs at least one setting`);
    const mode = (pl.tls as Obj | undefined)?.mode;
    if (mode !== undefined && !CLIENT_TLS_MODES.has(String(mode)))
      errs.push(`${field}.portLevelSettings[${i}].tls.mode: "${String(mode)}" is not a TLS mode`);
  });
  return errs;
}

export function destinationRuleProblems(spec: Obj, namespace: string): string[] {
  const errs: string[] = [];
  const host = spec.host;
  if (typeof host !== 'string' || host === '') errs.push('spec.host: a DestinationRule needs a host');
  else {
    const p = host === '*' ? undefined : hostProblem(host, { allowPartial: true });
    if (p) errs.push(`spec.host: ${p}`);
  }
  errs.push(...trafficPolicyTlsProblems(spec.trafficPolicy as Obj | undefined, 'spec.trafficPolicy'));
  const names = new Set<string>();
  asArray(spec.subsets).forEach((s, i) => {
    const sub = (s ?? {}) as Obj;
    if (!sub.name) errs.push(`spec.subsets[${i}].name cannot be empty`);
    else if (!isSubsetName(sub.name)) errs.push(`spec.subsets[${i}].name: "${String(sub.name)}" is not valid`);
    else if (names.has(sub.name)) errs.push(`spec.subsets: duplicate subset name "${sub.name}"`);
    if (typeof sub.name === 'string') names.add(sub.name);
    errs.push(...trafficPolicyTlsProblems(sub.trafficPolicy as Obj | undefined, `spec.subsets[${i}].trafficPolicy`));
  });
  errs.push(...routingExportToProblems(spec.exportTo, namespace));
  return errs;
}
