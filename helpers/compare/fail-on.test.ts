// compare's upgrade decisions: which way each change moves egress, the --fail-on gate, the hop path as part
// of a probe's answer, and the report around them (OPENED never passes as a plain success, the unchanged
// appendix after the changes). Real catalogue scenarios on the model lane of the two pinned builds.
import { describe, expect, it } from 'vitest';
import type { CaseRun } from '../catalogue/types.ts';
import { UserError } from '../model/errors.ts';
import { compareObservations, exitCodeOf } from './diff.ts';
import { gateExit, parseFailOn } from './fail-on.ts';
import { gatherCases } from './gather.ts';
import { renderMarkdown } from './markdown.ts';
import { type Observations, observe } from './observe.ts';
import { renderTerminal, toDocument } from './report.ts';
import { resolveTarget } from './targets.ts';

const from = resolveTarget('master-2026-04-23', '--from', 'model');
const to = resolveTarget('master-2026-08-27', '--to', 'model');
const catalogue = gatherCases({});
const ofScenario = (...names: string[]) => catalogue.filter((c) => names.includes(c.scenario.name));
const onModel = async (cases: CaseRun[], target: typeof from): Promise<Observations> =>
  (await observe('model', cases, target, { say: () => {} })).observations;

async function compare(cases: CaseRun[], edit?: (b: Observations) => void) {
  const a = await onModel(cases, from);
  const b = new Map(await onModel(cases, to));
  edit?.(b);
  return compareObservations(cases, from, to, a, b);
}

const EXPORT = 'version-default-export-to';
const EXCLUDE = 'version-sidecar-excludes-namespace';
const DB = 'default→tcp://db.example.com:5432';

describe('direction of each change between the pinned builds', () => {
  it('the upgrade scenarios open under REGISTRY_ONLY (export-to), close (exclusions), and only reroute under ALLOW_ANY', async () => {
    const c = await compare(ofScenario(EXPORT, EXCLUDE));
    const byId = Object.fromEntries(c.changes.map((x) => [x.id, x.direction]));
    expect(byId).toMatchObject({
      [`REGISTRY_ONLY/${EXPORT}/${DB}`]: 'opened',
      [`REGISTRY_ONLY/${EXCLUDE}/${DB}`]: 'closed',
      [`ALLOW_ANY/${EXPORT}/${DB}`]: 'rerouted',
      [`ALLOW_ANY/${EXCLUDE}/${DB}`]: 'rerouted',
    });
    expect(toDocument('model', from, to, c).counts).toMatchObject({ changes: 8, opened: 2, closed: 2, rerouted: 4, unchanged: 40 });
    expect(c.unchanged).toHaveLength(c.probes - c.changes.length);
    expect(c.unchanged).not.toContain(`REGISTRY_ONLY/${EXPORT}/${DB}`);
  });
});

