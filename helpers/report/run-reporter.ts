// The vitest reporter of `egress-conformance run`, written for CI logs: one progress line per scenario
// (n/m, elapsed), each failure once as an expected/observed block, a setup failure as a few lines, and
// no ANSI escape codes, no stack frames and no per-test lines for cases that did not run.
import type { Reporter, SerializedError, TestCase, TestModule, TestSuite } from 'vitest/node';
import './case-meta.ts';
import { asserted, type CaseResult } from './results.ts';
import { fmtElapsed } from '../tools/run-build.ts';

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const plain = (s: string) => s.replace(ANSI, '');

/** The first lines of a message, without the stack vitest may have appended. */
export function firstLines(message: string, n: number): string[] {
  const lines = plain(message)
    .split('\n')
    .filter((l) => !/^\s+at /.test(l) && l.trim() !== '');
  return lines.length > n ? [...lines.slice(0, n), `… (${lines.length - n} more lines in the JSON report)`] : lines;
}

/** Scalar evidence as `key=value`; nested objects are left to the JSON report. */
export function evidenceLine(evidence: Record<string, unknown>): string {
  const parts = Object.entries(evidence)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `${k}=${String(v)}`);
  const text = parts.join(' ');
  return text.length > 240 ? `${text.slice(0, 239)}…` : text;
}

/** A failed or errored case as a readable block. */
export function failureBlock(r: CaseResult): string[] {
  const o = r.observed;
  // The headline's "expected" is what the failed assertion asserted: the case's pin when that is what failed.
  const a = asserted(r);
  const lines = [
    `${r.outcome.toUpperCase()} ${r.id}`,
    `  expected  ${a.verdict} via ${a.cluster}${a.signal ? ` (${a.signal})` : ''}${a.by === 'pin' ? ' (pinned by the case)' : ''}`,
    `  observed  ${o ? `${o.verdict}${o.cluster ? ` via ${o.cluster}` : ''}${o.signal ? ` (${o.signal})` : ''}${o.summary ? `: ${o.summary}` : ''}` : 'nothing'}`,
  ];
  if (r.message) lines.push(`  why       ${firstLines(r.message, 3).join('\n            ')}`);
  if (a.by === 'pin') lines.push(`  model     ${r.expected.verdict} via ${r.expected.cluster}: ${r.expected.reason}`);
  else lines.push(`  oracle    ${r.expected.reason}`);
  if (o?.evidence) {
    const ev = evidenceLine(o.evidence);
    if (ev) lines.push(`  evidence  ${ev}`);
  }
  return lines;
}

const isScenario = (s: TestSuite) => [...s.children].some((c) => c.type === 'test');

export default class RunReporter implements Reporter {
  private started = Date.now();
  private total = 0;
  private done = 0;
  private notRun = 0;
  /** Where lines go; vitest constructs reporters itself, so tests replace this field. */
  write: (s: string) => void = (s) => process.stdout.write(`${s}\n`);

  onTestRunStart(): void {
    this.started = Date.now();
  }

  onTestModuleCollected(module: TestModule): void {
    for (const s of module.children.allSuites()) if (isScenario(s)) this.total++;
  }

  onTestCaseResult(test: TestCase): void {
    const state = test.result().state;
    if (state === 'skipped' || state === 'pending') {
      this.notRun++;
      return;
    }
    if (state !== 'failed') return;
    const meta = test.meta().egressCase;
    if (meta) this.write(failureBlock(meta).join('\n'));
    else
      this.write(
        [`FAIL ${test.name}`, ...(test.result().errors ?? []).flatMap((e) => firstLines(e.message, 6).map((l) => `  ${l}`))].join('\n'),
      );
  }

  onTestSuiteResult(suite: TestSuite): void {
    const errors = suite.errors();
    if (errors.length) {
      // A hook failed. On the lane suite with no case run, that is the setup, said once in a few lines;
      // otherwise a teardown (the lane's, or a scenario's clean-up).
      const ran = [...suite.children.allTests()].some((t) => ['passed', 'failed'].includes(t.result().state));
      const what = isScenario(suite) ? `clearing scenario ${suite.name}` : ran ? 'lane teardown' : 'setup';
      this.write([`${what} failed:`, ...errors.flatMap((e) => firstLines(e.message, 8).map((l) => `  ${l}`))].join('\n'));
    }
    if (!isScenario(suite) || suite.state() === 'skipped') return;
    this.done++;
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const t of suite.children.allTests()) {
      const s = t.result().state;
      if (s === 'passed') counts.passed++;
      else if (s === 'failed') counts.failed++;
      else counts.skipped++;
    }
    const parts = [
      `${counts.passed} passed`,
      ...(counts.failed ? [`${counts.failed} failed`] : []),
      ...(counts.skipped ? [`${counts.skipped} not run`] : []),
    ];
    this.write(`[${this.done}/${this.total}] ${suite.name}: ${parts.join(', ')} (${fmtElapsed(Date.now() - this.started)})`);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    for (const m of modules) {
      for (const e of m.errors()) this.write(['suite file failed:', ...firstLines(e.message, 8).map((l) => `  ${l}`)].join('\n'));
    }
    for (const e of unhandled) this.write(['unhandled error:', ...firstLines(e.message ?? String(e), 8).map((l) => `  ${l}`)].join('\n'));
    if (this.notRun) this.write(`${this.notRun} case(s) not run`);
  }
}
