// Which ServiceEntries a workload sees: exported to its namespace AND imported by its Sidecar.
// Facts: pilot/pkg/model/push_context.go (initServiceRegistry: `*` makes a service public and wins,
// `~` without `*` hides it, `.` or the own namespace's name export it to its own namespace, any
// other name exports to that namespace; an empty exportTo takes meshConfig.defaultServiceExportTo),
// pilot/pkg/model/sidecar.go (egress hosts `ns/dnsName`, the namespace being the one the service
// lives in; `.` is the Sidecar's own namespace, `*` any, `~` none).
import type { ResourceSet, ServiceEntry, Sidecar } from '../model/types.ts';
import { gateOpen, type IstioVersion } from './version.ts';
import { subsetOf } from './hosts.ts';
import type { RuleId } from './rules.ts';
import { entryLabel } from './entry-label.ts';

export interface ExportDecision {
  visible: boolean;
  why: string;
  /**
   * Istio processes services exported to the namespace by name (or `.`) before public ones
   * (servicesExportedToNamespace); up to 1.30.2 own-namespace ones came first of all. Lower is earlier.
   */
  exportClass: number;
  /** The rule that decided, when not the plain public default. */
  rule?: RuleId;
}

/** The exportTo values Istio reads for a ServiceEntry, with the version-dependent default. */
function effectiveExportTo(se: ServiceEntry, resources: ResourceSet, version: IstioVersion): { values: string[]; fromDefault: boolean } {
  if (se.exportTo.length > 0) return { values: se.exportTo, fromDefault: false };
  const def = resources.mesh.defaultServiceExportTo ?? ['*'];
  if (gateOpen(version, 'default-export-to')) return { values: def, fromDefault: true };
  // Before 1.30.3 only `.` and `*` in the default were honoured, `.` first; anything else exported nowhere.
  if (def.includes('.')) return { values: ['.'], fromDefault: true };
  if (def.includes('*')) return { values: ['*'], fromDefault: true };
  return { values: [], fromDefault: true };
}

interface VisibilityCap {
  values: string[];
  why: string;
}

/**
 * meshConfig.serviceEntryVisibility with applyToSidecars narrows what exportTo allows (push_context.go
 * serviceExportTo; serviceentry_visibility.go: an unset or unknown defaultVisibility is PUBLIC). Its namespace
 * policies match namespace labels, which the oracle does not know: they are said to be not modelled.
 */
function visibilityCap(se: ServiceEntry, values: string[], resources: ResourceSet, version: IstioVersion): VisibilityCap | undefined {
  const sev = resources.mesh.meshConfig.serviceEntryVisibility as
    | { applyToSidecars?: boolean; defaultVisibility?: string; policies?: unknown[] }
    | undefined;
  if (!sev?.applyToSidecars || !gateOpen(version, 'service-entry-visibility')) return undefined;
  // It governs ServiceEntry resources; a Kubernetes Service keeps its exportTo (istio.io serviceEntryVisibility docs).
  if (se.kubernetesService) return undefined;
  if (values.length === 1 && values[0] === '~') return undefined;
  const policies = sev.policies?.length ? '; not modelled: meshConfig.serviceEntryVisibility.policies (namespace labels)' : '';
  const def = String(sev.defaultVisibility ?? 'PUBLIC').toUpperCase();
  if (def === 'NONE') return { values: ['~'], why: `meshConfig.serviceEntryVisibility NONE hides it from sidecars${policies}` };
  if (def === 'NAMESPACE') {
    const own = values.includes('*') || values.includes('.') || values.includes(se.namespace);
    return {
      values: own ? ['.'] : ['~'],
      why: `meshConfig.serviceEntryVisibility NAMESPACE clamps it to ${own ? `namespace ${se.namespace}` : 'nowhere (its exportTo leaves its own namespace out)'}${policies}`,
    };
  }
  return policies ? { values, why: policies.slice(2) } : undefined;
}

export function exportedTo(se: ServiceEntry, namespace: string, resources: ResourceSet, version: IstioVersion): ExportDecision {
  const { values } = effectiveExportTo(se, resources, version);
  const cap = visibilityCap(se, values, resources, version);
  if (cap) {
    const d = exportDecision({ ...se, exportTo: cap.values }, namespace, resources, version);
    return { ...d, why: `${d.why} (${cap.why})`, rule: 'export.service-entry-visibility' };
  }
  const d = exportDecision(se, namespace, resources, version);
  const { fromDefault } = effectiveExportTo(se, resources, version);
  if (fromDefault && resources.mesh.defaultServiceExportTo) return { ...d, rule: 'export.default-export-to' };
  return d.visible ? d : { ...d, rule: 'export.hidden' };
}

