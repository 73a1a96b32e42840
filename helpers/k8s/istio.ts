// Installing Istio from an IstioOperator and reading its mesh config back, for every lane.
//
// The IstioOperator is rendered by the real istioctl (`istioctl manifest generate -f -o FILE`) and the
// objects it renders are server-side applied through the API, CRDs first (the kind lane's install). The
// control-plane lane installs with `istioctl install` itself (helpers/lanes/control-plane/istio-install.ts)
// and renders only to read the mesh config a scenario's IstioOperator makes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { pollUntil } from '../process/poll.ts';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { EnvironmentError } from '../model/errors.ts';
import type { PolicyMode } from '../model/types.ts';
import type { K8sObject, K8sOps } from './client.ts';
import { shortHash } from './manifests.ts';

export const ISTIO_NAMESPACE = 'istio-system';
export const MESH_CONFIGMAP = 'istio';

const rendered = new Map<string, K8sObject[]>();

/**
 * Where rendered manifests are kept between runs: the output of one istioctl binary for one IstioOperator
 * never changes, and rendering costs 1–2 s a time. The key covers the binary (path, size, mtime) and the
 * IstioOperator's text; EGRESS_RENDER_CACHE=off turns it off.
 */
function diskCacheFile(istioctl: string, text: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.EGRESS_RENDER_CACHE === 'off') return undefined;
  try {
    const st = statSync(istioctl);
    const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
    return join(
      base,
      'istio-egress-conformance',
      'rendered',
      // v2: entries written before `-o` may hold istioctl's warnings; they are not read again.
      `${createHash('sha256').update(`v2|${istioctl}|${st.size}|${st.mtimeMs}|${text}`).digest('hex').slice(0, 24)}.yaml`,
    );
  } catch {
    return undefined;
  }
}

/** The objects `istioctl manifest generate -f` renders for an IstioOperator (cached per istioctl and content). */
export async function renderIstioOperator(istioctl: string, operator: K8sObject, workDir: string): Promise<K8sObject[]> {
  const text = stringify(operator);
  const key = `${istioctl}\n${text}`;
  const hit = rendered.get(key);
  if (hit) return structuredClone(hit);
  const cacheFile = diskCacheFile(istioctl, text);
  if (cacheFile && existsSync(cacheFile)) {
    const objects = parseManifest(readFileSync(cacheFile, 'utf8'));
    rendered.set(key, objects);
    return structuredClone(objects);
  }
  mkdirSync(workDir, { recursive: true });
  const file = join(workDir, `istio-operator-${shortHash(text)}.yaml`);
  writeFileSync(file, text);
  // -o: the manifest goes to a file and istioctl's warnings (printed on stdout, e.g. a deprecated
  // proxyMetadata key, which YAML reads as an alias `*...`) never reach the parser (#18 item 5).
  const out = join(workDir, `istio-manifest-${shortHash(text)}.yaml`);
  const run = (args: string[]) => execa(istioctl, args, { reject: false, timeout: 120_000, env: { HOME: workDir } });
  let r = await run(['manifest', 'generate', '-f', file, '-o', out]);
  // Older istioctl builds (the April pin) have no -o: the manifest then comes on stdout, and whatever
  // istioctl printed before the first document (its warnings) is cut off before parsing.
  if (r.exitCode !== 0 && /unknown shorthand flag: 'o'/.test(String(r.stderr))) {
    r = await run(['manifest', 'generate', '-f', file]);
    if (r.exitCode === 0) {
      const lines = String(r.stdout).split('\n');
      const first = lines.findIndex((l) => /^(apiVersion:|kind:|---)/.test(l));
      writeFileSync(out, first < 0 ? '' : lines.slice(first).join('\n'));
    }
  }
  if (r.exitCode !== 0) {
    const why = r.timedOut
      ? 'timed out'
      : String(r.stderr || r.stdout || r.message || '')
          .trim()
          .split('\n')
          .slice(-3)
          .join(' ');
    throw new EnvironmentError(`istioctl manifest generate -f ${file} failed: ${why}`);
  }
  const manifest = readFileSync(out, 'utf8');
  const objects = parseManifest(manifest);
  rendered.set(key, objects);
  if (cacheFile) {
    mkdirSync(dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, manifest);
    renameSync(tmp, cacheFile);
  }
  return structuredClone(objects);
}

/**
 * ConfigMap istio-system/istio of an IstioOperator's render (cached as renderIstioOperator's), the one object
 * a scenario's mesh needs. From the disk cache only the ConfigMap documents are parsed: the whole render is
 * over 1 MB of CRDs and takes most of a second to parse.
 */
export async function renderMeshConfigMap(istioctl: string, operator: K8sObject, workDir: string): Promise<K8sObject | undefined> {
  const isMesh = (o: K8sObject | null | undefined) =>
    !!o && o.kind === 'ConfigMap' && o.metadata?.name === MESH_CONFIGMAP && o.metadata?.namespace === ISTIO_NAMESPACE;
  const text = stringify(operator);
  const hit = rendered.get(`${istioctl}\n${text}`);
  if (hit) return structuredClone(hit.find(isMesh));
  const cacheFile = diskCacheFile(istioctl, text);
  if (cacheFile && existsSync(cacheFile)) {
    const docs = readFileSync(cacheFile, 'utf8')
      .split(/^---[ \t]*$/m)
      .filter((d) => /^kind:[ \t]*ConfigMap[ \t]*$/m.test(d));
    const found = parseManifest(docs.join('\n---\n')).find(isMesh);
    if (found) return found;
  }
  return (await renderIstioOperator(istioctl, operator, workDir)).find(isMesh);
}

