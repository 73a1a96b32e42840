// Loads the case catalogue (fixtures/cases/*.yaml) and expands it into case runs.
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, stringify } from 'yaml';
import type { PolicyMode, Verdict } from '../model/types.ts';
import { DEFAULT_POLICIES, POLICY_LIST, POLICY_MODES } from '../model/types.ts';
import { UserError } from '../model/errors.ts';
import { loadResourceFiles, loadYamlText, toJs } from '../istio/load.ts';
import { parseMeshConfig, policyCaseHint } from '../istio/mesh-config.ts';
import { readYamlFile } from '../istio/input.ts';
import { formatProbeSource, parseProbeSource, parseProbeUrl } from '../probes/url.ts';
import { compareVersions, parseIstioVersion } from '../oracle/version.ts';
import type { CaseRun, CatalogueProbe, PinnedExpectation, Scenario } from './types.ts';
import { parseVia, parseTlsOrigin } from './via.ts';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
export const CASES_DIR = join(FIXTURES_DIR, 'cases');

type Obj = Record<string, unknown>;

function bad(file: string, what: string): never {
  throw new UserError(`${file}: ${what}`);
}

// Every BlockSignal the oracle answers with: the fuzzer pins what istiod did, a route's 503 to a cluster without
// endpoints (fixtures/rules/fuzz-s6262-160.yaml) or Envoy's own 404 included (helpers/fuzz/fixture.ts pin).
const SIGNALS = new Set(['http-502', 'http-503', 'http-404', 'http-local', 'tcp-close']);

/**
 * `allowed outbound|5432||db.example.com` or `blocked BlackHoleCluster tcp-close`; a pseudo-cluster where a call
 * stops before any cluster is written in parentheses and may hold spaces: `blocked (no route)`.
 */
export function parsePinned(file: string, where: string, text: unknown): PinnedExpectation {
  if (typeof text !== 'string') bad(file, `${where}: expected "allowed|blocked CLUSTER [SIGNAL]"`);
  const pseudo = /^(\S+)\s+(\([^)]*\))(?:\s+(.*))?$/.exec(text.trim());
  const [verdict, cluster, signal, ...rest] = pseudo
    ? [pseudo[1], pseudo[2], ...(pseudo[3] ? pseudo[3].split(/\s+/) : [])]
    : text.trim().split(/\s+/);
  if ((verdict !== 'allowed' && verdict !== 'blocked') || !cluster || rest.length)
    bad(file, `${where}: "${text}" is not "allowed|blocked CLUSTER [SIGNAL]"`);
  if (signal && !SIGNALS.has(signal)) bad(file, `${where}: signal "${signal}" is not http-502, http-503, http-404 or tcp-close`);
  return { verdict: verdict as Verdict, cluster, ...(signal ? { signal: signal as PinnedExpectation['signal'] } : {}) };
}

/** `expectBefore: {VERSION: {POLICY: pin}}`: pins for Istio versions before VERSION (a version gate's bound). */
function parseExpectBefore(file: string, where: string, raw: unknown): CatalogueProbe['expectBefore'] {
  if (raw === undefined) return undefined;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad(file, `${where}.expectBefore must map an Istio version to pins by policy`);
  const out = Object.entries(raw as Obj).map(([before, pins]) => {
    try {
      parseIstioVersion(before, `${where}.expectBefore`);
    } catch (e) {
      bad(file, (e as Error).message);
    }
    if (!pins || typeof pins !== 'object') bad(file, `${where}.expectBefore.${before} must map policies to pins`);
    const expect: CatalogueProbe['expect'] = {};
    for (const [k, v] of Object.entries(pins as Obj)) {
      if (!POLICY_MODES.includes(k as PolicyMode))
        bad(file, `${where}.expectBefore.${before}: "${k}" is not a policy (${POLICY_LIST})${policyCaseHint(k)}`);
      expect[k as PolicyMode] = parsePinned(file, `${where}.expectBefore.${before}.${k}`, v);
    }
    return { before, expect };
  });
  return out.sort((a, b) => compareVersions(parseIstioVersion(a.before), parseIstioVersion(b.before)));
}

function parseFromString(file: string, where: string, text: string) {
  try {
    return parseProbeSource(text, where);
  } catch (e) {
    bad(file, (e as Error).message);
  }
}

