// Reports for CI: JUnit cases carry time, the Markdown summary always shows the verdict matrix, failures
// print as readable blocks, and how a run ends is decided from its report (skips never pass a run).
import { describe, expect, it } from 'vitest';
import type { CaseResult, RunReport } from './results.ts';
import { renderJUnit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { runEnd } from './outcome.ts';
import { evidenceLine, failureBlock, firstLines } from './run-reporter.ts';
import { markInterrupted } from './interrupted.ts';
import { reportJson } from './write.ts';

const expected = {
  verdict: 'blocked' as const,
  cluster: 'BlackHoleCluster',
  reason: 'mesh outboundTrafficPolicy REGISTRY_ONLY; no ServiceEntry',
  listener: '0.0.0.0_80',
  signal: 'http-502' as const,
  policy: 'REGISTRY_ONLY' as const,
};
const result = (id: string, outcome: CaseResult['outcome'], extra: Partial<CaseResult> = {}): CaseResult => ({
  id: `REGISTRY_ONLY/s/${id}`,
  policy: 'REGISTRY_ONLY',
  scenario: 's',
  from: 'frontend',
  to: `http://${id}.example.com/`,
  expected,
  outcome,
  ...extra,
});
const report = (results: CaseResult[], extra: Partial<RunReport> = {}): RunReport => ({
  lane: 'control-plane',
  istioVersion: '1.32.0',
  versions: { lane: 'control-plane' },
  startedAt: '2026-11-29T10:00:00.000Z',
  finishedAt: '2026-11-29T10:01:30.500Z',
  results,
  ...extra,
});
const passed = (id: string, ms: number) =>
  result(id, 'pass', { durationMs: ms, observed: { verdict: 'blocked', cluster: 'BlackHoleCluster', evidence: {} } });

describe('JUnit', () => {
  it('every test case and the suite carry time in seconds', () => {
    const xml = renderJUnit(report([passed('a', 1234), result('b', 'skipped', { message: 'not run' })]));
    expect(xml).toMatch(/<testsuite name="egress-conformance\.control-plane" [^>]*time="90\.500"/);
    expect(xml).toContain('name="REGISTRY_ONLY/s/a expects blocked" time="1.234"');
    expect(xml).toContain('name="REGISTRY_ONLY/s/b expects blocked" time="0.000"');
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml.match(/<testcase [^>]*time="\d+\.\d{3}"/g)).toHaveLength(2);
  });

  it("a failure on the case's pin is named by the pin; system-out is readable lines, not one escaped JSON line", () => {
    const onPin = result('p', 'fail', {
      pin: { verdict: 'allowed', cluster: 'PassthroughCluster' },
      observed: {
        verdict: 'blocked',
        cluster: 'BlackHoleCluster',
        summary: 'HTTP 502 server=envoy',
        evidence: { listener: '0.0.0.0_80', attempts: 3 },
      },
      message: 'agrees with the oracle, but the case pins allowed PassthroughCluster',
    });
    const xml = renderJUnit(report([onPin]));
    expect(xml).toContain('name="REGISTRY_ONLY/s/p expects allowed (pinned)"');
    const out = /<system-out>([^<]*)<\/system-out>/.exec(xml)?.[1] ?? '';
    expect(out.split('\n')).toEqual([
      'expected: allowed via PassthroughCluster',
      'observed: blocked via BlackHoleCluster',
      'summary: HTTP 502 server=envoy',
      `model: ${expected.reason}`,
      'listener: 0.0.0.0_80',
      'attempts: 3',
    ]);
  });

  it('a setup failure is one test case whose message is the first line and whose body is the whole text', () => {
    const xml = renderJUnit(report([], { setupError: 'pilot-discovery exited (1)\nlog line 1' }));
    expect(xml).toContain(
      '<testcase classname="egress-conformance.control-plane" name="setup" time="0.000"><error message="pilot-discovery exited (1)">pilot-discovery exited (1)\nlog line 1</error></testcase>',
    );
  });
});

