// Runs a kind-lane plan: each step printed with its elapsed time; on failure diagnostics are kept; on
// success, failure, Ctrl-C or SIGTERM the teardown removes what this run created and nothing else.
import { join } from 'node:path';
import type { CaseRun } from '../../catalogue/types.ts';
import type { Observation } from '../../model/types.ts';
import type { LaneInfo } from '../lane.ts';
import type { Step } from './actions.ts';
import { collectDiagnostics } from './diagnostics.ts';
import { InterruptedError } from './errors.ts';
import { PlanExecutor, type ToolResolver } from './executor.ts';
import { ClientNodeK8s, type K8sOps } from './k8s.ts';
import { observeProbe } from './observe.ts';
import { buildPlan, type KindPlan, type KindPlanOptions } from './plan.ts';
import { requireProbeToolkit, type ProbeToolkit } from './probe-toolkit.ts';
import { execaRunner, type ProcessRunner } from './processes.ts';
import { renderDryRun } from './render.ts';

export interface RunKindLaneOptions extends Omit<KindPlanOptions, 'probeCommands'> {
  dryRun?: boolean;
  /** Where progress lines go (default stdout). */
  out?: (line: string) => void;
  /** Environment for child processes (default process.env); KUBECONFIG is always the run's own file. */
  env?: NodeJS.ProcessEnv;
  processes?: ProcessRunner;
  k8s?: (kubeconfigFile: string) => K8sOps;
  tools?: ToolResolver;
  toolkit?: ProbeToolkit;
  /** Diagnostics go to <artifactsDir>/diagnostics (default artifacts/kind/<runId>). */
  artifactsDir?: string;
  /** Install SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
  pollMs?: number;
  probeIntervalMs?: number;
}

export interface CaseResult {
  caseRun: CaseRun;
  observation: Observation;
}

export interface KindRunResult {
  runId: string;
  dryRun: boolean;
  plan: KindPlan;
  /** Absent for a dry run: nothing was observed. */
  info?: LaneInfo;
  results: CaseResult[];
  diagnosticsDir?: string;
}

export function laneInfo(executor: PlanExecutor): LaneInfo {
  const c = executor.ctx;
  const details: Record<string, string> = {
    kind: executor.tools.get('kind')?.version ?? c.versions.kind,
    kindNodeImage: c.versions.kindNodeImage,
    cluster: c.clusterName,
    runId: c.runId,
    ...Object.fromEntries(Object.entries(c.versions.images).map(([k, v]) => [`image.${k}`, v])),
  };
  const istioctl = executor.tools.get('istioctl');
  if (istioctl) details.istioctl = `${istioctl.version} (${istioctl.source})`;
  const docker = executor.vars.get('docker.version');
  if (docker) details.docker = docker;
  const subnets = executor.vars.get('kind.subnets');
  if (subnets) details.kindNetwork = subnets;
  return { lane: 'kind', istioVersion: istioctl?.version ?? c.istioVersion, details };
}

/** Installs SIGINT/SIGTERM handlers that abort the run; returns the remover. */
function trapSignals(controller: AbortController, out: (l: string) => void): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const h = () => {
      if (controller.signal.aborted) {
        out(`${sig} again: cleanup is under way, it stops by itself`);
        return;
      }
      out(`\n${sig}: stopping, then removing what this run created…`);
      controller.abort(new InterruptedError(sig));
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => handlers.forEach(([sig, h]) => process.off(sig, h));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export async function runSteps(executor: PlanExecutor, steps: Step[], out: (l: string) => void, total = steps.length, offset = 0): Promise<void> {
  for (const [i, step] of steps.entries()) {
    const started = Date.now();
    out(`[${offset + i + 1}/${total}] ${step.title}`);
    try {
      for (const action of step.actions) await executor.run(action);
    } catch (err) {
      out(`  ✗ ${step.title} failed after ${seconds(Date.now() - started)}`);
      throw err;
    }
    out(`  ✓ ${seconds(Date.now() - started)}`);
  }
}

export async function runKindLane(opts: RunKindLaneOptions): Promise<KindRunResult> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const toolkit = requireProbeToolkit(opts.toolkit);
  // CI sets EGRESS_KIND_PRELOAD_IMAGES=1 after loading its image cache (see .github/workflows/nightly.yml).
  const preloadImages = opts.preloadImages ?? (opts.env ?? process.env).EGRESS_KIND_PRELOAD_IMAGES === '1';
  const plan = buildPlan({ ...opts, preloadImages, probeCommands: toolkit });
  const ctx = plan.context;

  if (opts.dryRun) {
    out(renderDryRun(plan));
    return { runId: ctx.runId, dryRun: true, plan, results: [] };
  }

  const controller = new AbortController();
  const untrap = opts.handleSignals === false ? () => {} : trapSignals(controller, out);
  const executor = new PlanExecutor({
    ctx,
    processes: opts.processes ?? execaRunner,
    k8s: opts.k8s ?? ((file) => new ClientNodeK8s(file)),
    tools: opts.tools,
    env: opts.env,
    log: out,
    signal: controller.signal,
    pollMs: opts.pollMs,
    observe: (action, k8s, signal) =>
      observeProbe(action, k8s, signal, {
        classify: toolkit.classifyProbe,
        timeoutMs: ctx.timeouts.probeConverge,
        execTimeoutMs: ctx.timeouts.probeExec,
        intervalMs: opts.probeIntervalMs,
      }),
  });

  const total = plan.steps.length + 1;
  let diagnosticsDir: string | undefined;
  try {
    await runSteps(executor, plan.steps, out, total);
  } catch (err) {
    const interrupted = controller.signal.aborted;
    if (!interrupted && executor.clusterReady) {
      const dir = join(opts.artifactsDir ?? join(process.cwd(), 'artifacts', 'kind', ctx.runId), 'diagnostics');
      try {
        const d = await collectDiagnostics(executor, plan.clients, dir);
        diagnosticsDir = d.dir;
        out(`diagnostics: ${d.dir} (${d.files.length} file(s))`);
      } catch (diagErr) {
        out(`diagnostics failed: ${(diagErr as Error).message}`);
      }
    }
    await teardown(executor, plan, out, total);
    untrap();
    // Ctrl-C wins over whatever error the interruption caused in the step that was running.
    if (interrupted) throw controller.signal.reason instanceof InterruptedError ? controller.signal.reason : new InterruptedError('SIGINT');
    throw err;
  }
  await teardown(executor, plan, out, total);
  untrap();

  const byId = new Map(plan.cases.map((c) => [c.id, c]));
  const results = executor.probes.map((p) => ({ caseRun: byId.get(p.action.caseId)!, observation: p.observation }));
  return { runId: ctx.runId, dryRun: false, plan, info: laneInfo(executor), results, diagnosticsDir };
}

async function teardown(executor: PlanExecutor, plan: KindPlan, out: (l: string) => void, total: number): Promise<void> {
  const started = Date.now();
  out(`[${total}/${total}] ${plan.teardown.title}`);
  for (const action of plan.teardown.actions) await executor.runCleanup(action);
  out(`  ✓ ${seconds(Date.now() - started)}`);
}
