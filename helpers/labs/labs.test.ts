// Every lab is airtight: at least 8 calls checked (verdict and Envoy cluster) from every namespace the
// task touches plus one it must leave alone, its explicit constraints checked on the cluster's objects,
// and at least 4 plausible wrong answers. On the real istiod (one control-plane lane for every lab) the
// reference solution passes, the starting state fails and every wrong answer fails, saying which checks
// catch it and, where the lab names it (`fails:`), for that reason ("bypasses the gateway", "does not
// originate TLS", ...); the model must agree with istiod on every probe (verdict, and the path where both
// follow it), since it explains each failure. The model's own reading of the labs runs first (no tools
// needed), so a broken fixture is found in seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLab, loadLabs } from './load.ts';
import { applyFiles, startState } from './apply.ts';
import { gradeOnLane, gradeState, oracleGrader, type LabGrade } from './grade.ts';
import { LAB_ISTIO_VERSION } from './version.ts';
import { createLane } from '../lanes/select.ts';
import type { Lane } from '../lanes/lane.ts';
import { controlPlaneMissing } from '../lanes/control-plane/requirements.ts';
import { EnvironmentError, UserError } from '../model/errors.ts';
import { formatPath } from '../model/hops.ts';
import { DOMAINS } from './domains.ts';
import type { FailureKind } from './failure.ts';

const labs = loadLabs();
const graded = labs.filter((l) => !l.needs);
/** The labs whose checks pin more than the first hop's verdict and cluster: the path, TLS, route or cluster type. */
const pathLabs = labs.filter((l) => l.checks.some((c) => c.via || c.tls || c.route || c.discovery));

async function oracleGrade(name: string, files: string[]) {
  const lab = findLab(name);
  const state = applyFiles(startState(lab), files);
  return gradeState(lab, state.resources, oracleGrader(state.resources, LAB_ISTIO_VERSION), LAB_ISTIO_VERSION, state.notes);
}

/** What catches a wrong answer, in words: the failed calls, each with its named reason, and constraints. */
const failing = (g: LabGrade) => [
  ...g.results
    .filter((r) => !r.pass)
    .map((r) => `${r.check.from.namespace}→${r.check.to.raw}: ${r.got} via ${r.cluster ?? '?'} [${r.failure?.kind}]`),
  ...g.constraints.filter((c) => !c.pass).map((c) => `${c.constraint.kind}: ${c.got}`),
];

/** The reasons a grading names for its failures. */
const reasons = (g: LabGrade): FailureKind[] => [
  ...new Set<FailureKind>([
    ...g.results.flatMap((r) => (r.failure ? [r.failure.kind] : [])),
    ...(g.constraints.some((c) => !c.pass) ? ['constraint' as const] : []),
  ]),
];

describe('the labs as written', () => {
  it('at least 24 labs, all gradable today, tagged with a curriculum domain and competency', () => {
    expect(labs.length).toBeGreaterThanOrEqual(24);
    expect(labs.filter((l) => l.needs).map((l) => `${l.name}: needs ${l.needs}`)).toEqual([]);
    for (const l of labs) expect(DOMAINS, l.name).toContain(l.domain);
    expect(new Set(graded.map((l) => l.domain)).size).toBeGreaterThanOrEqual(3);
    expect(labs.filter((l) => l.domain === 'troubleshooting').length).toBeGreaterThanOrEqual(3);
  });

  it.each(graded.map((l) => [l.name]))('%s: 8+ calls with a cluster each, from 3+ namespaces, and 4+ wrong answers', (name) => {
    const lab = findLab(name);
    expect(lab.checks.length).toBeGreaterThanOrEqual(8);
    expect(lab.checks.filter((c) => !c.cluster).map((c) => c.to.raw)).toEqual([]);
    expect(new Set(lab.checks.map((c) => c.from.namespace)).size).toBeGreaterThanOrEqual(lab.checks.every((c) => c.from.labels) ? 1 : 3);
    expect(lab.wrong.length).toBeGreaterThanOrEqual(4);
    expect(lab.constraints.length).toBeGreaterThanOrEqual(1);
  });
});

