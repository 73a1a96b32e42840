// A task's explicit constraints, checked on the cluster's objects rather than on calls: "set the mesh
// policy in the IstioOperator" is not met by a Sidecar that happens to give the same verdicts, and
// "leave frontend as it is" is broken by an edit even when no probe notices. Each is compared with the
// lab's starting state (what `lab start` created), so the check names exactly what changed.
import { isDeepStrictEqual } from 'node:util';
import type { PolicyMode, ResourceSet } from '../model/types.ts';

export type Constraint =
  /** The mesh config (ConfigMap istio-system/istio) sets this outboundTrafficPolicy. */
  | { kind: 'mesh-policy'; mode: PolicyMode; because: string; hint?: string }
  /** The mesh config is as installed (nothing in it changed). */
  | { kind: 'mesh-unchanged'; because: string; hint?: string }
  /** These objects ("Sidecar frontend/default") exist with the spec they started with. */
  | { kind: 'unchanged'; objects: string[]; because: string; hint?: string }
  /** No object matches ("Sidecar istio-system/*", "ServiceEntry istio-system/*"), other than those of the start. */
  | { kind: 'none-added'; objects: string[]; because: string; hint?: string }
  /** Every Istio object (ServiceEntry, Sidecar, Gateway, VirtualService, DestinationRule) changed is in these namespaces. */
  | { kind: 'only-in'; namespaces: string[]; because: string; hint?: string };

export interface ConstraintResult {
  constraint: Constraint;
  pass: boolean;
  expected: string;
  got: string;
  /** Where in the cluster the answer was read (the object, or the ConfigMap field). */
  path: string;
  hint: string;
}

type Obj = Record<string, unknown>;
const MESH_PATH = 'ConfigMap istio-system/istio, mesh: outboundTrafficPolicy.mode';

export function parseConstraint(v: unknown, at: string, bad: (w: string) => never): Constraint {
  const o = (v && typeof v === 'object' ? v : {}) as Obj;
  if (typeof o.because !== 'string' || !o.because) bad(`${at}.because must say what the constraint stands for`);
  const because = o.because as string;
  const extra = typeof o.hint === 'string' ? { hint: o.hint } : {};
  const list = (x: unknown, what: string): string[] => {
    const xs = typeof x === 'string' ? [x] : x;
    if (!Array.isArray(xs) || xs.length === 0 || xs.some((s) => typeof s !== 'string')) bad(`${at}.${what} must list strings`);
    return xs as string[];
  };
  const objects = (x: unknown, what: string) => {
    const xs = list(x, what);
    for (const s of xs)
      if (!/^(ServiceEntry|Sidecar|Gateway|VirtualService|DestinationRule) [^/\s]+\/\S+$/.test(s))
        bad(`${at}.${what}: "${s}" is not "KIND NAMESPACE/NAME"`);
    return xs;
  };
  if (o.mesh !== undefined) {
    if (o.mesh !== 'ALLOW_ANY' && o.mesh !== 'REGISTRY_ONLY') bad(`${at}.mesh must be ALLOW_ANY or REGISTRY_ONLY`);
    return { kind: 'mesh-policy', mode: o.mesh as PolicyMode, because, ...extra };
  }
  if (o.meshUnchanged === true) return { kind: 'mesh-unchanged', because, ...extra };
  if (o.unchanged !== undefined) return { kind: 'unchanged', objects: objects(o.unchanged, 'unchanged'), because, ...extra };
  if (o.noneAdded !== undefined) return { kind: 'none-added', objects: objects(o.noneAdded, 'noneAdded'), because, ...extra };
  if (o.onlyIn !== undefined) return { kind: 'only-in', namespaces: list(o.onlyIn, 'onlyIn'), because, ...extra };
  return bad(`${at} must be one of mesh, meshUnchanged, unchanged, noneAdded, onlyIn`);
}

interface Entry {
  key: string;
  namespace: string;
  spec: unknown;
}

function entries(set: ResourceSet): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const r of [...set.serviceEntries, ...set.sidecars, ...(set.routing ?? [])]) {
    const key = `${r.kind} ${r.namespace}/${r.name}`;
    out.set(key, { key, namespace: r.namespace, spec: (r.manifest as Obj).spec ?? {} });
  }
  return out;
}

function matches(pattern: string, key: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^ /]*')}$`);
  return re.test(key);
}

