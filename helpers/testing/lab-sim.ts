// Test support for the lab command tests: a simulated live-lab backend (a cluster held in memory,
// "kubectl apply" being applyFiles) and a file grader, both with the model standing in for istiod (a
// test double only: the commands themselves grade on the real istiod), plus a temp XDG state per test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFiles, type LabState, startState } from '../labs/apply.ts';
import type { LabDeps } from '../labs/deps.ts';
import type { FileGrader } from '../labs/file-grader.ts';
import { gradeState, oracleGrader, oracleObserver } from '../labs/grade.ts';
import type { LiveBackend, LiveLab } from '../labs/live.ts';
import type { Lab } from '../labs/load.ts';
import { LAB_ISTIO_VERSION } from '../labs/version.ts';

export class SimBackend implements LiveBackend {
  readonly running = new Map<string, { lab: Lab; state: LabState }>();
  readonly stopped: string[] = [];
  private n = 0;

  /** What `kubectl apply -f` does to the running cluster. */
  kubectlApply(files: string[]): void {
    const [running] = this.running.entries();
    if (!running) throw new Error('kubectl apply with no running lab');
    const [h, c] = running;
    this.running.set(h, { ...c, state: applyFiles(c.state, files) });
  }

  private liveOf(handle: string): LiveLab {
    return {
      kubeconfig: `/sim/${handle}/kubeconfig`,
      gradedBy: 'simulated istiod (oracle)',
      observe: (p) => oracleObserver(this.running.get(handle)!.state.resources, LAB_ISTIO_VERSION)(p),
      resources: async () => this.running.get(handle)!.state.resources,
      notes: async () => [],
    };
  }

  async start(lab: Lab) {
    // As the stack does: what an earlier start left behind is removed first.
    for (const h of [...this.running.keys()]) await this.stop(h);
    const handle = `run-${++this.n}`;
    this.running.set(handle, { lab, state: startState(lab) });
    return { live: this.liveOf(handle), handle };
  }

  async attach(handle: string) {
    return this.running.has(handle) ? this.liveOf(handle) : undefined;
  }

  async stop(handle: string) {
    this.stopped.push(handle);
    return this.running.delete(handle);
  }
}

/** The model standing in for istiod in these command tests (never in the commands themselves). */
export const simulatedFileGrader: FileGrader = {
  name: 'simulated istiod (model)',
  grade: (lab, state) =>
    gradeState(
      lab,
      state.resources,
      { ...oracleGrader(state.resources, LAB_ISTIO_VERSION), name: 'simulated istiod (model)' },
      LAB_ISTIO_VERSION,
    ),
  close: async () => {},
};

export interface LabFixture {
  dir: string;
  env: NodeJS.ProcessEnv;
  out: string[];
  err: string[];
  backend: SimBackend;
  deps: LabDeps;
  cleanup(): void;
}

export function labFixture(): LabFixture {
  const dir = mkdtempSync(join(tmpdir(), 'labs-session-'));
  const env = { ...process.env, XDG_STATE_HOME: join(dir, 'state') };
  const out: string[] = [];
  const err: string[] = [];
  const backend = new SimBackend();
  const deps: LabDeps = {
    io: { out: (s) => out.push(s), err: (s) => err.push(s) },
    env,
    backend: async () => backend,
    fileGrader: async () => simulatedFileGrader,
  };
  return { dir, env, out, err, backend, deps, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
