// The oracle: what Istio should do with one probe, and why. Pure: no I/O, no clock.
// Rule sources (Istio source paths) are cited in policy.ts, visibility.ts, listeners.ts and version.ts.
import { isIP } from 'node:net';
import { dnsProxyLookup } from '../model/dns-proxy.ts';
import type { PolicyMode, Probe, ProbeSource, ResourceSet, ServiceEntry, Sidecar, SidecarEgress, PortProtocol } from '../model/types.ts';
import { effectivePolicy, meshMode, podLabels, selects, selectSidecar } from './policy.ts';
import { exportedTo, importedBy } from './visibility.ts';
import { buildListeners, compareRank, instancesOnly, portKind, type ListenerModel, type PortKind, type ServicePort } from './listeners.ts';
import { isWildcard, subsetOf } from './hosts.ts';
import { GATES, gateOpen, parseIstioVersion, type GateId, type IstioVersion, type VersionGate } from './version.ts';
import { creationSeconds } from './order.ts';
import { land } from './landing.ts';
import { entryLabel } from './entry-label.ts';
import { meshHttpRouted, meshTlsRouteSni } from './virtual-service.ts';
import { routingSeenBy } from './vs-import.ts';
import { installedWorkloads, withInstalledServices } from './gateway.ts';
import { clusterNotBuilt, type HostOwner, keptNamespaces, markUnmerged } from './scope.ts';
import type { OracleAnswer, RuleId } from './rules.ts';

export interface OracleOptions {
  istioVersion: string;
  /** Overrides the mesh-wide mode of the resources (the `--policy` flag, or the policy a scenario runs under). */
  policy?: PolicyMode;
  /** Version gates forced open or shut, to ask which rule a verdict depends on (see gateDependencies). */
  gates?: Partial<Record<GateId, boolean>>;
  /**
   * The client Pods that exist while the probe runs (a ServiceEntry workloadSelector matches them): on the
   * control-plane lane, the plain client of each client namespace, one per workload selector and one per
   * probe source (helpers/fuzz/pods.ts). The probe's own source and the install's gateway Pods always are.
   */
  workloads?: ProbeSource[];
  /**
   * false: leave out which version gates the answer depends on (each costs the whole answer again with the
   * gate flipped, and only the reason shows it). Where answers are compared, not read (the corpus check).
   */
  explainGates?: boolean;
}

/**
 * From 1.25 istiod gives entries without addresses a 240.240.0.0/16 address (resolution not NONE; a wildcard
 * host only under resolution DYNAMIC_DNS: pilot/pkg/controllers/ipallocate/ipallocate.go keepHost, since
 * istio/istio#57658, in both pinned builds), and only sidecars that capture DNS use it (model/service.go
 * nodeUsesAutoallocatedIPs). The exact address is istiod's choice: the oracle uses a stand-in from
 * that range, stable per entry and host, and never compares it with a real one.
 */
function autoAddress(se: ServiceEntry, resources: ResourceSet, hostIndex: number): string {
  // Numbered among the scenario's own entries (from 1), so that the cluster's Services do not shift it.
  const seIndex = resources.serviceEntries.filter((e) => !e.kubernetesService).indexOf(se) + 1;
  return `240.240.${seIndex % 256}.${(hostIndex + 1) % 256}`;
}

function autoAllocates(se: ServiceEntry, host: string, resources: ResourceSet, v: IstioVersion): boolean {
  return (
    !!resources.mesh.dnsCapture &&
    gateOpen(v, 'dns-auto-allocation') &&
    se.addresses.length === 0 &&
    se.resolution !== 'NONE' &&
    (!isWildcard(host) || se.resolution === 'DYNAMIC_DNS') &&
    !optsOutOfAutoAllocation(se)
  );
}

/**
 * The Pods of its namespace a workloadSelector matches (serviceentry/conversion.go), by address. A Pod's address is
 * the lane's choice from the Pod range (10.244.0.0/24 on kwok): the oracle gives a stand-in from that range, stable
 * per Pod of the list, and the referee compares such listeners by port (helpers/fuzz/referee.ts sameListener).
 */
function selectedPods(se: ServiceEntry, sel: Record<string, string>, pods: ProbeSource[]): { ips: string[]; own?: string } {
  const key = (p: ProbeSource) => `${p.namespace}/${JSON.stringify(podLabels(p))}`;
  // pods[0] is the probe's source: the sidecar builds no outbound listener for its own address (listener.go
  // buildSidecarOutboundListeners skips an instance at the node's IP), while the name table still lists it.
  const self = pods[0] ? key(pods[0]) : undefined;
  const seen = new Set<string>();
  const plain: string[] = [];
  const labelled: string[] = [];
  let own: string | undefined;
  pods.forEach((p, i) => {
    const k = key(p);
    if (p.namespace !== se.namespace || !selects(sel, podLabels(p)) || seen.has(k)) return;
    seen.add(k);
    const ip = `10.244.0.${200 + (i % 50)}`;
    if (k === self) own = ip;
    (Object.keys(p.labels ?? {}).length === 0 ? plain : labelled).push(ip);
  });
  // The name table lists the instances in the order conversion.go services() sorts the selected workloads (kind,
  // namespace, Pod name), and a name resolves to the first: the namespace's plain client comes first, its name
  // (egress-client) being a prefix of every labelled client's (egress-client-<hash>). That may be the calling
  // Pod's own address, which has no outbound listener (found by fuzzing: seed 1 path 346, shrunk). Among
  // labelled clients the order is their hashes', which the model does not know: others before the caller.
  const rest = [...labelled.filter((ip) => ip !== own), ...labelled.filter((ip) => ip === own)];
  return { ips: [...plain, ...rest], ...(own ? { own } : {}) };
}