function exportDecision(se: ServiceEntry, namespace: string, resources: ResourceSet, version: IstioVersion): ExportDecision {
  const { values, fromDefault } = effectiveExportTo(se, resources, version);
  const src = fromDefault
    ? `exportTo unset, meshConfig.defaultServiceExportTo ${JSON.stringify(resources.mesh.defaultServiceExportTo ?? ['*'])}${resources.mesh.defaultServiceExportTo ? '' : ' (Istio default)'}`
    : `exportTo ${JSON.stringify(values)}`;
  const id = entryLabel(se);
  const split = !gateOpen(version, 'default-export-to');
  if (values.includes('*')) return { visible: true, why: `${id}: ${src} exports it to every namespace`, exportClass: split ? 2 : 1 };
  if (values.includes('~')) return { visible: false, why: `${id}: ${src} hides it from every namespace`, exportClass: 9 };
  for (const v of values) {
    const target = v === '.' ? se.namespace : v;
    if (target === namespace)
      return { visible: true, why: `${id}: ${src} exports it to ${namespace}`, exportClass: split && target !== se.namespace ? 1 : 0 };
  }
  if (values.length === 0)
    return {
      visible: false,
      why: `${id}: ${src}, which exports it nowhere${fromDefault && split ? ' (before Istio 1.30.3 only "." or "*" in that default were honoured)' : ''}`,
      exportClass: 9,
    };
  return { visible: false, why: `${id}: ${src} does not include ${namespace}`, exportClass: 9 };
}

function splitImport(entry: string): { ns: string; dns: string } {
  const slash = entry.indexOf('/');
  return slash < 0 ? { ns: '*', dns: entry } : { ns: entry.slice(0, slash), dns: entry.slice(slash + 1) };
}

/**
 * An egress host `ns/dnsName` imports a service when the namespace matches the service's namespace
 * (`.` is the workload's own namespace, also for a root-namespace Sidecar) and the service's host is
 * within dnsName (one way: an exact import does not pull in a wildcard ServiceEntry host).
 */
function importHostMatches(ns: string, dns: string, workloadNs: string, se: ServiceEntry, hosts: string[]): boolean {
  if (ns !== '*' && (ns === '.' ? workloadNs : ns) !== se.namespace) return false;
  return hosts.some((h) => subsetOf(h, dns));
}

export interface ImportDecision {
  imported: boolean;
  why: string;
  rule?: RuleId;
}

/**
 * Does the Sidecar import this ServiceEntry for this port? An egress listener with a port covers
 * only that port; the port-less one covers the rest. Without a Sidecar, or without egress, `*\/*`.
 * `~` before a namespace: up to 1.30 it is just a namespace name (nothing lives there, so it imports
 * nothing); from 1.31 (commit 4c3c712eed2) it excludes matching hosts, `~/*` excluding everything.
 */
export function importedBy(
  sidecar: Sidecar | undefined,
  se: ServiceEntry,
  port: number,
  workloadNs: string,
  v: IstioVersion,
  host?: string,
): ImportDecision {
  if (!sidecar) return { imported: true, why: 'no Sidecar, so every exported service is imported (*/*)' };
  // Istio imports and excludes services, one per host of the entry (sidecar.go selectServices matches and
  // hostClassification.Excluded test s.Hostname): without a host, the entry counts when one of its hosts does.
  if (host === undefined && se.hosts.length > 1) {
    const each = se.hosts.map((h) => importedBy(sidecar, se, port, workloadNs, v, h));
    return each.find((d) => d.imported) ?? each[0]!;
  }
  const hostsOf = host === undefined ? se.hosts : [host];
  const id = `Sidecar ${sidecar.namespace}/${sidecar.name}`;
  if (sidecar.egress.length === 0) return { imported: true, why: `${id} has no egress section, so */* is imported` };
  const forPort = sidecar.egress.filter((e) => e.port?.number === port);
  const listeners = forPort.length > 0 ? forPort : sidecar.egress.filter((e) => !e.port);
  const hosts = listeners.flatMap((e) => e.hosts);
  const exclusions = gateOpen(v, 'sidecar-egress-exclusions');
  if (exclusions) {
    const ex = hosts.find((h) => {
      const { ns, dns } = splitImport(h);
      if (!ns.startsWith('~')) return false;
      const rest = ns.slice(1);
      return importHostMatches(rest === '' ? '*' : rest, dns, workloadNs, se, hostsOf);
    });
    if (ex)
      return { imported: false, rule: 'import.excluded', why: `${id} egress host "${ex}" excludes ${se.namespace}/${hostsOf.join(',')}` };
  }
  const hit = hosts.find((h) => {
    const { ns, dns } = splitImport(h);
    if (exclusions && ns.startsWith('~')) return false;
    return importHostMatches(ns, dns, workloadNs, se, hostsOf);
  });
  if (hit)
    return {
      imported: true,
      ...(forPort.length > 0 ? { rule: 'import.port-listener' as const } : {}),
      why: `${id} imports it through egress host "${hit}"`,
    };
  return {
    imported: false,
    rule: 'import.not-imported',
    why: `${id} egress hosts ${JSON.stringify(hosts)} do not import ${se.namespace}/${hostsOf.join(',')}`,
  };
}