describe('--fail-on', () => {
  it.each([
    ['opened', [EXPORT], 1],
    ['opened', [EXCLUDE], 0],
    ['closed', [EXCLUDE], 1],
    ['closed', [EXPORT], 0],
    ['any', [EXPORT], 1],
  ] as const)('--fail-on %s on %j exits %i', async (failOn, scenarios, code) => {
    const c = await compare(ofScenario(...scenarios).filter((x) => x.policy === 'REGISTRY_ONLY'));
    const gate = gateExit(c, failOn);
    expect(gate.code).toBe(code);
    if (code) expect(gate.reason).toMatch(new RegExp(`^--fail-on ${failOn}: 2 probes`));
  });

  it('any also fails on a change of cluster alone, which opened and closed let through', async () => {
    const c = await compare(ofScenario(EXCLUDE).filter((x) => x.policy === 'ALLOW_ANY'));
    expect(c.changes.map((x) => x.direction)).toEqual(['rerouted', 'rerouted']);
    expect(gateExit(c, 'opened').code).toBe(0);
    expect(gateExit(c, 'closed').code).toBe(0);
    expect(gateExit(c, 'any').code).toBe(1);
  });

  it('an explained opening passes the default gate but not --fail-on opened', async () => {
    const c = await compare(ofScenario(EXPORT));
    expect(exitCodeOf(c)).toBe(0);
    expect(gateExit(c, undefined)).toEqual({ code: 0 });
    expect(gateExit(c, 'opened').code).toBe(1);
  });

  it('a probe errored on both sides is neither unchanged nor a pass: its direction is unknown', async () => {
    const cases = ofScenario(EXCLUDE).filter((x) => x.policy === 'ALLOW_ANY');
    const broken = cases.find((x) => x.id.endsWith('frontend→tcp://db.example.com:5432'))!;
    const a = new Map(await onModel(cases, from));
    const b = new Map(await onModel(cases, to));
    for (const side of [a, b]) side.set(broken.id, { verdict: 'error', cluster: '', error: 'ADS fetch failed' });
    const c = compareObservations(cases, from, to, a, b);
    expect(c.unchanged).not.toContain(broken.id);
    expect(c.errors.map((e) => [e.id, e.side])).toEqual([
      [broken.id, 'from'],
      [broken.id, 'to'],
    ]);
    const gate = gateExit(c, 'closed');
    expect(gate).toEqual({
      code: 1,
      reason: '--fail-on closed: 2 probes were not observed on a side, so whether they closed is unknown',
    });
  });

  it('takes opened, closed and any in any case; anything else is bad input naming --fail-on and the values', () => {
    expect(parseFailOn(undefined)).toBeUndefined();
    expect(parseFailOn('OPENED')).toBe('opened');
    expect(parseFailOn('any')).toBe('any');
    const bad = (() => {
      try {
        parseFailOn('open');
      } catch (e) {
        return e;
      }
    })();
    expect(bad).toBeInstanceOf(UserError);
    expect((bad as UserError).exitCode).toBe(2);
    expect((bad as UserError).message).toMatch(/^--fail-on: "open" is not a direction; use opened .*, closed .* or any /);
  });
});

describe('the hop path is part of an answer', () => {
  const GW = 'egress-gateway-http';
  const probe = `ALLOW_ANY/${GW}/default→http://edition.example.com/`;

  it("the sidecar's Pod name is not a change; a gateway sending the call elsewhere is, rerouted and unexplained", async () => {
    const renamed = await compare(ofScenario(GW), (b) => {
      const s = b.get(probe)!;
      b.set(probe, { ...s, hops: s.hops!.map((h) => (h.kind === 'sidecar' ? { ...h, proxy: 'default/egress-client-7f9c4' } : h)) });
    });
    expect(renamed.changes).toEqual([]);
    expect(renamed.unchanged).toContain(probe);

    const moved = await compare(ofScenario(GW), (b) => {
      const s = b.get(probe)!;
      b.set(probe, { ...s, hops: s.hops!.map((h) => (h.kind === 'gateway' ? { ...h, cluster: 'PassthroughCluster' } : h)) });
    });
    expect(moved.changes).toHaveLength(1);
    const x = moved.changes[0]!;
    expect(x).toMatchObject({ id: probe, status: 'unexplained', direction: 'rerouted' });
    expect(x.from.path).toBe(
      'sidecar outbound|80|edition|istio-egressgateway.istio-system.svc.cluster.local → istio-system/istio-egressgateway outbound|80||edition.example.com',
    );
    expect(x.to.path).toMatch(/→ istio-system\/istio-egressgateway PassthroughCluster$/);
    expect(gateExit(moved, 'opened').code).toBe(0);
    expect(gateExit(moved, 'any').code).toBe(1);
    expect(renderMarkdown(toDocument('model', from, to, moved))).toContain(
      '| rerouted | allowed sidecar outbound\\|80\\|edition\\|istio-egressgateway.istio-system.svc.cluster.local → istio-system/istio-egressgateway outbound\\|80\\|\\|edition.example.com | allowed sidecar ',
    );
  });
});

