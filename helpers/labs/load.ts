// Exam-practice labs (fixtures/labs/*.yaml, data only): a task, the install and starting state, checks on
// behaviour, hints, a reference solution, an explanation and wrong answers that must fail.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import {
  type BlockSignal,
  CLUSTER_DISCOVERY,
  type ClusterDiscovery,
  type PolicyMode,
  type ProbeSource,
  type ProbeTarget,
  type TlsOrigin,
  type Verdict,
} from '../model/types.ts';
import { UserError } from '../model/errors.ts';
import { FIXTURES_DIR } from '../catalogue/load.ts';
import { parseProbeSource, parseProbeUrl } from '../probes/url.ts';
import { loadResourceFiles } from '../istio/load.ts';
import { meshMode } from '../oracle/policy.ts';
import { DOMAINS, type Domain } from './domains.ts';
import { type PinnedHop, parsePinnedHop } from '../model/hops.ts';
import { parseConstraint, type Constraint } from './constraints.ts';
import { parseTlsOrigin } from '../catalogue/via.ts';
import { FAILURES, type FailureKind } from './failure.ts';

export const LABS_DIR = join(FIXTURES_DIR, 'labs');

export interface LabCheck {
  from: ProbeSource;
  to: ProbeTarget;
  want: Verdict;
  signal?: BlockSignal;
  /** The Envoy cluster the call must take (`outbound|80||api.example.com`, `BlackHoleCluster`, ...). */
  cluster?: string;
  /** What the check stands for, in the task's terms (shown when it fails). */
  because: string;
  /** A nudge for when it fails; otherwise one is derived from how it failed (never the answer). */
  hint?: string;
  /** The path pinned hop by hop (sidecar, then gateways), as case files pin it. */
  via?: PinnedHop[];
  /** Route facts the first hop must carry (`timeout 3s`). */
  route?: string[];
  /** Where TLS to the destination must start: the application (`client`), the `sidecar`, the `gateway`, or `none`. */
  tls?: TlsOrigin;
  /** The type of the cluster the call leaves through (`DYNAMIC_FORWARD_PROXY`: resolved per call). */
  discovery?: ClusterDiscovery;
}

export interface WrongAnswer {
  file: string;
  mistake: string;
  /** The reason grading must name for it (e.g. "bypasses the gateway"), when the lab pins one. */
  fails?: FailureKind;
}

export interface Lab {
  name: string;
  title: string;
  topic: string;
  /** The curriculum domain the lab practises (its weight decides how often an exam draws it). */
  domain: Domain;
  /** The competency of that domain, in the curriculum's words. */
  competency: string;
  /** What a lane must observe that it cannot yet (e.g. gateway hops): such a lab is listed, never graded. */
  needs?: string;
  /** The IstioOperator the lab's Istio is installed from (absolute path). */
  install: string;
  /** Its mesh-wide outboundTrafficPolicy (Istio's default ALLOW_ANY when it sets none). */
  policy: PolicyMode;
  task: string;
  /** Resource files applied when the lab starts (absolute paths). */
  start: string[];
  checks: LabCheck[];
  /** The task's explicit constraints, checked on the cluster's objects. */
  constraints: Constraint[];
  hints: string[];
  /** Reference solution (absolute path): applied over the starting state, as `kubectl apply -f` does. */
  solution: string;
  explanation: string;
  /** Plausible wrong answers (absolute paths), each failing at least one check. */
  wrong: [WrongAnswer, ...WrongAnswer[]];
  file: string;
}

type Obj = Record<string, unknown>;

/** A check's source: `frontend`, `frontend[app=web]`, or `{namespace: frontend, labels: {app: web}}`. */
function parseSource(v: unknown, bad: (w: string) => never, at: string): ProbeSource {
  if (typeof v === 'string' && v) {
    try {
      return parseProbeSource(v, `${at}.from`);
    } catch (e) {
      bad((e as Error).message);
    }
  }
  const o = v as Obj | undefined;
  if (!o || typeof o !== 'object' || typeof o.namespace !== 'string') bad(`${at}.from must be a namespace or {namespace, labels}`);
  const labels = o!.labels as Obj | undefined;
  if (labels !== undefined && (typeof labels !== 'object' || Object.values(labels).some((x) => typeof x !== 'string')))
    bad(`${at}.from.labels must map names to strings`);
  return { namespace: o!.namespace as string, ...(labels ? { labels: labels as Record<string, string> } : {}) };
}

