// A lab's cluster state without a cluster: the install's mesh settings, the starting resources, then the
// candidate's files applied the way `kubectl apply -f` and `istioctl install -f` would apply them. What the
// API server would refuse is refused with its words; what grading does not use is said, never dropped.
import { readFileSync, statSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { ResourceSet } from '../model/types.ts';
import { UserError } from '../model/errors.ts';
import { loadResourceFiles } from '../istio/load.ts';
import type { Lab } from './load.ts';

/**
 * Namespaces of a lab's cluster: the API server's own, istio-system, and the three client namespaces
 * (backend is the one most tasks must leave alone). A resource anywhere else is refused, as the API
 * server refuses it.
 */
export const LAB_NAMESPACES = [
  'default',
  'frontend',
  'backend',
  'istio-system',
  'egress-control',
  'kube-system',
  'kube-public',
  'kube-node-lease',
] as const;

/** meshConfig fields the oracle models; istiod gets the whole meshConfig either way. */
const MODELLED_MESH_FIELDS = ['outboundTrafficPolicy', 'defaultServiceExportTo', 'rootNamespace', 'defaultConfig'];

export interface LabState {
  resources: ResourceSet;
  /** Things in the input that grading does not apply (other kinds, IstioOperator fields). */
  notes: string[];
}

/** Installed from the lab's IstioOperator, with its starting resources applied. */
export function startState(lab: Lab): LabState {
  const resources = loadResourceFiles([lab.install]);
  const start = loadResourceFiles(lab.start);
  return applyOver({ resources, notes: [] }, start, []);
}

function clone(set: ResourceSet): ResourceSet {
  return { mesh: set.mesh, serviceEntries: [...set.serviceEntries], sidecars: [...set.sidecars], routing: [...(set.routing ?? [])] };
}

/**
 * Applies `files` over `state`. A ServiceEntry or Sidecar with the name of an existing one replaces it
 * in place (it keeps its creation order, as an object updated by `kubectl apply` keeps its
 * creationTimestamp); an IstioOperator replaces the install's mesh config whole, as `istioctl install -f` does.
 */
export function applyFiles(state: LabState, files: string[]): LabState {
  const notes: string[] = [];
  const incoming = loadResourceFiles(files, notes);
  // Gateways, VirtualServices and DestinationRules are applied with the rest: istiod decides what they do.
  for (const r of [...incoming.serviceEntries, ...incoming.sidecars, ...(incoming.routing ?? [])]) {
    if (!(LAB_NAMESPACES as readonly string[]).includes(r.namespace)) {
      throw new UserError(
        `${r.source.file} (document ${r.source.doc}): ${r.kind} "${r.name}": namespaces "${r.namespace}" not found (the API server refuses it; this lab's namespaces are ${LAB_NAMESPACES.slice(0, 4).join(', ')})`,
      );
    }
  }
  return applyOver(state, incoming, [...notes, ...ignoredIstioOperatorFields(files)]);
}

function applyOver(state: LabState, incoming: ResourceSet, notes: string[]): LabState {
  const out = clone(state.resources);
  let next = Math.max(-1, ...out.serviceEntries.map((s) => s.order), ...out.sidecars.map((s) => s.order)) + 1;
  for (const se of incoming.serviceEntries) {
    const i = out.serviceEntries.findIndex((x) => x.namespace === se.namespace && x.name === se.name);
    const existing = out.serviceEntries[i];
    if (existing) out.serviceEntries[i] = { ...se, order: existing.order };
    else out.serviceEntries.push({ ...se, order: next++ });
  }
  for (const sc of incoming.sidecars) {
    const i = out.sidecars.findIndex((x) => x.namespace === sc.namespace && x.name === sc.name);
    const existing = out.sidecars[i];
    if (existing) out.sidecars[i] = { ...sc, order: existing.order };
    else out.sidecars.push({ ...sc, order: next++ });
  }
  const routing = out.routing ?? [];
  for (const r of incoming.routing ?? []) {
    const i = routing.findIndex((x) => x.kind === r.kind && x.namespace === r.namespace && x.name === r.name);
    const existing = routing[i];
    if (existing) routing[i] = { ...r, order: existing.order };
    else routing.push({ ...r, order: routing.length });
  }
  out.routing = routing;
  if (incoming.mesh.source) out.mesh = incoming.mesh;
  return { resources: out, notes: [...state.notes, ...notes] };
}

type Obj = Record<string, unknown>;

/**
 * IstioOperator fields lab grading does not apply: everything outside spec.meshConfig (components,
 * values, hub, a profile other than minimal: a lab runs istiod alone), and, for the oracle, meshConfig
 * fields it does not model. Files only: standard input has been read already and is not read twice.
 */
export function ignoredIstioOperatorFields(files: string[], opts: { installed?: boolean } = {}): string[] {
  // -f grading reads the meshConfig alone; `lab install` applies everything istioctl renders, but nothing
  // runs the Deployments it makes (a lab has no kubelet), so only the mesh config changes behaviour.
  const outside = opts.installed
    ? 'is rendered and applied, but a lab runs istiod alone (no kubelet starts what it adds), so only spec.meshConfig changes what is graded'
    : 'is not applied: a lab installs istiod alone (profile minimal) and grades the mesh config';
  const notes: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      if (!statSync(f).isFile()) continue;
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    parseAllDocuments(text).forEach((d, i) => {
      const o = (Array.isArray(d) ? undefined : d.toJS()) as Obj | null | undefined;
      if (o?.kind !== 'IstioOperator') return;
      const where = `${f} (document ${i + 1}): IstioOperator`;
      const spec = (o.spec ?? {}) as Obj;
      for (const k of Object.keys(spec)) {
        if (k === 'meshConfig') continue;
        if (k === 'profile' && spec.profile === 'minimal') continue;
        notes.push(`${where} spec.${k}${k === 'profile' ? ` "${String(spec.profile)}"` : ''} ${outside}`);
      }
      for (const k of Object.keys((spec.meshConfig ?? {}) as Obj)) {
        if (!MODELLED_MESH_FIELDS.includes(k))
          notes.push(`${where} spec.meshConfig.${k} is passed to istiod but plays no part in egress verdicts (the oracle ignores it)`);
      }
    });
  }
  return notes;
}