describe('the report', () => {
  it('Markdown: builds, counts by direction, OPENED (⚠️, never ✅) with its rule, then the unchanged appendix', async () => {
    const d = toDocument('model', from, to, await compare(ofScenario(EXPORT).filter((x) => x.policy === 'REGISTRY_ONLY')));
    expect(d.ok).toBe(true);
    const md = renderMarkdown(d);
    expect(md).toMatch(/^## Upgrade check: master-2026-04-23 → master-2026-08-27\n\n⚠️ /);
    expect(md).not.toContain('✅');
    expect(md).toContain('| build | master-2026-04-23 | master-2026-08-27 |');
    expect(md).toContain(
      '| opened | closed | rerouted | unchanged | not observed | unexplained | predicted, missing |\n|---|---|---|---|---|---|---|\n| 2 | 0 | 0 | 10 | 0 | 0 | 0 |',
    );
    expect(md).toContain(
      `| 1 | \`REGISTRY_ONLY/${EXPORT}/${DB}\` | **OPENED** | blocked BlackHoleCluster | allowed outbound\\|5432\\|\\|db.example.com | default-export-to (since 1.30.3, istio/istio#60701`,
    );
    const changes = md.indexOf('### Changes');
    const appendix = md.indexOf('### Appendix: 10 unchanged probes');
    expect(changes).toBeGreaterThan(0);
    expect(appendix).toBeGreaterThan(changes);
    expect(md.slice(appendix)).toContain(`- **REGISTRY_ONLY/${EXPORT}** (10)\n  - \`frontend→tcp://db.example.com:5432\``);
    expect(md.slice(appendix)).not.toContain(`\`${DB}\``);
  });

  it('Markdown: ✅ only when nothing opened; a missing change is flagged in the appendix', async () => {
    const cases = ofScenario(EXCLUDE).filter((x) => x.policy === 'REGISTRY_ONLY');
    const closedOnly = renderMarkdown(toDocument('model', from, to, await compare(cases)));
    expect(closedOnly).toMatch(/\n✅ /);
    const missing = renderMarkdown(
      toDocument(
        'model',
        from,
        to,
        await compare(cases, (b) =>
          b.set(`REGISTRY_ONLY/${EXCLUDE}/${DB}`, { verdict: 'allowed', cluster: 'outbound|5432||db.example.com' }),
        ),
      ),
    );
    expect(missing).toMatch(/\n❌ /);
    expect(missing).toContain(`  - \`${DB}\` (a change was predicted: MISSING above)`);
  });

  it('terminal: a CHANGE column with OPENED, then the unchanged probes by scenario after the changes', async () => {
    const c = await compare(ofScenario(EXPORT).filter((x) => x.policy === 'REGISTRY_ONLY'));
    const text = renderTerminal(toDocument('model', from, to, c));
    expect(text.split('\n')[0]).toMatch(
      /: 12 probes, 2 changed \(2 opened, 0 closed, 0 rerouted; 2 explained, 0 unexplained\), 0 predicted changes missing, 10 unchanged, 0 errors$/,
    );
    expect(text).toMatch(/#\s+PROBE\s+CHANGE\s+master-2026-04-23\s+master-2026-08-27\s+RULE/);
    expect(text).toMatch(new RegExp(`REGISTRY_ONLY/${EXPORT}/default→tcp://db\\.example\\.com:5432\\s+OPENED\\s+blocked BlackHoleCluster`));
    const tail = text.slice(text.indexOf('Unchanged (10 probes):'));
    expect(text.indexOf('Unchanged (10 probes):')).toBeGreaterThan(text.indexOf('OPENED'));
    expect(tail.split('\n')[1]).toMatch(new RegExp(`^  REGISTRY_ONLY/${EXPORT}: frontend→tcp://db\\.example\\.com:5432, `));
  });
});
