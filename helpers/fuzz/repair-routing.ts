// Repairs of generated Gateways, VirtualServices and DestinationRules (routing-arbitraries.ts), one small
// change per refusal the generators draw on purpose, following ValidateGateway / ValidateVirtualService /
// ValidateDestinationRule (pkg/config/validation/validation.go, as helpers/istio/validate-routing.ts states
// them); what is still refused afterwards is dropped alone by repair.ts.
import { destinationRuleProblems, gatewayProblems, virtualServiceProblems } from '../istio/validate-routing.ts';

type Obj = Record<string, unknown>;

export const ROUTING_KINDS: readonly string[] = ['Gateway', 'VirtualService', 'DestinationRule'];

/**
 * exportTo (validateExportTo, isServiceEntry false): `.` and the resource's own name are one namespace named
 * twice, `.` is kept; `~` is for ServiceEntries only, and `.` is the narrowest a VirtualService or
 * DestinationRule may be.
 */
function repairExportTo(spec: Obj, ns: string, repairs: string[]): void {
  const e = spec.exportTo as string[] | undefined;
  if (e?.includes('~')) {
    spec.exportTo = ['.'];
    repairs.push('exportTo ~ → .');
  } else if (e?.includes('.') && e.includes(ns)) {
    spec.exportTo = e.filter((x) => x !== ns);
    repairs.push(`exportTo: ${ns} dropped beside "."`);
  }
}

function repairGateway(spec: Obj, repairs: string[]): void {
  // validateServer: an HTTPS or TLS server needs tls settings; the task's forms are ISTIO_MUTUAL and PASSTHROUGH.
  for (const s of (spec.servers as Obj[] | undefined) ?? []) {
    const proto = String((s.port as Obj | undefined)?.protocol ?? '').toUpperCase();
    if (s.tls || (proto !== 'HTTPS' && proto !== 'TLS')) continue;
    s.tls = { mode: proto === 'HTTPS' ? 'ISTIO_MUTUAL' : 'PASSTHROUGH' };
    repairs.push(`${proto} server given tls ${String((s.tls as Obj).mode)}`);
  }
}

function repairVirtualService(spec: Obj, repairs: string[]): void {
  const hosts = ((spec.hosts as string[] | undefined) ?? []).filter((h) => !h.includes('*'));
  // validateTLSRoute: every sniHost lies within the VirtualService's hosts.
  for (const r of (spec.tls as Obj[] | undefined) ?? [])
    for (const m of (r.match as Obj[] | undefined) ?? []) {
      const sni = (m.sniHosts as string[] | undefined) ?? [];
      if (hosts.length && sni.some((s) => !hosts.includes(s))) {
        m.sniHosts = hosts;
        repairs.push(`sniHosts ${sni.join(',')} → ${hosts.join(',')}`);
      }
    }
}

/** Repairs the spec in place; returns what Istio would still refuse. */
export function repairRoutingSpec(kind: string, spec: Obj, ns: string, name: string, repairs: string[]): string[] {
  repairExportTo(spec, ns, repairs);
  if (kind === 'Gateway') {
    repairGateway(spec, repairs);
    return gatewayProblems(spec, name);
  }
  if (kind === 'VirtualService') {
    repairVirtualService(spec, repairs);
    return virtualServiceProblems(spec, ns);
  }
  return destinationRuleProblems(spec, ns);
}