describe('Markdown summary', () => {
  it('shows the verdict matrix when everything passed', () => {
    const md = renderMarkdown(report([passed('a', 1), passed('b', 1)]));
    expect(md).toContain('**2 passed, 0 failed, 0 errors, 0 skipped**');
    expect(md).not.toContain('### Not passed');
    expect(md).toContain('### Verdict matrix');
    expect(md).toContain(
      '| REGISTRY_ONLY | s | frontend → http://a.example.com/ | blocked BlackHoleCluster | blocked BlackHoleCluster | pass |',
    );
    expect(md).toContain(
      '| REGISTRY_ONLY | s | frontend → http://b.example.com/ | blocked BlackHoleCluster | blocked BlackHoleCluster | pass |',
    );
  });

  it('lists failures first, escapes pipes, and marks an interrupted run', () => {
    const fail = result('c', 'fail', {
      observed: { verdict: 'allowed', cluster: 'outbound|80||c.example.com', evidence: {} },
      message: 'expected blocked, observed allowed',
    });
    const md = renderMarkdown(report([fail], { interrupted: 'SIGINT' }));
    expect(md).toContain('Interrupted by SIGINT');
    expect(md).toContain(
      '| fail | REGISTRY_ONLY/s/c | blocked BlackHoleCluster | allowed outbound\\|80\\|\\|c.example.com | expected blocked, observed allowed |',
    );
    expect(md).toContain('| **FAIL** |');
    expect(md.indexOf('### Not passed')).toBeLessThan(md.indexOf('### Verdict matrix'));
  });
});

describe('failure blocks (run reporter)', () => {
  it('a failed case is an expected/observed block, evidence as key=value, no JSON', () => {
    const fail = result('c', 'fail', {
      observed: {
        verdict: 'allowed',
        cluster: 'PassthroughCluster',
        summary: 'HTTP 200 server=nginx',
        evidence: { listener: 'virtualOutbound', attempts: 3, path: { nested: true } },
      },
      message: 'expected blocked (BlackHoleCluster), observed allowed (PassthroughCluster)',
    });
    expect(failureBlock(fail)).toEqual([
      'FAIL REGISTRY_ONLY/s/c',
      '  expected  blocked via BlackHoleCluster (http-502)',
      '  observed  allowed via PassthroughCluster: HTTP 200 server=nginx',
      '  why       expected blocked (BlackHoleCluster), observed allowed (PassthroughCluster)',
      '  oracle    mesh outboundTrafficPolicy REGISTRY_ONLY; no ServiceEntry',
      '  evidence  listener=virtualOutbound attempts=3',
    ]);
  });

  it("a pin that failed is the headline's expected, with the model's answer below it (never `expected blocked … observed blocked … fail`)", () => {
    const onPin = result('p', 'fail', {
      pin: { verdict: 'allowed', cluster: 'PassthroughCluster' },
      observed: { verdict: 'blocked', cluster: 'BlackHoleCluster', evidence: {} },
      message: 'agrees with the oracle, but the case pins allowed PassthroughCluster and the lane observed blocked BlackHoleCluster',
    });
    const block = failureBlock(onPin);
    expect(block.slice(0, 3)).toEqual([
      'FAIL REGISTRY_ONLY/s/p',
      '  expected  allowed via PassthroughCluster (pinned by the case)',
      '  observed  blocked via BlackHoleCluster',
    ]);
    expect(block).toContain('  model     blocked via BlackHoleCluster: mesh outboundTrafficPolicy REGISTRY_ONLY; no ServiceEntry');
  });

  it('an errored case without an observation says so', () => {
    expect(failureBlock(result('d', 'error', { message: 'lane setup failed: no istiod' }))).toEqual([
      'ERROR REGISTRY_ONLY/s/d',
      '  expected  blocked via BlackHoleCluster (http-502)',
      '  observed  nothing',
      '  why       lane setup failed: no istiod',
      '  oracle    mesh outboundTrafficPolicy REGISTRY_ONLY; no ServiceEntry',
    ]);
  });

  it('messages lose ANSI codes and stack frames, and are cut to a few lines', () => {
    expect(firstLines('\x1b[31mboom\x1b[39m\n    at f (x.ts:1:1)\n\nline 2\nline 3', 2)).toEqual([
      'boom',
      'line 2',
      '… (1 more lines in the JSON report)',
    ]);
    expect(evidenceLine({ long: 'x'.repeat(300) })).toHaveLength(240);
  });
});