function parseLab(file: string): Lab {
  const bad = (what: string): never => {
    throw new UserError(`${file}: ${what}`);
  };
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    bad(`not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!parsed || typeof parsed !== 'object') bad('a lab is a mapping with name, task and checks');
  const doc = parsed as Obj;
  for (const k of ['name', 'title', 'topic', 'domain', 'competency', 'install', 'task', 'solution', 'explanation']) {
    if (typeof doc[k] !== 'string' || !(doc[k] as string).trim()) bad(`a lab needs ${k} (a string)`);
  }
  const here = dirname(file);
  const path = (p: unknown, what: string): string => {
    if (typeof p !== 'string' || !p) bad(`${what} must be a file path relative to the lab`);
    const abs = resolve(here, p as string);
    if (!existsSync(abs)) bad(`${what} "${String(p)}" does not exist`);
    return abs;
  };
  const checks = doc.checks as Obj[];
  if (!Array.isArray(checks) || checks.length === 0) bad('checks must be a non-empty list');
  const hints = doc.hints as unknown[];
  if (!Array.isArray(hints) || hints.length === 0) bad('hints must be a non-empty list');
  const wrong = doc.wrong as Obj[];
  if (!Array.isArray(wrong) || wrong.length === 0) bad('wrong must list at least one plausible wrong answer ({file, mistake})');
  const install = path(doc.install, 'install');
  if (!(DOMAINS as readonly string[]).includes(doc.domain as string)) bad(`domain must be one of ${DOMAINS.join(', ')}`);
  if (doc.needs !== undefined && typeof doc.needs !== 'string') bad('needs must say what a lane must observe first');
  const constraints = (doc.constraints ?? []) as unknown[];
  if (!Array.isArray(constraints)) bad('constraints must be a list');
  return {
    name: doc.name as string,
    title: doc.title as string,
    topic: doc.topic as string,
    domain: doc.domain as Domain,
    competency: doc.competency as string,
    ...(doc.needs ? { needs: doc.needs as string } : {}),
    install,
    policy: meshMode(loadResourceFiles([install])),
    task: (doc.task as string).trim(),
    start: ((doc.start ?? []) as unknown[]).map((p, i) => path(p, `start[${i}]`)),
    checks: checks.map((c, i) => {
      const at = `checks[${i}]`;
      const [want, signal, ...rest] = String(c.want ?? '').split(/\s+/);
      if (
        (want !== 'allowed' && want !== 'blocked') ||
        rest.length ||
        (signal && want !== 'blocked') ||
        (signal && signal !== 'http-502' && signal !== 'tcp-close')
      ) {
        bad(`${at}.want must be allowed, blocked, "blocked http-502" or "blocked tcp-close"`);
      }
      if (typeof c.because !== 'string' || !c.because) bad(`${at}.because must say what the check stands for`);
      if (c.cluster !== undefined && typeof c.cluster !== 'string') bad(`${at}.cluster must be an Envoy cluster name`);
      if (c.hint !== undefined && typeof c.hint !== 'string') bad(`${at}.hint must be a sentence`);
      return {
        from: parseSource(c.from, bad, at),
        to: parseProbeUrl(String(c.to), `${file} ${at}.to`),
        want: want as Verdict,
        ...(signal ? { signal: signal as BlockSignal } : {}),
        ...(c.cluster ? { cluster: c.cluster as string } : {}),
        because: c.because as string,
        ...(c.hint ? { hint: c.hint as string } : {}),
        ...(c.via !== undefined ? { via: parseVia(c.via, (w) => bad(`${at}.via${w}`)) } : {}),
        ...(c.route !== undefined ? { route: strings(c.route, () => bad(`${at}.route must list route facts`)) } : {}),
        ...(c.tls !== undefined ? { tls: parseTlsOrigin(c.tls, (w) => bad(`${at}.tls${w}`)) } : {}),
        ...(c.discovery !== undefined ? { discovery: discoveryOf(c.discovery, (w) => bad(`${at}.discovery${w}`)) } : {}),
      };
    }),
    constraints: constraints.map((c, i) => parseConstraint(c, `constraints[${i}]`, bad)),
    hints: hints.map(String),
    solution: path(doc.solution, 'solution'),
    explanation: (doc.explanation as string).trim(),
    wrong: nonEmpty(
      wrong.map((w, i) => {
        if (typeof w?.mistake !== 'string') bad(`wrong[${i}].mistake must say what the mistake is`);
        if (w.fails !== undefined && !FAILURES.includes(w.fails as FailureKind))
          bad(`wrong[${i}].fails must be one of: ${FAILURES.join(', ')}`);
        return {
          file: path(w.file, `wrong[${i}].file`),
          mistake: w.mistake as string,
          ...(w.fails !== undefined ? { fails: w.fails as FailureKind } : {}),
        };
      }),
      () => bad('wrong must list at least one plausible wrong answer ({file, mistake})'),
    ),
    file,
  };
}

export function loadLabs(dir = LABS_DIR): Lab[] {
  const labs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parseLab(join(dir, f)));
  const seen = new Set<string>();
  for (const l of labs) {
    if (seen.has(l.name)) throw new UserError(`${l.file}: a second lab named "${l.name}"`);
    seen.add(l.name);
  }
  return labs;
}

export function findLab(name: string, dir = LABS_DIR): Lab {
  const labs = loadLabs(dir);
  const lab = labs.find((l) => l.name === name);
  if (!lab) throw new UserError(`lab "${name}" does not exist; labs: ${labs.map((l) => l.name).join(', ')}`);
  return lab;
}

/** The label sets the lab's checks probe from, per namespace: the client Pods a live lab needs. */
export function clientsOf(lab: Lab): ProbeSource[] {
  const out = new Map<string, ProbeSource>();
  for (const c of lab.checks) out.set(JSON.stringify([c.from.namespace, Object.entries(c.from.labels ?? {}).sort()]), c.from);
  return [...out.values()];
}

function nonEmpty<T>(xs: T[], empty: () => never): [T, ...T[]] {
  const [first, ...rest] = xs;
  return first === undefined ? empty() : [first, ...rest];
}

function parseVia(raw: unknown, bad: (what: string) => never): PinnedHop[] {
  if (!Array.isArray(raw) || raw.length === 0) bad(' must list hops "PROXY CLUSTER [tls:MODE[:SNI]]"');
  return (raw as unknown[]).map((h, i) => {
    const hop = parsePinnedHop(h);
    if (typeof hop === 'string') bad(`[${i}]: ${hop}`);
    return hop as PinnedHop;
  });
}

function discoveryOf(raw: unknown, bad: (what: string) => never): ClusterDiscovery {
  if (!CLUSTER_DISCOVERY.includes(raw as ClusterDiscovery)) bad(` must be one of ${CLUSTER_DISCOVERY.join(', ')}`);
  return raw as ClusterDiscovery;
}

function strings(raw: unknown, bad: () => never): string[] {
  if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'string')) bad();
  return raw as string[];
}
