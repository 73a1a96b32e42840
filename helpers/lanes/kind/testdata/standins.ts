// Small stand-ins shared by the kind-lane tests: a probe toolkit with a trivial command and classifier,
// hand-made case runs (two scenarios, both policies), and readers for the shim log.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { CaseRun, Scenario } from '../../../catalogue/types.ts';
import type { PolicyMode, ProbeTarget, ResourceSet, ServiceEntry } from '../../../model/types.ts';
import { parseProbeUrl } from '../../../probes/url.ts';
import type { ProbeToolkit } from '../probe-toolkit.ts';

export const SHIMS_DIR = fileURLToPath(new URL('./shims', import.meta.url));

/** exit 0 → allowed; 52 → blocked (tcp-close); anything else → error with the stderr as cause. */
export const standinToolkit: ProbeToolkit = {
  probeCommand: (t: ProbeTarget) => (t.port === 5432 ? ['pg_isready', '-h', t.host, '-p', String(t.port)] : ['curl', '-sS', t.raw]),
  probeContainer: (t: ProbeTarget) => (t.port === 5432 ? 'psql' : 'curl'),
  classifyProbe: (_t, r) =>
    r.exitCode === 0
      ? { verdict: 'allowed', evidence: { exitCode: 0 } }
      : r.exitCode === 52
        ? { verdict: 'blocked', signal: 'tcp-close', evidence: { exitCode: 52 } }
        : { verdict: 'error', error: `exit ${r.exitCode}: ${r.stderr}`, evidence: { exitCode: r.exitCode } },
};

function serviceEntry(name: string, namespace: string, host: string, port: number, protocol: 'TCP' | 'HTTP'): ServiceEntry {
  const manifest = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name, namespace },
    spec: {
      hosts: [host],
      ports: [{ number: port, name: `${protocol.toLowerCase()}-${port}`, protocol }],
      resolution: 'DNS',
      location: 'MESH_EXTERNAL',
    },
  };
  return {
    kind: 'ServiceEntry',
    name,
    namespace,
    order: 0,
    hosts: [host],
    addresses: [],
    ports: [{ number: port, name: `${protocol.toLowerCase()}-${port}`, protocol }],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    endpoints: [],
    exportTo: [],
    source: { file: 'test', doc: 1 },
    manifest,
  };
}

function scenario(name: string, resources: Partial<ResourceSet>, probes: [string, string][]): Scenario {
  return {
    name,
    description: name,
    resourceFiles: [],
    resources: { mesh: { meshConfig: {} }, serviceEntries: [], sidecars: [], ...resources },
    policies: ['ALLOW_ANY', 'REGISTRY_ONLY'],
    probes: probes.map(([ns, url]) => ({ from: { namespace: ns }, to: parseProbeUrl(url), expect: {} })),
    file: `${name}.yaml`,
  };
}

export const SCENARIOS: [Scenario, Scenario, ...Scenario[]] = [
  scenario('db-serviceentry', { serviceEntries: [serviceEntry('db-external', 'frontend', 'db.example.com', 5432, 'TCP')] }, [
    ['frontend', 'tcp://db.example.com:5432'],
    ['default', 'tcp://db.example.com:5432'],
  ]),
  scenario('no-serviceentry', {}, [['frontend', 'http://unlisted.example.com/']]),
];

export function cases(scenarios = SCENARIOS): CaseRun[] {
  const out: CaseRun[] = [];
  for (const policy of ['ALLOW_ANY', 'REGISTRY_ONLY'] as PolicyMode[]) {
    for (const s of scenarios)
      for (const probe of s.probes)
        out.push({ id: `${policy}/${s.name}/${probe.from.namespace}→${probe.to.raw}`, scenario: s, policy, probe });
  }
  return out;
}

export interface ShimCall {
  tool: string;
  argv: string[];
  kubeconfig: string | null;
}

export function readShimLog(file: string): ShimCall[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ShimCall);
}

export const line = (c: ShimCall) => [c.tool, ...c.argv].join(' ');

export function installCount(logFile: string): number {
  return readShimLog(logFile).filter((c) => c.tool === 'istioctl' && c.argv[0] === 'manifest').length;
}

/** The outbound policy of the last `istioctl manifest generate -f FILE` in the shim log, read from FILE. */
export function installedMode(logFile: string): string | undefined {
  const installs = readShimLog(logFile).filter((c) => c.tool === 'istioctl' && c.argv[0] === 'manifest');
  const last = installs[installs.length - 1];
  if (!last) return undefined;
  const file = last.argv[last.argv.indexOf('-f') + 1];
  if (file === undefined) throw new Error(`istioctl install was run without -f: ${last.argv.join(' ')}`);
  const iop = parseYaml(readFileSync(file, 'utf8')) as { spec?: { meshConfig?: { outboundTrafficPolicy?: { mode?: string } } } };
  return iop.spec?.meshConfig?.outboundTrafficPolicy?.mode ?? 'ALLOW_ANY';
}

/** State the shims keep next to their log: `clusters` (names) or `containers` ({ id, name, labels }). */
export function shimState<T = unknown>(logFile: string, name: 'clusters' | 'containers'): T[] {
  const f = `${logFile}.${name}.json`;
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as T[]) : [];
}

/** The id the docker shim gives a container of this name. */
export function shimContainerId(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 12);
}