describe('the egress labs (graded on the hops past the sidecar: gateway, TLS origination, route, cluster type)', () => {
  const gatewayLabs = pathLabs.filter((l) => l.checks.some((c) => c.via?.some((h) => h.proxy !== 'sidecar')));
  const tlsLabs = pathLabs.filter((l) => l.checks.some((c) => c.tls === 'sidecar' || c.tls === 'gateway'));
  it('at least 8, across gateways, TLS origination, routing and troubleshooting', () => {
    expect(pathLabs.length).toBeGreaterThanOrEqual(8);
    expect(gatewayLabs.length).toBeGreaterThanOrEqual(4);
    expect(pathLabs.filter((l) => l.checks.some((c) => c.via?.some((h) => h.tls?.mode === 'SIMPLE'))).length).toBeGreaterThanOrEqual(2);
    expect(pathLabs.some((l) => l.checks.some((c) => c.route?.length))).toBe(true);
    expect(pathLabs.some((l) => l.domain === 'troubleshooting')).toBe(true);
  });

  it('a gateway lab fails an answer that sends the call straight out, a TLS-origination lab one that opens no TLS, by name', () => {
    const by = (ls: typeof labs, kind: FailureKind) => ls.filter((l) => l.wrong.some((w) => w.fails === kind)).map((l) => l.name);
    expect(by(gatewayLabs, 'bypasses the gateway')).toEqual(gatewayLabs.map((l) => l.name));
    expect(by(tlsLabs, 'does not originate TLS')).toEqual(tlsLabs.map((l) => l.name));
    expect(tlsLabs.length).toBeGreaterThanOrEqual(2);
  });

  it.each(pathLabs.map((l) => [l.name]))(
    '%s: 8+ calls from 3 namespaces, 4+ wrong answers each naming the reason it fails, every file admitted as a cluster admits it',
    (name) => {
      const lab = findLab(name);
      expect(lab.checks.length).toBeGreaterThanOrEqual(8);
      expect(new Set(lab.checks.map((c) => c.from.namespace)).size).toBeGreaterThanOrEqual(3);
      expect(lab.wrong.length).toBeGreaterThanOrEqual(4);
      expect(lab.wrong.filter((w) => !w.fails).map((w) => w.file)).toEqual([]);
      for (const f of [lab.solution, ...lab.wrong.map((w) => w.file)]) {
        const state = applyFiles(startState(lab), [f]);
        expect(
          state.resources.serviceEntries.length + state.resources.sidecars.length + (state.resources.routing?.length ?? 0),
          f,
        ).toBeGreaterThan(0);
      }
    },
  );
});

describe("the model's reading of the labs (explains each failure; never grades a candidate)", () => {
  it.each(graded.map((l) => [l.name]))('%s: the reference solution passes every check', async (name) => {
    const g = await oracleGrade(name, [findLab(name).solution]);
    expect(failing(g)).toEqual([]);
    expect(g.passed).toBe(true);
  });

  it.each(graded.map((l) => [l.name]))('%s: the starting state alone does not pass', async (name) => {
    const g = await oracleGrade(name, []);
    expect(g.passed).toBe(false);
  });

  it.each(graded.flatMap((l) => l.wrong.map((w) => [l.name, w.file.split('/').pop()!, w.file])))(
    '%s: wrong answer %s is accepted by the cluster and fails a check (for the reason the lab names)',
    async (name, _short, file) => {
      const g = await oracleGrade(name, [file]);
      expect(g.passed).toBe(false);
      const fails = findLab(name).wrong.find((w) => w.file === file)?.fails;
      if (fails) expect(reasons(g)).toContain(fails);
    },
  );

  it('gradeOnLane runs the checks through the case driver as one scenario (on the model lane, which needs no tools)', async () => {
    const lane = await createLane('model', {});
    await lane.setup();
    try {
      const lab = findLab('mesh-registry-only');
      const ok = await gradeOnLane(lab, applyFiles(startState(lab), [lab.solution]).resources, lane, 'model lane', LAB_ISTIO_VERSION);
      expect(failing(ok)).toEqual([]);
      const root = lab.wrong.find((w) => /root-sidecar\.yaml$/.test(w.file))!;
      const bad = await gradeOnLane(lab, applyFiles(startState(lab), [root.file]).resources, lane, 'model lane', LAB_ISTIO_VERSION);
      expect(failing(bad)).toContain('frontend→https://unlisted.example.com/: allowed via PassthroughCluster [verdict]');
    } finally {
      await lane.teardown();
    }
  });

  it('a failed check carries the oracle reason and the listener → cluster path', async () => {
    const lab = findLab('tcp-trap-addresses');
    const g = await oracleGrade(lab.name, [lab.wrong[0].file]);
    const bad = g.results.find((r) => r.check.to.raw === 'tcp://198.51.100.7:5432')!;
    expect(bad).toMatchObject({ pass: false, got: 'allowed', check: { want: 'blocked' } });
    expect(bad.path).toBe('listener 0.0.0.0_5432 → cluster outbound|5432||db.example.com');
    expect(bad.oracle.reason).toMatch(/match-all TCP chain/);
  });

  it('applying a resource with an existing name replaces it, as kubectl apply does', async () => {
    const lab = findLab('https-api-by-sni');
    const state = applyFiles(startState(lab), [lab.solution]);
    expect(state.resources.serviceEntries.map((s) => `${s.namespace}/${s.name}:${s.ports.map((p) => p.number)}`)).toEqual([
      'default/external-api:80,443',
    ]);
  });

  it('an IstioOperator replaces the install: a mesh config without the mode falls back to ALLOW_ANY', async () => {
    const lab = findLab('default-export-private');
    const g = await oracleGrade(lab.name, [lab.wrong.find((w) => /no-mode/.test(w.file))!.file]);
    const bad = g.results.find((r) => !r.pass)!;
    expect(bad.oracle.reason).toMatch(/ALLOW_ANY/);
  });

  describe('what a cluster refuses, and what grading ignores', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'labs-test-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    it('a resource in a namespace the lab cluster does not have is refused like the API server refuses it', () => {
      const f = write(
        'ns.yaml',
        'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: frontnd}\nspec: {outboundTrafficPolicy: {mode: ALLOW_ANY}}\n',
      );
      expect(() => applyFiles(startState(findLab('open-one-namespace')), [f])).toThrow(UserError);
      expect(() => applyFiles(startState(findLab('open-one-namespace')), [f])).toThrow(/namespaces "frontnd" not found/);
    });

    it('a resource Istio validation rejects is refused, naming the file and document', () => {
      const f = write(
        'bad.yaml',
        'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: default}\nspec: {hosts: ["*"], ports: [{number: 80, name: http, protocol: HTTP}]}\n',
      );
      expect(() => applyFiles(startState(findLab('api-over-http')), [f])).toThrow(/bad\.yaml \(document 1\).*rejected/);
    });

    it('a VirtualService is applied with the rest (istiod decides); IstioOperator fields outside meshConfig are named as not applied', () => {
      const f = write(
        'extra.yaml',
        [
          'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: api, namespace: default}\nspec: {hosts: [api.example.com], http: [{route: [{destination: {host: api.example.com}}]}]}',
          'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x, namespace: istio-system}\nspec:\n  profile: demo\n  components: {egressGateways: [{name: istio-egressgateway, enabled: true}]}\n  meshConfig: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}}',
        ].join('\n---\n'),
      );
      const state = applyFiles(startState(findLab('mesh-registry-only')), [f]);
      expect(state.resources.routing?.map((r) => `${r.kind} ${r.namespace}/${r.name}`)).toEqual(['VirtualService default/api']);
      expect(state.notes.join('\n')).toMatch(/spec\.profile "demo" is not applied/);
      expect(state.notes.join('\n')).toMatch(/spec\.components is not applied/);
      expect(state.resources.mesh.outboundTrafficPolicy).toBe('REGISTRY_ONLY');
    });
  });
});