function parseManifest(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => !!o && !!o.kind);
}

/** Cluster-scoped definitions first, so the objects that use them are accepted. */
const ORDER = [
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ConfigMap',
];

function rank(o: K8sObject): number {
  const i = ORDER.indexOf(o.kind);
  return i === -1 ? ORDER.length : i;
}

export interface InstallOptions {
  onProgress?: (line: string) => void;
  /** Bound for each CRD to be Established. */
  crdTimeoutMs?: number;
}

/**
 * Server-side applies the rendered objects (the same field manager each time, so a second policy's install
 * changes the ConfigMap in place, as `istioctl install` does), waiting for each CRD to be Established
 * before anything that may use it.
 */
export async function applyIstioObjects(k8s: K8sOps, objects: K8sObject[], opts: InstallOptions = {}): Promise<void> {
  if (!objects.some((o) => o.kind === 'Namespace' && o.metadata.name === ISTIO_NAMESPACE)) {
    await k8s.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ISTIO_NAMESPACE } });
  }
  // Objects of one rank do not depend on each other, so each rank is applied at once.
  const ranks = [...new Set(objects.map(rank))].sort((a, b) => a - b);
  for (const r of ranks) {
    const group = objects.filter((o) => rank(o) === r);
    await Promise.all(group.map((o) => k8s.apply(o)));
    const crds = group.filter((o) => o.kind === 'CustomResourceDefinition');
    if (crds.length > 0) {
      opts.onProgress?.(`waiting for ${crds.length} Istio CRDs to be Established`);
      await Promise.all(crds.map((c) => waitEstablished(k8s, c.metadata.name, opts.crdTimeoutMs ?? 30_000)));
    }
  }
}

async function waitEstablished(k8s: K8sOps, name: string, timeoutMs: number): Promise<void> {
  const established = await pollUntil(
    async () => {
      const crd = await k8s.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name }).catch(() => undefined);
      const conds = (crd?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
      return conds.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { timeoutMs, intervalMs: 25, maxIntervalMs: 250, factor: 1.5 },
  );
  if (!established) throw new Error(`CRD ${name} is not Established after ${timeoutMs} ms`);
}

/** The `mesh` key of ConfigMap istio-system/istio, parsed; undefined when Istio is not installed. */
export async function readMeshConfig(k8s: K8sOps): Promise<Record<string, unknown> | undefined> {
  const cm = await k8s.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ISTIO_NAMESPACE, name: MESH_CONFIGMAP });
  const text = (cm?.data as Record<string, string> | undefined)?.mesh;
  if (text === undefined) return undefined;
  return (parseYaml(text) ?? {}) as Record<string, unknown>;
}

/**
 * The outbound policy a mesh config text means: the field absent is Istio's default ALLOW_ANY
 * (pkg/config/mesh DefaultMeshConfig); an outboundTrafficPolicy without `mode` is the enum's zero value,
 * REGISTRY_ONLY (istio.io/api mesh/v1alpha1 OutboundTrafficPolicy.Mode).
 */
export function modeOf(mesh: Record<string, unknown>): PolicyMode | string {
  const otp = mesh.outboundTrafficPolicy as { mode?: string } | undefined;
  if (!otp) return 'ALLOW_ANY';
  return otp.mode ?? 'REGISTRY_ONLY';
}

/** Replaces the `mesh` key of ConfigMap istio-system/istio (istiod watches it and pushes the change). */
export async function writeMeshConfig(k8s: K8sOps, mesh: Record<string, unknown>): Promise<void> {
  await k8s.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: MESH_CONFIGMAP, namespace: ISTIO_NAMESPACE },
    // YAML 1.1 quoting: istiod reads this with sigs.k8s.io/yaml, where a bare `off` or `yes` is a boolean.
    data: { mesh: stringify(mesh, { version: '1.1' }) },
  });
}

/** Installs and checks that the ConfigMap now carries the policy asked for; the mode read back is returned. */
export async function installIstio(
  k8s: K8sOps,
  istioctl: string,
  operator: K8sObject,
  workDir: string,
  opts: InstallOptions = {},
): Promise<string> {
  const objects = await renderIstioOperator(istioctl, operator, workDir);
  await applyIstioObjects(k8s, objects, opts);
  const mesh = await readMeshConfig(k8s);
  if (!mesh)
    throw new EnvironmentError(
      `Istio install applied ${objects.length} objects but ConfigMap ${ISTIO_NAMESPACE}/${MESH_CONFIGMAP} is missing`,
    );
  const want = (operator.spec as { meshConfig?: { outboundTrafficPolicy?: { mode?: string } } }).meshConfig?.outboundTrafficPolicy?.mode;
  const got = modeOf(mesh);
  if (want && got !== want)
    throw new EnvironmentError(
      `after installing Istio, ConfigMap ${ISTIO_NAMESPACE}/${MESH_CONFIGMAP} says outboundTrafficPolicy ${got}, not ${want}`,
    );
  return got;
}
