// Which cases a run runs, as conformance suites let CI choose them (go test's -run/-skip, cilium's test
// filters): `--run REGEX` and `--skip REGEX`, each repeatable and matched on the case id
// `POLICY/scenario/from→to`, and `--rerun-failed REPORT.json`, only what failed or errored in that report.
// `run` checks the flags and hands the selection to the suite as a file (EGRESS_SELECT_FILE).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../model/errors.ts';

export interface Selection {
  run: string[];
  skip: string[];
  /** The ids that failed or errored in a report (`--rerun-failed`), when given. */
  only?: string[];
  /** Where `only` came from, for messages. */
  onlyFrom?: string;
}

export const EMPTY_SELECTION: Selection = { run: [], skip: [] };

function regex(v: string, flag: string): RegExp {
  try {
    return new RegExp(v);
  } catch (e) {
    throw new UserError(`${flag}: "${v}" is not a valid regular expression (${(e as Error).message})`);
  }
}

/** The ids of the cases that failed or errored in a JSON report of `run` (egress-<lane>.json). */
export function failedIds(file: string, flag = '--rerun-failed'): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message.split('\n')[0];
    throw new UserError(`${flag}: cannot read ${file} (${why}); give the JSON report of an earlier run (egress-<lane>.json)`);
  }
  const results = (doc as { results?: unknown }).results;
  if (!Array.isArray(results) || !results.every((r) => typeof r?.id === 'string' && typeof r?.outcome === 'string'))
    throw new UserError(`${flag}: ${file} is not a JSON report of \`egress-conformance run\` (no results with id and outcome)`);
  return (results as { id: string; outcome: string }[]).filter((r) => r.outcome === 'fail' || r.outcome === 'error').map((r) => r.id);
}

/** Checks every pattern (bad input is one line naming the flag) and reads the report. */
export function parseSelection(flags: { run?: string[]; skip?: string[]; rerunFailed?: string }): Selection {
  const run = flags.run ?? [];
  const skip = flags.skip ?? [];
  for (const r of run) regex(r, '--run');
  for (const s of skip) regex(s, '--skip');
  if (flags.rerunFailed === undefined) return { run, skip };
  return { run, skip, only: failedIds(flags.rerunFailed), onlyFrom: flags.rerunFailed };
}

/** A case runs when its id is among `only` (if given), matches some --run (if any), and matches no --skip. */
export function selects(sel: Selection): (id: string) => boolean {
  const run = sel.run.map((r) => regex(r, '--run'));
  const skip = sel.skip.map((s) => regex(s, '--skip'));
  const only = sel.only ? new Set(sel.only) : undefined;
  return (id) => (!only || only.has(id)) && (run.length === 0 || run.some((r) => r.test(id))) && !skip.some((s) => s.test(id));
}

export function selectCases<C extends { id: string }>(cases: C[], sel: Selection): C[] {
  const keep = selects(sel);
  return cases.filter((c) => keep(c.id));
}

/** Why nothing was selected, for the one-line refusal. */
export function describeSelection(sel: Selection): string {
  const parts = [
    ...sel.run.map((r) => `--run ${JSON.stringify(r)}`),
    ...sel.skip.map((s) => `--skip ${JSON.stringify(s)}`),
    ...(sel.onlyFrom ? [`--rerun-failed ${sel.onlyFrom} (${sel.only?.length ?? 0} failed or errored)`] : []),
  ];
  return parts.join(' ') || 'no filter';
}

/** The selection as it crosses into the suite's process: a file (a rerun can list thousands of ids). */
export function writeSelection(dir: string, sel: Selection): string {
  const file = join(dir, 'selection.json');
  writeFileSync(file, JSON.stringify(sel));
  return file;
}

export function readSelection(file: string | undefined): Selection {
  if (!file) return EMPTY_SELECTION;
  const s = JSON.parse(readFileSync(file, 'utf8')) as Selection;
  return { run: s.run ?? [], skip: s.skip ?? [], ...(s.only ? { only: s.only } : {}) };
}
