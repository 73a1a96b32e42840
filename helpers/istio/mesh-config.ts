// The one reader of meshConfig, for IstioOperator files (`spec.meshConfig`) and case files (`meshConfig:`)
// alike: the shape of the fields the oracle reads is checked, so a wrong shape is bad input naming the
// field, never a silently ignored setting.
import type { MeshSettings, PolicyMode } from '../model/types.ts';

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Istio reads enum values by their exact name, so a lower-case mode is refused, with the spelling that works. */
export function policyCaseHint(v: unknown): string {
  const up = typeof v === 'string' ? v.toUpperCase() : '';
  return up === 'ALLOW_ANY' || up === 'REGISTRY_ONLY' || up === 'ALLOW_ANY_DYNAMIC_DNS'
    ? ` (Istio's values are upper-case: write ${up})`
    : '';
}

/**
 * An outboundTrafficPolicy mode; absent or null is `emptyMeans` (the enum's zero value where the object is present).
 * `mesh`: MeshConfig's enum also has ALLOW_ANY_DYNAMIC_DNS (mesh/v1alpha1 config.proto); a Sidecar's does not.
 */
export function toPolicy(field: string, v: unknown, emptyMeans: PolicyMode, fail: (what: string) => never, mesh = false): PolicyMode {
  if (v === undefined || v === null) return emptyMeans;
  if (v === 'ALLOW_ANY' || v === 'REGISTRY_ONLY' || (mesh && v === 'ALLOW_ANY_DYNAMIC_DNS')) return v;
  fail(
    `${field}: "${String(v)}" is not ALLOW_ANY or REGISTRY_ONLY${policyCaseHint(v)}${mesh ? '; the mesh also takes ALLOW_ANY_DYNAMIC_DNS' : ''}`,
  );
}

/**
 * Reads a meshConfig mapping. `at` is the field's path in its file (`spec.meshConfig`, `meshConfig`), used in
 * messages; `fail` raises the error for the file being read.
 */
export function parseMeshConfig(raw: unknown, at: string, fail: (what: string) => never): Omit<MeshSettings, 'source'> {
  const mc = raw ?? {};
  if (!isMap(mc)) fail(`${at} must be a mapping`);
  if (mc.outboundTrafficPolicy != null && !isMap(mc.outboundTrafficPolicy))
    fail(`${at}.outboundTrafficPolicy must be a mapping such as {mode: REGISTRY_ONLY}`);
  if (mc.defaultConfig != null && !isMap(mc.defaultConfig)) fail(`${at}.defaultConfig must be a mapping`);
  const pm = (mc.defaultConfig as Obj | undefined)?.proxyMetadata;
  if (pm != null && (!isMap(pm) || Object.values(pm).some((v) => typeof v !== 'string'))) {
    fail(`${at}.defaultConfig.proxyMetadata must map names to strings, e.g. ISTIO_META_DNS_CAPTURE: "true"`);
  }
  const out: Omit<MeshSettings, 'source'> = { meshConfig: mc };
  const otp = mc.outboundTrafficPolicy as Obj | undefined | null;
  // Present without mode is the enum's zero value, REGISTRY_ONLY: the mesh file replaces the default
  // object whole (seen on the real istiod: helpers/oracle/mesh-default.test.ts).
  if (otp !== undefined && otp !== null)
    out.outboundTrafficPolicy = toPolicy(`${at}.outboundTrafficPolicy.mode`, otp.mode, 'REGISTRY_ONLY', fail, true);
  if (mc.defaultServiceExportTo !== undefined) {
    // Istio does not validate this list the way it validates a resource's exportTo (no rule in
    // pkg/config/validation), so "*" beside "." is legal here and its meaning is version-dependent.
    const v = mc.defaultServiceExportTo;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      fail(`${at}.defaultServiceExportTo must be a list of strings such as ["*"] or ["."]`);
    out.defaultServiceExportTo = v as string[];
  }
  if (mc.rootNamespace !== undefined) {
    if (typeof mc.rootNamespace !== 'string' || !NAMESPACE.test(mc.rootNamespace)) fail(`${at}.rootNamespace must be a namespace name`);
    out.rootNamespace = mc.rootNamespace;
  }
  const dns = (pm as Obj | undefined)?.ISTIO_META_DNS_CAPTURE;
  if (dns !== undefined) out.dnsCapture = String(dns) === 'true';
  return out;
}