// One control-plane lane for every lab (setting one up costs seconds; a scenario costs less). Skipped,
// with the command that builds them, where the pinned tools are missing.
const missingTools = controlPlaneMissing();
describe('labs graded by the real istiod', () => {
  let lane: Lane | undefined;
  let missing = missingTools ?? '';
  beforeAll(async () => {
    if (missing) return;
    lane = await createLane('control-plane', {});
    try {
      await lane.setup();
    } catch (e) {
      if (!(e instanceof EnvironmentError)) throw e;
      missing = e.message;
    }
  }, 300_000);
  afterAll(async () => {
    await lane?.teardown();
  });

  const onIstiod = async (name: string, files: string[]) => {
    const lab = findLab(name);
    const state = applyFiles(startState(lab), files);
    if (!lane) throw new Error('no lane');
    return gradeOnLane(lab, state.resources, lane, 'istiod', LAB_ISTIO_VERSION);
  };
  const disagreements = (gs: LabGrade[]) =>
    gs.flatMap((g) =>
      g.results
        .filter((r) => r.oracleDisagrees)
        .map(
          (r) =>
            `${r.check.from.namespace}→${r.check.to.raw}: istiod ${r.got}${r.hops ? ` ${formatPath(r.hops)}` : ''}, model ${r.oracle.verdict}${r.oracle.hops ? ` ${formatPath(r.oracle.hops)}` : ''}`,
        ),
    );

  it.for(graded.map((l) => [l.name] as [string]))(
    '%s: istiod passes the reference solution, fails the start and every wrong answer, each for a named reason',
    { timeout: 300_000 },
    async ([name], ctx) => {
      if (missing) ctx.skip(`skipped: ${missing}`);
      const lab = findLab(name);
      const ok = await onIstiod(name, [lab.solution]);
      expect(failing(ok), 'the reference solution').toEqual([]);
      const start = await onIstiod(name, []);
      expect(start.passed, 'the starting state').toBe(false);
      const why: Record<string, string[]> = {};
      const named: Record<string, FailureKind[]> = {};
      const wrong: LabGrade[] = [];
      for (const w of lab.wrong) {
        const g = await onIstiod(name, [w.file]); // one scenario at a time on a lane
        wrong.push(g);
        why[w.file.split('/').pop()!] = failing(g);
        if (w.fails) named[w.file.split('/').pop()!] = reasons(g);
      }
      for (const [file, r] of Object.entries(why)) expect(r, `${file} must fail a check`).not.toEqual([]);
      for (const w of lab.wrong.filter((x) => x.fails)) {
        const file = w.file.split('/').pop()!;
        expect(named[file], `${file} must fail by "${w.fails}"`).toContain(w.fails);
      }
      // The model explains every failure, so it must agree with istiod on the solution, the start and every wrong
      // answer: the verdict, and the path where both follow it (a route to a cluster istiod did not build is the
      // blocked call it is, on both sides; a call that ends at the gateway ends there on both).
      expect(disagreements([ok, start, ...wrong])).toEqual([]);
    },
  );
});
