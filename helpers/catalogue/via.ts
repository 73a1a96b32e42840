// `via:` and `tls:` of a catalogue probe: the path pinned hop by hop, and where TLS starts.
//   via: [sidecar CLUSTER, istio-system/istio-egressgateway CLUSTER tls:SIMPLE:edition.example.com]
//   via: {ALLOW_ANY: [...], REGISTRY_ONLY: [...]}     # when the path differs by policy
//   tls: gateway                                       # client | sidecar | gateway | none
import { type PinnedHop, parsePinnedHop, TLS_ORIGINS } from '../model/hops.ts';
import { POLICY_LIST, POLICY_MODES, type PolicyMode, type TlsOrigin } from '../model/types.ts';

function hopList(raw: unknown, fail: (what: string) => never): PinnedHop[] {
  if (!Array.isArray(raw) || raw.length === 0) fail(' must be a non-empty list of "PROXY CLUSTER [tls:MODE[:SNI]]"');
  return raw.map((h, i) => {
    const hop = parsePinnedHop(h);
    if (typeof hop === 'string') fail(`[${i}]: ${hop}`);
    if (i === 0 && hop.proxy !== 'sidecar') fail('[0]: the first hop is the source, written "sidecar"');
    if (i > 0 && hop.proxy === 'sidecar') fail(`[${i}]: only the first hop is the sidecar; name a gateway NAMESPACE/APP`);
    return hop;
  });
}

export function parseVia(
  raw: unknown,
  policies: PolicyMode[],
  fail: (what: string) => never,
): Partial<Record<PolicyMode, PinnedHop[]>> | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) {
    const hops = hopList(raw, fail);
    return Object.fromEntries(policies.map((p) => [p, hops]));
  }
  if (!raw || typeof raw !== 'object') fail(' must be a list of hops or a map of policy to hops');
  const out: Partial<Record<PolicyMode, PinnedHop[]>> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!POLICY_MODES.includes(k as PolicyMode)) fail(`: "${k}" is not a policy (${POLICY_LIST})`);
    out[k as PolicyMode] = hopList(v, (what) => fail(`.${k}${what}`));
  }
  return out;
}

export function parseTlsOrigin(raw: unknown, fail: (what: string) => never): TlsOrigin | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !TLS_ORIGINS.includes(raw as TlsOrigin)) fail(` must be one of ${TLS_ORIGINS.join(', ')}`);
  return raw as TlsOrigin;
}
