// A started lab: a cluster the candidate drives with kubectl, outliving the CLI. The lab commands only
// know this small interface; the warm stack (helpers/stack: real kwok cluster and istiod, the one
// `egress-conformance up` keeps) implements it in stack.ts. Which lab is running, and on which stack, is
// recorded in the XDG state directory, so `lab check` and `lab stop` find it from any shell, and a second
// `lab start` finds a stale one and removes it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Observation, Probe, ResourceSet } from '../model/types.ts';
import { UserError } from '../model/errors.ts';
import { gradeState, type LabGrade } from './grade.ts';
import type { Lab } from './load.ts';
import { stateDir } from './progress.ts';
import { LAB_ISTIO_VERSION } from './version.ts';

export interface LiveLab {
  /** The kubeconfig the candidate exports; it names only the lab's own API server. */
  kubeconfig: string;
  /** "istiod <version>": who decides the verdicts. */
  gradedBy: string;
  /**
   * Waits until istiod has pushed what the cluster holds now, however it got there (kubectl, lab install).
   * What follows reads that state; a lab kept open while the candidate works (an exam task) syncs again
   * before each grade, or it would grade what istiod had pushed when the lab started.
   */
  sync(): Promise<void>;
  /**
   * Takes out what sync() wrote into the cluster to know istiod had caught up (a barrier ServiceEntry, a
   * marker in the mesh's connectTimeout), so the candidate's `kubectl get` shows only the lab's and their own.
   */
  release(): Promise<void>;
  /** What the real istiod programs into a sidecar of the probe's source, evaluated. */
  observe(probe: Probe): Promise<Observation>;
  /** The cluster's ServiceEntries, Sidecars and mesh config (ConfigMap istio), for the oracle's reasons. */
  resources(): Promise<ResourceSet>;
  /** Objects in the cluster that grading does not model (a VirtualService, a DestinationRule), said aloud. */
  notes(): Promise<string[]>;
}

export interface LiveBackend {
  /**
   * Starts the cluster for `lab` (or takes the warm stack that is up): Istio installed from its IstioOperator,
   * its clients and starting state. Whatever an earlier lab left (a crashed shell's lab, a dead stack) is removed first.
   */
  start(lab: Lab, say: (line: string) => void): Promise<{ live: LiveLab; handle: string }>;
  /** The running lab's cluster from its handle (what start returned), or undefined when it is gone. */
  attach(handle: string): Promise<LiveLab | undefined>;
  /**
   * Ends the lab of `handle`: the stack when the lab started it (its own processes only), else only what the
   * lab changed on it. True when something was running.
   */
  stop(handle: string, say: (line: string) => void): Promise<boolean>;
}

export interface CurrentLab {
  lab: string;
  startedAt: string;
  /** The backend's handle: the run dir of the warm stack the lab runs on. */
  handle: string;
  kubeconfig: string;
}

const CURRENT = 'current-lab.json';

export function readCurrent(env: NodeJS.ProcessEnv = process.env): CurrentLab | undefined {
  const p = join(stateDir(env), CURRENT);
  if (!existsSync(p)) return undefined;
  try {
    const c = JSON.parse(readFileSync(p, 'utf8')) as CurrentLab;
    return typeof c.lab === 'string' && typeof c.handle === 'string' ? c : undefined;
  } catch {
    return undefined; // a record cut short: treated as no lab; `lab start` cleans up by the stack's own state
  }
}

export function writeCurrent(c: CurrentLab, env: NodeJS.ProcessEnv = process.env): void {
  mkdirSync(stateDir(env), { recursive: true });
  writeFileSync(join(stateDir(env), CURRENT), `${JSON.stringify(c, null, 2)}\n`);
}

export function clearCurrent(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(join(stateDir(env), CURRENT), { force: true });
}

/** Starts `lab`, first stopping a lab left running (or crashed) by an earlier shell. */
export async function startLab(
  lab: Lab,
  backend: LiveBackend,
  say: (l: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LiveLab> {
  const stale = readCurrent(env);
  if (stale) {
    // The backend finds what is left of it (by its own state file) and removes it before starting.
    say(`lab ${stale.lab} (started ${stale.startedAt}) is still recorded as running; it is removed first`);
    clearCurrent(env);
  }
  const { live, handle } = await backend.start(lab, say);
  writeCurrent({ lab: lab.name, startedAt: new Date().toISOString(), handle, kubeconfig: live.kubeconfig }, env);
  return live;
}

/** The running lab, attached; a UserError naming the fix when there is none or it is gone. */
export async function attachCurrent(
  backend: LiveBackend,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ current: CurrentLab; live: LiveLab }> {
  const current = readCurrent(env);
  if (!current)
    throw new UserError(
      'no lab is running; start one with `egress-conformance lab start NAME`, or grade a file with `lab check NAME -f FILE`',
    );
  const live = await backend.attach(current.handle);
  if (!live) {
    clearCurrent(env);
    throw new UserError(
      `lab ${current.lab} is no longer running (its processes are gone); start it again with \`egress-conformance lab start ${current.lab}\``,
    );
  }
  return { current, live };
}

export async function stopCurrent(
  backend: LiveBackend,
  say: (l: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const current = readCurrent(env);
  if (!current) return undefined;
  await backend.stop(current.handle, say);
  clearCurrent(env);
  return current.lab;
}

/** Grades the live cluster: istiod decides, the oracle explains from the cluster's own resources. */
export async function gradeLive(lab: Lab, live: LiveLab): Promise<LabGrade> {
  await live.sync();
  try {
    const [resources, notes] = await Promise.all([live.resources(), live.notes()]);
    return await gradeState(
      lab,
      resources,
      { name: live.gradedBy, referee: true, observe: (p) => live.observe(p) },
      LAB_ISTIO_VERSION,
      notes,
    );
  } finally {
    await live.release();
  }
}
