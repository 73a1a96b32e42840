// A generated scenario as plain data (what a rule fixture holds), and its passage through the project's
// admission checks: a scenario whose resources Istio would reject is not a scenario.
import { stringify } from 'yaml';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { UserError } from '../model/errors.ts';
import type { PolicyMode, Probe, ResourceSet } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';

type Obj = Record<string, unknown>;

export interface FuzzProbe {
  from: string | { namespace: string; labels: Record<string, string> };
  to: string;
}

export interface FuzzScenario {
  policy: PolicyMode;
  /** IstioOperator spec.meshConfig fields other than the mode (fixtures/rules `meshConfig:`). */
  meshConfig: Obj;
  /** ServiceEntries and Sidecars in creation order (the order the lane writes them). */
  manifests: Obj[];
  probes: FuzzProbe[];
  /** Generated resources Istio would refuse and no small repair saved: dropped alone, each with its reason. */
  dropped?: string[];
}

export function toProbe(p: FuzzProbe): Probe {
  const from = typeof p.from === 'string' ? { namespace: p.from } : { namespace: p.from.namespace, labels: p.from.labels };
  return { from, to: parseProbeUrl(p.to, 'generated probe') };
}

export type Admission = { ok: true; resources: ResourceSet } | { ok: false; why: string };

/**
 * Loads the scenario exactly as a fixtures/rules file with the same fields would be loaded (manifests
 * through the loader and its admission checks, meshConfig fields read the same way), so a fixture written
 * from it behaves the same in suites/rules.test.ts.
 */
export function admit(s: FuzzScenario): Admission {
  try {
    const resources = s.manifests.length
      ? loadYamlText(s.manifests.map((m) => stringify(m)).join('---\n'), 'generated scenario', emptyResources())
      : emptyResources();
    const mc = s.meshConfig;
    if (mc.defaultServiceExportTo !== undefined) resources.mesh.defaultServiceExportTo = mc.defaultServiceExportTo as string[];
    if (typeof mc.rootNamespace === 'string') resources.mesh.rootNamespace = mc.rootNamespace;
    const pm = ((mc.defaultConfig as Obj | undefined)?.proxyMetadata ?? {}) as Obj;
    if (pm.ISTIO_META_DNS_CAPTURE !== undefined) resources.mesh.dnsCapture = String(pm.ISTIO_META_DNS_CAPTURE) === 'true';
    resources.mesh.meshConfig = mc;
    return { ok: true, resources };
  } catch (e) {
    if (e instanceof UserError) return { ok: false, why: e.message };
    throw e;
  }
}