interface Instances {
  /** The instances' addresses that are IPs, each once. */
  ips: string[];
  /** The one of ips that is the calling Pod's own. */
  own?: string;
  /** Whether istiod has any instance for the host and port, an address that is no IP (a host name) included. */
  any: boolean;
}

/**
 * The instances istiod holds for a host and port of a resolution-NONE entry without addresses. They are not only
 * its own: istiod keeps one endpoint set per namespace and host (serviceentry/conversion.go
 * mergeServicesInstancesByNamespaceHost merges every entry of the namespace declaring the host, oldest first, a
 * DNS_ROUND_ROBIN one adding nothing to a port that already has an instance), and push_context.go
 * initServiceRegistry files it under each service's port numbers. An entry's instances are the Pods its
 * workloadSelector matches, else its endpoints, else, for resolution DNS or DNS_ROUND_ROBIN, its host name
 * (conversion.go convertServiceEntryToInstances). Corpus master-2026-08-27 s231-105: a DNS entry of the same
 * namespace and host gives a NONE entry an instance `backend.example.com`.
 */
function instanceAddresses(se: ServiceEntry, host: string, port: number, resources: ResourceSet, pods: ProbeSource[]): Instances {
  if (se.resolution !== 'NONE' || se.addresses.length > 0) return { ips: [], any: false };
  const byName = (a: ServiceEntry, b: ServiceEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const sharers = resources.serviceEntries
    .filter((o) => !o.kubernetesService && o.namespace === se.namespace && o.hosts.includes(host) && o.ports.some((p) => p.number === port))
    .sort((a, b) => creationSeconds(a.manifest) - creationSeconds(b.manifest) || byName(a, b));
  const ips: string[] = [];
  let own: string | undefined;
  let any = false;
  for (const o of sharers) {
    let found: string[] = [];
    if (o.workloadSelector !== undefined) {
      const sel = selectedPods(o, o.workloadSelector, pods);
      found = sel.ips;
      own ??= sel.own;
    } else if (o.endpoints.length > 0) found = o.endpoints.map((e) => e.address);
    else if (o.resolution === 'DNS' || o.resolution === 'DNS_ROUND_ROBIN') found = [host];
    if (o.resolution === 'DNS_ROUND_ROBIN') {
      if (any) continue;
      found = found.slice(0, 1);
    }
    if (found.length > 0) any = true;
    for (const a of found) if (isIP(a) && !ips.includes(a)) ips.push(a);
  }
  return { ips, ...(own ? { own } : {}), any };
}

/**
 * The label `networking.istio.io/enable-autoallocate-ip: "false"` (any case) opts an entry out
 * (pilot/pkg/networking/serviceentry/ip_autoallocation.go shouldV2AutoAllocateIPFromPieces).
 * Found by fuzzing: fixtures/rules/fuzz-s5-559.yaml.
 */
function optsOutOfAutoAllocation(se: ServiceEntry): boolean {
  const labels = (se.manifest.metadata as { labels?: Record<string, unknown> } | undefined)?.labels;
  const v = labels?.['networking.istio.io/enable-autoallocate-ip'];
  return typeof v === 'string' && v.toLowerCase() === 'false';
}

interface Visibility {
  ports: ServicePort[];
  notes: string[];
  /** Visibility rules that touched an entry relevant to the probe. */
  rules: RuleId[];
  /** Kept hosts that build no listener (UDP ports only, or none) but have addresses: the DNS name table lists them. */
  namesOnly: NameEntry[];
}

/** A host the sidecar's DNS name table answers, with its addresses and processing order. */
interface NameEntry {
  host: string;
  ips: string[];
  rank: (string | number)[];
}

/**
 * An address 0.0.0.0 is no address to the listener: the service's DefaultAddress is then the wildcard
 * istiod binds an address-less service to (listener.go buildSidecarOutboundListener keys it 0.0.0.0_<port>).
 * A CIDR written on 0.0.0.0 (0.0.0.0/0, 0.0.0.0/1, ...) still binds the wildcard with a CIDR chain, but
 * filterChainOpts.toFilterChainMatch leaves out every prefix range whose address is 0.0.0.0, and the conflict
 * check (listener.go filterChainMatchEqual, cidrSet) skips it too: its chain matches every destination and
 * conflicts with a match-all chain like an address-less entry's. Checked on istiod eed52ebb66ad (2026-12-03),
 * fixtures/rules/unspecified-cidr.yaml.
 */
const UNSPECIFIED = '0.0.0.0';
function onUnspecified(cidr: string): boolean {
  return cidr.slice(0, cidr.indexOf('/')) === UNSPECIFIED;
}

/** A /32 or /128 range is a plain address to Istio (serviceentry/conversion.go). */
function singleAddress(a: string): string {
  return a.endsWith('/32') || a.endsWith('/128') ? a.slice(0, a.lastIndexOf('/')) : a;
}

/** Is the entry worth naming in the reason for this probe? */
function relevant(se: ServiceEntry, probe: Probe): boolean {
  return se.hosts.some((h) => subsetOf(probe.to.host, h)) || se.ports.some((p) => p.number === probe.to.port);
}

function visiblePorts(
  resources: ResourceSet,
  probe: Probe,
  v: IstioVersion,
  sidecar: Sidecar | undefined,
  pods: ProbeSource[],
): Visibility {
  const ports: ServicePort[] = [];
  const notes: string[] = [];
  const rules: RuleId[] = [];
  /** Every visible, imported entry's hosts, ports or not: a port-less entry still owns its host name. */
  const owners: HostOwner[] = [];
  const ns = probe.from.namespace;
  resources.serviceEntries.forEach((se) => {
    const rel = relevant(se, probe);
    const exp = exportedTo(se, ns, resources, v);
    if (rel && exp.rule) rules.push(exp.rule);
    if (!exp.visible) {
      if (rel) notes.push(`${exp.why}: not visible from ${ns}`);
      return;
    }
    let importNote = '';
    for (const host of se.hosts) {
      const listeners = importingListeners(sidecar, se, host, ns, v);
      if (listeners.length > 0)
        owners.push({
          host,
          namespace: se.namespace,
          se,
          rank: [exp.exportClass, creationSeconds(se.manifest), host, se.namespace],
          listeners,
        });
    }
    for (const p of se.ports) {
      // A Sidecar egress listener on this port sets the listener's protocol (found by fuzzing: fuzz-s2-301).
      const egressPort = sidecar?.egress.find((e) => e.port?.number === p.number)?.port;
      const sidecarPortProtocol = egressPort ? (egressPort.protocol ?? '').toUpperCase() : undefined;
      const kind = sidecarPortProtocol !== undefined ? portKind(sidecarPortProtocol as PortProtocol) : portKind(p.protocol);
      // Only the port's own protocol keeps a UDP port off the listeners: an egress listener with the port builds every
      // service it imports with its own protocol (listener.go buildSidecarOutboundListeners), a UDP port's included
      // (sidecar.go serviceMatchingListenerPort matches by number). Corpus master-2026-08-27 s230-159#0.
      if (!portKind(p.protocol) && !(kind && egressPort)) continue;
      if (reservedForHttp(resources, p.number, sidecarPortProtocol ?? p.protocol, sidecar, egressPort ? p.number : 0)) {
        if (rel && p.number === probe.to.port)
          notes.push(
            `${entryLabel(se)} port ${p.number} is an HTTP port on the sidecar's own ${p.number === meshPort(resources, 'proxyListenPort', 15001) ? 'outbound' : 'inbound'} capture port: istiod builds no listener for it (model/context.go conflictWithReservedListener)`,
          );
        continue;
      }
      const imp = importedBy(sidecar, se, p.number, ns, v);
      if (p.number === probe.to.port || !importNote) importNote = imp.why;
      if (rel && p.number === probe.to.port && imp.rule) rules.push(imp.rule);
      const push = (host: string, hostIndex: number, k: PortKind, extra: Partial<ServicePort>) => {
        const auto = autoAllocates(se, host, resources, v);
        const instances = instanceAddresses(se, host, p.number, resources, pods);
        const builder = extra.catchAll ? sidecar?.egress.find((e) => !e.port) : sidecar?.egress[egressListenerFor(sidecar, p.number)];
        if (rel && !auto && optsOutOfAutoAllocation(se) && resources.mesh.dnsCapture) rules.push('se.auto-allocate-opt-out');
        ports.push({
          se,
          host,
          port: p.number,
          kind: k,
          ips: auto
            ? [autoAddress(se, resources, hostIndex)]
            : se.addresses.map(singleAddress).filter((a) => !a.includes('/') && a !== UNSPECIFIED),
          cidrs: auto ? [] : se.addresses.map(singleAddress).filter((a) => a.includes('/') && !onUnspecified(a)),
          ...(!auto && se.addresses.some((a) => a.includes('/') && onUnspecified(singleAddress(a))) ? { unspecifiedCidr: true } : {}),
          autoAllocated: auto,
          ...(instances.ips.length ? { instanceIps: instances.ips, ...(instances.own ? { ownInstanceIp: instances.own } : {}) } : {}),
          ...(instances.any ? { hasInstances: true } : {}),
          ...listenerBinding(builder),
          ...extra,
          rank: [exp.exportClass, creationSeconds(se.manifest), host, se.namespace],
          ...(clusterNotBuilt(se, pods)
            ? {
                unbuilt: {
                  rule: 'se.dns-cluster-not-built' as const,
                  why: `resolution ${se.resolution}, a workloadSelector that matches no Pod of ${se.namespace}, and no endpoints`,
                },
              }
            : {}),
        });
      };
      if (kind && imp.imported)
        se.hosts.forEach((host, hostIndex) => {
          if (importedBy(sidecar, se, p.number, ns, v, host).imported)
            push(host, hostIndex, kind, sidecarPortProtocol !== undefined ? { sidecarPortProtocol } : {});
        });
      // A Sidecar egress listener whose port is HTTP_PROXY imports services whatever their ports (sidecar.go
      // needsPortMatch), builds its port's listener for each (listener.go buildSidecarOutboundListeners, HTTP_PROXY:
      // an HTTP chain right away) and routes with listener port 0 (httproute.go BuildSidecarOutboundVirtualHosts):
      // mergeAllVirtualHosts keeps port 80's virtual hosts whole and only the `host:port` domains of other ports,
      // which a Host never matches once the route ignores ports. So a request on that port reaches the port-80 HTTP
      // services it imports, to outbound|80||host. Checked on istiod eed52ebb66ad (2026-12-03),
      // fixtures/rules/sidecar-http-proxy-port.yaml.
      if (p.number === 80 && (p.protocol === '' || portKind(p.protocol) === 'http'))
        for (const e of sidecar?.egress ?? []) {
          if (!e.port || (e.port.protocol ?? '').toUpperCase() !== 'HTTP_PROXY' || e.port.number === 80) continue;
          const proxyPort = e.port.number;
          se.hosts.forEach((host, hostIndex) => {
            if (!importedBy(sidecar, se, proxyPort, ns, v, host).imported) return;
            const before = ports.length;
            push(host, hostIndex, 'http', { sidecarPortProtocol: 'HTTP_PROXY', clusterPort: 80 });
            const sp = ports[before];
            if (sp) {
              sp.port = proxyPort;
              // Port 80's virtual host keeps its address domains (generateVirtualHostDomains), and the route ignores
              // ports: a request to the address on the proxy port reaches it. Checked on istiod eed52ebb66ad
              // (2026-12-04), fixtures/rules/sidecar-http-proxy-port-address.yaml; found by a mutation survivor.
              sp.addressDomains = sp.ips;
              sp.ips = [];
              sp.cidrs = [];
              delete sp.bind;
              delete sp.bindToPort;
              Object.assign(sp, listenerBinding(e));
            }
          });
        }
      // The port-less egress listener builds this port too, after the one with the port, from its own imports
      // (listener.go buildSidecarOutboundListeners only skips the entries that listener locked).
      const own = portKind(p.protocol);
      const catchAllIndex = sidecar?.egress.findIndex((e) => !e.port) ?? -1;
      if (egressPort && own && catchAllIndex >= 0)
        se.hosts.forEach((host, hostIndex) => {
          if (importedBy(sidecar, se, 0, ns, v, host).imported) push(host, hostIndex, own, { catchAll: true });
        });
    }
    if (rel)
      notes.push(
        `${exp.why}; ${importNote || (se.ports.length > 0 ? 'it declares only UDP ports, which get no listener' : 'it declares no port')}`,
      );
  });
  // Each egress listener keeps one namespace per host for its listeners and routes (sidecar.go selectServices);
  // the clusters come from SidecarScope.Services(), which takes the egress listeners' services in the Sidecar's
  // order and keeps the first namespace of a host (collectImportedServices, appendSidecarServices).
  const listenerIds = [...new Set(owners.flatMap((o) => o.listeners ?? []))].sort((a, b) => a - b);
  const keepFor = new Map(
    listenerIds.map((id) => [
      id,
      keptNamespaces(
        owners.filter((o) => o.listeners?.includes(id)),
        ns,
      ),
    ]),
  );
  const clusterNs = new Map<string, string>();
  for (const id of listenerIds) for (const [host, n] of keepFor.get(id) ?? []) if (!clusterNs.has(host)) clusterNs.set(host, n);
  const catchAllIndex = sidecar?.egress.findIndex((e) => !e.port) ?? -1;
  const kept = ports.filter(
    (sp) => keepFor.get(sp.catchAll ? catchAllIndex : egressListenerFor(sidecar, sp.port))?.get(sp.host) === sp.se.namespace,
  );
  markUnmerged(kept, owners, clusterNs);
  for (const sp of kept) {
    const other = clusterNs.get(sp.host);
    if (sp.unbuilt || other === undefined || other === sp.se.namespace) continue;
    // The cluster of this host and port is built from the other namespace's service, if that one has the port.
    const hasPort = owners.some(
      (o) => o.host === sp.host && o.namespace === other && o.se.ports.some((p) => p.number === sp.port && p.protocol !== 'UDP'),
    );
    if (!hasPort)
      sp.unbuilt = {
        rule: 'hosts.one-per-name',
        why: `the sidecar's services keep ${other}'s ${sp.host}, imported by an earlier egress listener, and ${other} declares no port ${sp.port} for it`,
      };
  }
  if (ports.some((sp) => !kept.includes(sp) && relevant(sp.se, probe))) rules.push('hosts.one-per-name');
  // pkg/dns/server/name_table.go BuildNameTable walks every egress listener's services, whatever their ports: an
  // entry with UDP ports only (or none) builds no listener but its addresses still answer its host name, ahead of
  // a wildcard entry above it (found by fuzzing: seed 1 path 346, fixtures/rules/fuzz-s1-346.yaml).
  const namesOnly: NameEntry[] = owners
    .filter(
      (o) =>
        (o.listeners ?? []).some((id) => keepFor.get(id)?.get(o.host) === o.namespace) &&
        !kept.some((sp) => sp.se === o.se && sp.host === o.host),
    )
    .map((o) => {
      const auto = autoAllocates(o.se, o.host, resources, v);
      const ips = auto
        ? [autoAddress(o.se, resources, o.se.hosts.indexOf(o.host))]
        : o.se.addresses.map(singleAddress).filter((a) => !a.includes('/'));
      // A Passthrough service with ports lists its instances (name_table.go, the first port's endpoints).
      const first = o.se.ports[0];
      const instances = first ? instanceAddresses(o.se, o.host, first.number, resources, pods).ips : [];
      return { host: o.host, rank: o.rank, ips: ips.length > 0 ? ips : instances };
    })
    .filter((n) => n.ips.length > 0);
  return { ports: kept, notes, rules, namesOnly };
}

/**
 * Where the listeners an egress listener builds are keyed. listener.go buildSidecarOutboundListeners takes the
 * egress listener's `bind` whatever it is, `0.0.0.0` included, and without one under captureMode NONE the
 * proxy's loopback (127.0.0.1); buildSidecarOutboundListener then keys a TCP, TLS or sniffed service on
 * `<bind>_<port>` instead of its address (it looks for the service's address only when the bind is empty) and
 * gives it no CIDR chain; the per-instance listeners of a Passthrough service are skipped too. captureMode NONE
 * binds a real socket, on 127.0.0.1 out of captured traffic's reach (corpus master-2026-08-27 s64-2#2, s86-13#9,
 * s102-12#2, s104-14#3, s229-49#2). The same at both pinned builds (b01690e6db7d, eed52ebb66ad). Corpus
 * master-2026-04-23 s5-7#1: an auto-allocated MYSQL entry's listener is 0.0.0.0_80, not its 240.240.x.y_80;
 * master-2026-08-27 s232-0#0: under `bind: 192.0.2.10` the first Service with the port takes 192.0.2.10_443.
 */
function listenerBinding(e: SidecarEgress | undefined): Pick<ServicePort, 'bind' | 'bindToPort'> {
  const none = e?.captureMode?.toUpperCase() === 'NONE';
  const bind = e?.bind || (none ? '127.0.0.1' : undefined);
  if (bind === undefined) return {};
  return { bind, ...(none || bind.startsWith('unix://') ? { bindToPort: true } : {}) };
}

function meshPort(resources: ResourceSet, key: 'proxyListenPort' | 'proxyInboundListenPort', dflt: number): number {
  const v = resources.mesh.meshConfig?.[key];
  return typeof v === 'number' && v > 0 ? v : dflt;
}

/**
 * model/context.go CanBindToPort, conflictWithReservedListener: a listener on the wildcard (no bind and an HTTP
 * protocol, which binds 0.0.0.0, or a bind of 0.0.0.0) may not take meshConfig.proxyListenPort (15001) or
 * proxyInboundListenPort (15006), the sidecar's virtual listeners: istiod skips it (listener.go
 * buildSidecarOutboundListeners). A TCP port without a bind is not checked. Envoy's static ports (15021, 15090)
 * are checked against the proxy's metadata, which the pinned lane's proxies do not carry: not modelled. Checked
 * on istiod eed52ebb66ad (2026-12-03), fixtures/rules/reserved-ports.yaml.
 */
function reservedForHttp(
  resources: ResourceSet,
  port: number,
  protocol: string,
  sidecar: Sidecar | undefined,
  listenerPort: number,
): boolean {
  if (port !== meshPort(resources, 'proxyListenPort', 15001) && port !== meshPort(resources, 'proxyInboundListenPort', 15006)) return false;
  const builder = sidecar?.egress[egressListenerFor(sidecar, listenerPort)];
  const bind = builder?.bind || (builder?.captureMode?.toUpperCase() === 'NONE' ? '127.0.0.1' : '');
  if (bind) return bind === '0.0.0.0';
  return ['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY'].includes(protocol.toUpperCase());
}

/** The Sidecar egress listener that covers a port (its index), or -1 for the default one of a workload without Sidecar egress. */
function egressListenerFor(sidecar: Sidecar | undefined, port: number): number {
  const egress = sidecar?.egress ?? [];
  if (egress.length === 0) return -1;
  const i = egress.findIndex((e) => e.port?.number === port);
  return i >= 0 ? i : egress.findIndex((e) => !e.port);
}

/**
 * The egress listeners that import one host of an entry: a listener with a port only when the entry has that
 * port (sidecar.go serviceMatchingListenerPort) unless that port is HTTP_PROXY, the port-less one whatever its ports.
 */
function importingListeners(sidecar: Sidecar | undefined, se: ServiceEntry, host: string, ns: string, v: IstioVersion): number[] {
  const egress = sidecar?.egress ?? [];
  if (egress.length === 0) return importedBy(sidecar, se, 0, ns, v, host).imported ? [-1] : [];
  return egress.flatMap((e, i) => {
    const port = e.port?.number;
    if (port === undefined) return importedBy(sidecar, se, 0, ns, v, host).imported ? [i] : [];
    // An HTTP_PROXY listener matches no port (sidecar.go needsPortMatch).
    const anyPort = (e.port?.protocol ?? '').toUpperCase() === 'HTTP_PROXY';
    return (anyPort || se.ports.some((p) => p.number === port)) && importedBy(sidecar, se, port, ns, v, host).imported ? [i] : [];
  });
}

/**
 * Does a proxy in namespace `ns` have the cluster of a host's port? Outbound clusters exist for every non-UDP
 * port of each service in the proxy's scope (cluster_builder.go buildOutboundClusters over
 * SidecarScope.Services()); a gateway's scope is every service exported to its namespace, with no Sidecar
 * (sidecar.go DefaultSidecarScopeForGateway). A subset cluster exists only where a DestinationRule declares the
 * subset; `subset` here is refused, as the egressProxy's is (this project never applies one for it).
 * `resources` must hold the install's Services (withInstalledServices). Returns why the cluster is missing, or
 * undefined when it exists.
 */
export function missingCluster(
  ep: { host: string; port: number; subset?: string },
  resources: ResourceSet,
  ns: string,
  v: IstioVersion,
  sidecar: Sidecar | undefined,
  pods: ProbeSource[],
): string | undefined {
  if (ep.subset) return `subset ${ep.subset} needs a DestinationRule`;
  const inScope = resources.serviceEntries.filter(
    (se) =>
      se.hosts.includes(ep.host) &&
      exportedTo(se, ns, resources, v).visible &&
      // An entry without ports still owns its host name (sidecar.go appendSidecarServices works on services).
      (se.ports.length === 0
        ? importedBy(sidecar, se, 0, ns, v, ep.host).imported
        : se.ports.some((p) => portKind(p.protocol) && importedBy(sidecar, se, p.number, ns, v, ep.host).imported)),
  );
  if (inScope.length === 0) return `no ServiceEntry or Service visible from ${ns}${sidecar ? ' and imported' : ''} declares ${ep.host}`;
  // One service per host name for a workload: its own namespace's entry wins, else the first in processing order
  // (sidecar.go selectServices over services sorted by export class, creation time and namespace; the gateway's
  // appendSidecarServices over servicesExportedToNamespace likewise keeps the first), not the first written.
  // Corpus master-2026-08-27 s235-122#5, s238-54#0 (default's entry before payments', written later).
  const ranked = inScope
    .map((se) => ({ se, rank: [exportedTo(se, ns, resources, v).exportClass, creationSeconds(se.manifest), se.namespace] }))
    .sort(compareRank)
    .map((o) => o.se);
  const chosen = ranked.find((se) => se.namespace === ns) ?? ranked[0];
  if (!chosen) return `no ServiceEntry or Service visible from ${ns} declares ${ep.host}`;
  const owners = inScope.filter((se) => se.namespace === chosen.namespace);
  if (!owners.some((se) => se.ports.some((p) => p.number === ep.port && p.protocol !== 'UDP'))) return `${ep.host} has no port ${ep.port}`;
  if (owners.every((se) => clusterNotBuilt(se, pods))) return `${ep.host} is a DNS entry without endpoints`;
  return undefined;
}

/**
 * The address a probe dials. An IP literal is itself. A hostname resolves outside every ServiceEntry
 * address, except that a sidecar capturing DNS answers with the address of a visible entry.
 */
function destinationAddress(probe: Probe, ports: ServicePort[], resources: ResourceSet, namesOnly: NameEntry[] = []): string | undefined {
  if (probe.to.isIp) return probe.to.host;
  if (!resources.mesh.dnsCapture) return undefined;
  // The DNS proxy's lookup: the name, else the most specific wildcard entry above it (pkg/dns/client/dns.go).
  // A resolution-NONE entry without addresses answers with its instances' addresses, the Pods it selects
  // (pkg/dns/server/name_table.go BuildNameTable: a headless Passthrough service with ports lists its instances).
  // Several services of one name merge their addresses in the egress listener's order (name_table.go appends):
  // the first answer is the first service's, in processing order (s82-11#11).
  return dnsProxyLookup(probe.to.host, (name) => {
    const named: NameEntry[] = [
      ...ports.map((p) => ({ host: p.host, rank: p.rank, ips: p.ips.length > 0 ? p.ips : (p.instanceIps ?? []) })),
      ...namesOnly,
    ];
    return named.filter((n) => n.host === name && n.ips.length > 0).sort(compareRank)[0]?.ips[0];
  })?.found;
}

/** What the egress listeners' binds did to the probe's port, said aloud. */
function bindNotes(ports: ServicePort[], probe: Probe, listener: ListenerModel | undefined): string[] {
  const bound = ports.filter((sp) => sp.port === probe.to.port && sp.bind !== undefined);
  const binds = [...new Set(bound.map((sp) => sp.bind))];
  const notes = binds.map((b) =>
    bound.some((sp) => sp.bind === b && sp.bindToPort)
      ? `a Sidecar egress listener (captureMode NONE) binds its port ${probe.to.port} services to a socket on ${b}_${probe.to.port}${b === '0.0.0.0' ? ', which also takes captured calls to the port' : ', which a captured call reaches only by dialling that address'}`
      : `a Sidecar egress listener binds its port ${probe.to.port} services on ${b}_${probe.to.port}${bound.some((sp) => sp.bind === b && sp.kind !== 'http' && sp.ips.length + sp.cidrs.length > 0) ? ': their own addresses get no listener' : ''}`,
  );
  // httproute.go and listener.go give HTTP on a bind other than the wildcard no ALPN match and sniffed services a
  // route of their own (`<host>:<port>`); the model keeps the wildcard's shared chains there.
  if (
    listener !== undefined &&
    listener.name !== `0.0.0.0_${probe.to.port}` &&
    bound.some((sp) => `${sp.bind}_${sp.port}` === listener.name && (sp.kind === 'http' || sp.kind === 'sniffed'))
  )
    notes.push(`not modelled: HTTP chains on a Sidecar egress bind other than 0.0.0.0 (${listener.name})`);
  return notes;
}

/**
 * The listener a captured call reaches: its destination's, else the wildcard's. Envoy hands a connection the
 * virtualOutbound listener accepted to the listener whose address matches its original destination, exactly
 * or on the port's wildcard, whether that listener binds a socket (captureMode NONE) or not; so a bind of
 * 127.0.0.1 is out of a captured call's reach and a bind of 0.0.0.0 is not (fuzz --seed 4321, path 42: under
 * `bind: 0.0.0.0` and captureMode NONE, istiod's 0.0.0.0_80 took the call, on the lane and in the simulator).
 */
function pickListener(listeners: Map<string, ListenerModel>, dst: string | undefined, port: number): ListenerModel | undefined {
  return (dst ? listeners.get(`${dst}_${port}`) : undefined) ?? listeners.get(`0.0.0.0_${port}`);
}

export function expectProbe(resources: ResourceSet, probe: Probe, opts: OracleOptions): OracleAnswer {
  const e = expectAt(resources, probe, opts);
  if (opts.explainGates === false) return e;
  const deps = gateDependencies(resources, probe, opts, e);
  if (deps.length === 0) return e;
  const said = deps.map(
    (d) =>
      `depends on version gate ${d.gate.id} (since ${d.gate.since}, ${d.gate.upstream}): Istio ${opts.istioVersion} ${d.open ? 'has' : 'lacks'} it; ${d.open ? 'without' : 'with'} it: ${d.otherwise.verdict} ${d.otherwise.cluster}`,
  );
  return { ...e, reason: `${e.reason}; ${said.join('; ')}` };
}

export interface GateDependency {
  gate: VersionGate;
  /** Whether the asked version has the gate's new behaviour. */
  open: boolean;
  /** The answer with the gate flipped. */
  otherwise: { verdict: OracleAnswer['verdict']; cluster: string };
}

/**
 * Whether flipping a gate could change any answer for these resources: each gate is read only under these
 * conditions (the gateOpen calls of policy.ts, visibility.ts, vs-import.ts and autoAllocates), so the answer
 * again with a gate no condition reaches is skipped.
 */
function gateCanMatter(id: GateId, resources: ResourceSet, opts: OracleOptions): boolean {
  switch (id) {
    case 'dns-auto-allocation':
      return !!resources.mesh.dnsCapture;
    case 'allow-any-dynamic-dns':
      return meshMode(resources, opts.policy) === 'ALLOW_ANY_DYNAMIC_DNS';
    case 'service-entry-visibility':
      return !!(resources.mesh.meshConfig.serviceEntryVisibility as { applyToSidecars?: boolean } | undefined)?.applyToSidecars;
    case 'sidecar-egress-exclusions':
      return resources.sidecars.some((sc) => sc.egress.some((e) => e.hosts.some((h) => h.startsWith('~'))));
    default:
      return true;
  }
}

/** The version gates this answer depends on: those whose flip alone changes the verdict or cluster. */
export function gateDependencies(
  resources: ResourceSet,
  probe: Probe,
  opts: OracleOptions,
  answer = expectAt(resources, probe, opts),
): GateDependency[] {
  const v = parseIstioVersion(opts.istioVersion);
  const out: GateDependency[] = [];
  for (const g of GATES) {
    if (opts.gates?.[g.id] !== undefined || !gateCanMatter(g.id, resources, opts)) continue;
    const open = gateOpen(v, g.id);
    const flipped = expectAt(resources, probe, { ...opts, gates: { ...opts.gates, [g.id]: !open } });
    if (flipped.verdict !== answer.verdict || flipped.cluster !== answer.cluster)
      out.push({ gate: g, open, otherwise: { verdict: flipped.verdict, cluster: flipped.cluster } });
  }
  return out;
}

function expectAt(scenario: ResourceSet, probe: Probe, opts: OracleOptions): OracleAnswer {
  const resources = withInstalledServices(scenario);
  const v = { ...parseIstioVersion(opts.istioVersion), ...(opts.gates ? { gates: opts.gates } : {}) };
  const choice = selectSidecar(resources, probe.from);
  const decision = effectivePolicy(choice, meshMode(resources, opts.policy), v);
  const pods = [probe.from, ...(opts.workloads ?? []), ...installedWorkloads()];
  const vis = visiblePorts(resources, probe, v, choice.sidecar, pods);
  const missing = decision.egressProxy
    ? missingCluster(decision.egressProxy, resources, probe.from.namespace, v, choice.sidecar, pods)
    : undefined;
  if (missing) decision.missingEgressCluster = missing;
  const meshRouting = routingSeenBy(resources, probe.from, probe.to.port, v);
  const source = { namespace: probe.from.namespace, labels: podLabels(probe.from) };
  const routeSni = (sp: ServicePort) =>
    sp.port === probe.to.port ? meshTlsRouteSni(meshRouting, sp.host, probe.from.namespace, sp.port, source) : undefined;
  const listeners = buildListeners(vis.ports, v, (sp) => routeSni(sp) !== undefined);
  const dst = destinationAddress(probe, vis.ports, resources, vis.namesOnly);
  const listener = pickListener(listeners, dst, probe.to.port);
  const tlsRouteSni = listener?.kind === 'address' && listener.service.kind === 'tls' ? routeSni(listener.service) : undefined;
  const landing = land(
    listener,
    probe,
    dst,
    decision,
    tlsRouteSni,
    (host) => meshHttpRouted(meshRouting, host, probe.from.namespace, probe.to.port, source),
    routeSni,
    meshPort(resources, 'proxyListenPort', 15001),
  );
  const conflicts = listener?.conflicts.length
    ? [
        `on ${listener.name} ${listener.conflicts.map((c) => `${c.se.namespace}/${c.se.name} (${c.host})`).join(', ')} lost the port's match-all chain to an entry processed earlier`,
      ]
    : [];
  const bindNote = bindNotes(vis.ports, probe, listener);
  const unbound = vis.ports.filter(
    (sp) => sp.port === probe.to.port && instancesOnly(sp) && relevant(sp.se, probe) && !sp.se.workloadSelector && !sp.instanceIps?.length,
  );
  const instanceNotes = unbound.map(
    (sp) =>
      `${entryLabel(sp.se)} (${sp.host}) binds port ${sp.port} per instance, and the instances istiod holds for ${sp.se.namespace}/${sp.host}, other entries' included, have no IP address: no listener`,
  );
  // listener.go buildSidecarOutboundListener: an HTTP_PROXY port's HTTP chain has no ALPN match; what the HTTP
  // connection manager does with TLS or other bytes is the client's business (the lanes give no verdict either).
  const proxyNote =
    listener?.kind === 'wildcard' &&
    listener.proxyHcm &&
    probe.to.scheme !== 'http' &&
    landing.rule !== 'se.sni-chain' &&
    landing.rule !== 'se.cidr-chain' &&
    landing.rule !== 'se.cidr-sni-chain'
      ? [`not modelled: a non-HTTP call on ${listener.name}, whose HTTP_PROXY chain (no ALPN match) takes it to an HTTP connection manager`]
      : [];
  const reason = [
    ...bindNote,
    `${decision.why} (${choice.why})`,
    ...vis.notes,
    ...instanceNotes,
    ...conflicts,
    ...proxyNote,
    landing.how,
    ...(landing.undecided ? [`not modelled: ${landing.undecided}`] : []),
  ].join('; ');
  const viaDns = dst !== undefined && !probe.to.isIp && listener?.kind === 'address' && !listener.service.autoAllocated;
  const instancesOnlyHere = vis.ports.some((sp) => sp.port === probe.to.port && instancesOnly(sp) && relevant(sp.se, probe));
  const rules: RuleId[] = [
    ...(choice.rule ? [choice.rule] : []),
    ...vis.rules,
    ...(instancesOnlyHere ? (['listener.instances-only'] as const) : []),
    ...(listener?.rules ?? []),
    ...(viaDns ? (['dns.capture-address'] as const) : []),
    ...landing.via,
    landing.rule,
  ];
  return {
    verdict: landing.blocked ? 'blocked' : 'allowed',
    cluster: landing.cluster,
    reason: upperCaseHosts(scenario, probe) ? `${reason}; not modelled: ${UPPER_CASE_NOTE}` : reason,
    listener: listener?.name ?? 'virtualOutbound',
    ...(landing.signal ? { signal: landing.signal } : {}),
    policy: decision.mode,
    rule: landing.rule,
    rules: [...new Set(rules)],
    ...(proxyNote.length || upperCaseHosts(scenario, probe) || landing.undecided
      ? {
          notModelled: [
            ...(proxyNote.length ? ['a non-HTTP call on an HTTP_PROXY port (an HTTP connection manager takes it)'] : []),
            ...(upperCaseHosts(scenario, probe) ? [UPPER_CASE_NOTE] : []),
            ...(landing.undecided ? [landing.undecided] : []),
          ],
        }
      : {}),
  };
}

/**
 * Istio accepts upper-case letters in hosts (pkg/config/labels dns1123LabelFmt is [a-zA-Z0-9]); whether istiod
 * and Envoy then compare names without regard to case is not modelled: the model compares them as written.
 */
const UPPER_CASE_NOTE = 'upper-case letters in host names (the model compares host names as written, case included)';
function upperCaseHosts(scenario: ResourceSet, probe: Probe): boolean {
  const upper = (h: string) => h !== h.toLowerCase();
  return upper(probe.to.host) || scenario.serviceEntries.some((se) => se.hosts.some(upper));
}