describe('JSON report', () => {
  it('opens with counts and durations', () => {
    const doc = JSON.parse(reportJson(report([passed('a', 1200), passed('b', 300), result('c', 'skipped', { message: 'not run' })])));
    expect(Object.keys(doc).indexOf('counts')).toBeLessThan(Object.keys(doc).indexOf('results'));
    expect(doc.counts).toEqual({ pass: 2, fail: 0, error: 0, skipped: 1, total: 3 });
    expect(doc.durationMs).toBe(90_500);
    expect(doc.observeMs).toBe(1500);
  });
});

describe('how a run ends', () => {
  it('all passed: 0; a failure or error: 1', () => {
    expect(runEnd(report([passed('a', 1)]), 0)).toEqual({ code: 0 });
    expect(runEnd(report([passed('a', 1), result('b', 'fail')]), 1)).toEqual({ code: 1 });
    expect(runEnd(report([result('b', 'error')]), 1)).toEqual({ code: 1 });
  });

  it('cases skipped by the lane: exit 3 with the reason, even if the suite exited 0', () => {
    const end = runEnd(report([passed('a', 1), result('b', 'skipped', { message: 'no lane can run: pilot-discovery is not built' })]), 0);
    expect(end.code).toBe(3);
    expect(end.line).toBe(
      '1 of 2 cases were skipped on the control-plane lane (no lane can run: pilot-discovery is not built); a run passes only when its cases ran',
    );
    expect(runEnd(report([]), 0)).toEqual({ code: 3, line: 'the control-plane lane ran no case' });
  });

  it('every case passed but the suite failed (a teardown): 1 with a reason', () => {
    expect(runEnd(report([passed('a', 1)]), 1)).toEqual({
      code: 1,
      line: 'every case passed, but the suite failed outside them (a teardown or hook); see the output above',
    });
  });

  it('no report at all: 3 when the suite claims success (it was skipped), 1 when it failed', () => {
    expect(runEnd(undefined, 0).code).toBe(3);
    expect(runEnd(undefined, 1).code).toBe(1);
  });

  it('a setup failure keeps its own code and first line', () => {
    expect(runEnd(report([result('a', 'skipped')], { setupError: 'no Docker\nmore', setupExitCode: 3 }), 1)).toEqual({
      code: 3,
      line: 'control-plane lane setup failed: no Docker',
    });
    expect(runEnd(report([], { setupError: 'bug' }), 1).code).toBe(1);
  });

  it('interrupted: 130 for SIGINT, 143 for SIGTERM', () => {
    expect(runEnd(report([], { interrupted: 'SIGINT' }), 130).code).toBe(130);
    expect(runEnd(report([], { interrupted: 'SIGTERM' }), 143).code).toBe(143);
  });
});

describe('markInterrupted', () => {
  it('keeps the results so far and lists the rest as not run, with the signal', () => {
    const partial = report([passed('a', 1)], { partial: true });
    const all = [passed('a', 1), result('b', 'pass')].map(({ outcome: _o, message: _m, observed: _ob, durationMs: _d, ...c }) => c);
    const r = markInterrupted(partial, 'SIGINT', all, partial);
    expect(r.interrupted).toBe('SIGINT');
    expect(r.partial).toBeUndefined();
    expect(r.results.map((x) => [x.id, x.outcome, x.message])).toEqual([
      ['REGISTRY_ONLY/s/a', 'pass', undefined],
      ['REGISTRY_ONLY/s/b', 'skipped', 'not run: interrupted by SIGINT'],
    ]);
    expect(markInterrupted(undefined, 'SIGTERM', all, partial).results.every((x) => x.outcome === 'skipped')).toBe(true);
  });
});
