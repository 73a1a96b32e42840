// How the routing model's unit tests ask about one call: YAML as a user writes it (or resources already loaded), a
// URL, the source namespace and the mesh policy, answered by the model at the pinned control-plane build, with its
// hops written out as the reports print them.
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { formatHop } from '../model/hops.ts';
import type { PolicyMode, ResourceSet } from '../model/types.ts';
import { expectProbe } from '../oracle/index.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';

export function loadTestYaml(yaml: string, file = 'test.yaml'): ResourceSet {
  return loadYamlText(yaml, file, emptyResources());
}

export function askModel(input: string | ResourceSet, url: string, from = 'default', policy: PolicyMode = 'REGISTRY_ONLY') {
  const resources = typeof input === 'string' ? loadTestYaml(input) : input;
  const e = expectProbe(
    resources,
    { from: { namespace: from }, to: parseProbeUrl(url, 'test') },
    { istioVersion: PINNED.controlPlane.istioVersion, policy, explainGates: false },
  );
  return { ...e, path: (e.hops ?? []).map((h) => formatHop(h, true)) };
}