function parseScenario(file: string, fixturesDir: string, requirePins: boolean): Scenario {
  const yamlDoc = parseDocument(readYamlFile(file), { prettyErrors: false });
  if (yamlDoc.errors.length) bad(file, `not valid YAML: ${yamlDoc.errors[0]?.message.split('\n')[0]}`);
  const doc = toJs(yamlDoc, { file, doc: 1 }) as Obj;
  if (!doc || typeof doc !== 'object') bad(file, 'a case file is a mapping with name, resources and probes');
  const name = doc.name;
  if (typeof name !== 'string' || !/^[a-z0-9][-a-z0-9]*$/.test(name)) bad(file, 'name must be a lower-case slug');
  const resourceFiles = (doc.resources ?? []) as unknown[];
  if (!Array.isArray(resourceFiles) || resourceFiles.some((r) => typeof r !== 'string'))
    bad(file, 'resources must be a list of paths under fixtures/');
  // A file that names no policies runs under ALLOW_ANY and REGISTRY_ONLY; ALLOW_ANY_DYNAMIC_DNS only where named.
  const policies = (doc.policies ?? DEFAULT_POLICIES) as PolicyMode[];
  if (!Array.isArray(policies) || policies.length === 0 || policies.some((p) => !POLICY_MODES.includes(p))) {
    const wrong = Array.isArray(policies) ? policies.find((p) => !POLICY_MODES.includes(p)) : undefined;
    bad(
      file,
      `policies must list one or more of ${POLICY_LIST}${wrong === undefined ? '' : ` ("${String(wrong)}" is not one)`}${policyCaseHint(wrong)}`,
    );
  }
  if (new Set(policies).size !== policies.length) bad(file, 'policies lists a policy twice');
  const resources = loadResourceFiles((resourceFiles as string[]).map((r) => resolve(fixturesDir, r)));
  // Small rule scenarios keep their resources inline, as a list of manifests.
  const inline = doc.manifests ?? [];
  if (!Array.isArray(inline)) bad(file, 'manifests must be a list of resources');
  if (inline.length) loadYamlText(inline.map((m) => stringify(m)).join('---\n'), `${file} manifests`, resources);
  if (resources.mesh.source)
    bad(
      file,
      "an IstioOperator in a scenario's resources; the policy comes from fixtures/istio/<policy>.yaml, other mesh settings from meshConfig:",
    );
  // The same reader as an IstioOperator's spec.meshConfig; only the policy is not the case file's to set.
  const { outboundTrafficPolicy, ...mesh } = parseMeshConfig(doc.meshConfig, 'meshConfig', (what) =>
    bad(file, `${what} (IstioOperator spec.meshConfig fields)`),
  );
  if (outboundTrafficPolicy !== undefined) bad(file, 'meshConfig.outboundTrafficPolicy is set per run by policies:, not here');
  resources.mesh = { ...resources.mesh, ...mesh };

  const probes = doc.probes;
  if (!Array.isArray(probes) || probes.length === 0) bad(file, 'probes must be a non-empty list');
  const parsed: CatalogueProbe[] = probes.map((p: Obj, i: number) => {
    const where = `probes[${i}]`;
    const from =
      typeof p.from === 'string'
        ? parseFromString(file, `${where}.from`, p.from)
        : (p.from as { namespace: string; labels?: Record<string, string> });
    if (!from || typeof from.namespace !== 'string')
      bad(file, `${where}.from must be a namespace, NAMESPACE[key=value,...] or {namespace, labels}`);
    if (typeof p.to !== 'string') bad(file, `${where}.to must be a probe URL`);
    let to;
    try {
      to = parseProbeUrl(p.to, `${where}.to`);
    } catch (e) {
      bad(file, (e as Error).message);
    }
    const expect: CatalogueProbe['expect'] = {};
    for (const [k, v] of Object.entries((p.expect ?? {}) as Obj)) {
      if (!POLICY_MODES.includes(k as PolicyMode))
        bad(file, `${where}.expect: "${k}" is not a policy (${POLICY_LIST})${policyCaseHint(k)}`);
      if (!policies.includes(k as PolicyMode)) bad(file, `${where}.expect.${k}: the file's policies do not include ${k}`);
      expect[k as PolicyMode] = parsePinned(file, `${where}.expect.${k}`, v);
    }
    if (requirePins) for (const pol of policies) if (!expect[pol]) bad(file, `${where}: no pinned expectation for ${pol}`);
    const expectBefore = parseExpectBefore(file, where, p.expectBefore);
    const via = parseVia(p.via, policies, (what) => bad(file, `${where}.via${what}`));
    const tls = parseTlsOrigin(p.tls, (what) => bad(file, `${where}.tls${what}`));
    return { from, to, expect, ...(expectBefore ? { expectBefore } : {}), ...(via ? { via } : {}), ...(tls ? { tls } : {}) };
  });
  return {
    name,
    description: String(doc.description ?? '').trim(),
    resourceFiles: resourceFiles as string[],
    resources,
    policies,
    probes: parsed,
    file,
  };
}

/**
 * fixtures/cases: the catalogue every lane runs, each probe pinned by hand.
 * fixtures/rules: small scenarios, one per semantic rule, that check the oracle against the real istiod
 * (control-plane lane); pins are optional there, the oracle is the expectation.
 */
export const RULES_DIR = join(FIXTURES_DIR, 'rules');

export function loadCatalogue(dir = CASES_DIR, fixturesDir = FIXTURES_DIR, opts: { requirePins?: boolean } = {}): Scenario[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .sort();
  } catch {
    throw new UserError(`${dir}: cannot read the case catalogue directory`);
  }
  const scenarios = files.map((f) => parseScenario(join(dir, f), fixturesDir, opts.requirePins ?? true));
  const seen = new Set<string>();
  for (const s of scenarios) {
    if (seen.has(s.name)) bad(relative(process.cwd(), s.file), `scenario name "${s.name}" is used twice`);
    seen.add(s.name);
  }
  return scenarios;
}

/** A user's case files (`-f`): resources relative to each file, pins optional (the oracle is the expectation). */
export function loadCaseFiles(files: string[]): Scenario[] {
  return files.map((f) => parseScenario(resolve(f), dirname(resolve(f)), false));
}

export function caseId(policy: PolicyMode, scenario: string, probe: CatalogueProbe): string {
  return `${policy}/${scenario}/${formatProbeSource(probe.from)}→${probe.to.raw}`;
}

/** Scenario × policy × probe, in a stable order (policy outermost, as lanes switch policy least often). */
export function expandCases(scenarios: Scenario[], filter?: RegExp): CaseRun[] {
  const out: CaseRun[] = [];
  for (const policy of POLICY_MODES) {
    for (const scenario of scenarios) {
      if (!scenario.policies.includes(policy)) continue;
      for (const probe of scenario.probes) {
        const id = caseId(policy, scenario.name, probe);
        if (!filter || filter.test(id)) out.push({ id, scenario, policy, probe });
      }
    }
  }
  return out;
}