/** Objects added, changed or removed between `start` and `now`, as "ServiceEntry default/x (added)". */
export function changes(start: ResourceSet, now: ResourceSet): { key: string; namespace: string; how: string }[] {
  const a = entries(start);
  const b = entries(now);
  const out: { key: string; namespace: string; how: string }[] = [];
  for (const [k, e] of b) {
    const was = a.get(k);
    if (!was) out.push({ key: k, namespace: e.namespace, how: 'added' });
    else if (!isDeepStrictEqual(was.spec, e.spec)) out.push({ key: k, namespace: e.namespace, how: 'changed' });
  }
  for (const [k, e] of a) if (!b.has(k)) out.push({ key: k, namespace: e.namespace, how: 'deleted' });
  return out;
}

/**
 * The mesh settings that decide egress: compared instead of the whole meshConfig, which on a live lab also
 * holds what istioctl renders by default and the lane's own generation marker.
 */
function egressSettings(set: ResourceSet): unknown[] {
  const m = set.mesh;
  return [m.outboundTrafficPolicy ?? 'ALLOW_ANY', m.defaultServiceExportTo ?? ['*'], m.rootNamespace ?? 'istio-system', !!m.dnsCapture];
}

const DEFAULT_HINTS: Record<Constraint['kind'], string> = {
  'mesh-policy':
    'the task names where the policy is set; read the mesh config istiod runs with (kubectl get cm istio -n istio-system -o yaml)',
  'mesh-unchanged': 'the task does not ask for a mesh-wide change; what else sets the policy for a narrower scope?',
  unchanged: 'the task asks you to leave this object as it is; compare it with what was there when the lab started',
  'none-added': 'the task rules this out; is there a narrower object that does the job?',
  'only-in': 'the task scopes the change to certain namespaces; which of your objects reaches further?',
};

export function checkConstraint(c: Constraint, start: ResourceSet, now: ResourceSet): ConstraintResult {
  const hint = c.hint ?? DEFAULT_HINTS[c.kind];
  switch (c.kind) {
    case 'mesh-policy': {
      const got = now.mesh.outboundTrafficPolicy ?? 'ALLOW_ANY (unset: Istio\u2019s default)';
      return { constraint: c, pass: now.mesh.outboundTrafficPolicy === c.mode, expected: c.mode, got, path: MESH_PATH, hint };
    }
    case 'mesh-unchanged': {
      const same = isDeepStrictEqual(egressSettings(start), egressSettings(now));
      const got = same ? 'as installed' : `changed (outboundTrafficPolicy ${now.mesh.outboundTrafficPolicy ?? 'unset'})`;
      return { constraint: c, pass: same, expected: 'the mesh config as installed', got, path: 'ConfigMap istio-system/istio', hint };
    }
    case 'unchanged': {
      const a = entries(start);
      const b = entries(now);
      const broken = c.objects.map((k) => {
        const was = a.get(k);
        const is = b.get(k);
        if (!is) return was ? `${k} deleted` : `${k} missing`;
        return was && !isDeepStrictEqual(was.spec, is.spec) ? `${k} changed` : undefined;
      });
      const bad = broken.filter((x): x is string => !!x);
      return {
        constraint: c,
        pass: bad.length === 0,
        expected: `${c.objects.join(', ')} as started`,
        got: bad.join(', ') || 'as started',
        path: c.objects.join(', '),
        hint,
      };
    }
    case 'none-added': {
      const was = entries(start);
      const found = [...entries(now).keys()].filter((k) => !was.has(k) && c.objects.some((p) => matches(p, k)));
      return {
        constraint: c,
        pass: found.length === 0,
        expected: `no ${c.objects.join(', ')}`,
        got: found.join(', ') || 'none',
        path: found.join(', ') || c.objects.join(', '),
        hint,
      };
    }
    case 'only-in': {
      const outside = changes(start, now).filter((x) => !c.namespaces.includes(x.namespace));
      const got = outside.map((x) => `${x.key} ${x.how}`).join(', ');
      return {
        constraint: c,
        pass: outside.length === 0,
        expected: `changes only in ${c.namespaces.join(', ')}`,
        got: got || 'none outside',
        path: got || c.namespaces.join(', '),
        hint,
      };
    }
  }
}

/** For people: what a constraint asks, in one line. */
export function describeConstraint(c: Constraint): string {
  switch (c.kind) {
    case 'mesh-policy':
      return `the mesh config sets outboundTrafficPolicy ${c.mode}`;
    case 'mesh-unchanged':
      return 'the mesh config stays as installed';
    case 'unchanged':
      return `${c.objects.join(', ')} left as they are`;
    case 'none-added':
      return `no new ${c.objects.join(', ')}`;
    case 'only-in':
      return `Istio objects changed only in ${c.namespaces.join(', ')}`;
  }
}
