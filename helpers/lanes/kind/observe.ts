// Observes one probe on the cluster: the command in the source namespace's client and the same command from
// the control client (outside the mesh). Sidecars apply config eventually, so a verdict counts only once the
// same classification holds CONSECUTIVE times in a row, within a bounded time; every attempt is evidence.
import pRetry, { AbortError } from 'p-retry';
import type { Observation } from '../../model/types.ts';
import type { ProbeAction } from './actions.ts';
import { excerpt } from './errors.ts';
import type { ExecResult, K8sOps } from '../../k8s/client.ts';
import { CONSECUTIVE } from './plan.ts';
import type { ProbeToolkit } from './probe-toolkit.ts';

export const SERVER_UNREACHABLE = 'server down/unreachable from outside the mesh';

export interface ObserveOptions {
  classify: ProbeToolkit['classifyProbe'];
  consecutive?: number;
  /** Bound on the whole observation. */
  timeoutMs: number;
  /** Pause between attempts. */
  intervalMs?: number;
  /** Bound on one exec. */
  execTimeoutMs: number;
  /** Upper bound on attempts, whatever the time. */
  maxAttempts?: number;
}

interface SideRecord {
  exitCode: number;
  stdout: string;
  stderr: string;
  verdict: Observation['verdict'];
  signal?: string;
  error?: string;
}

export interface AttemptRecord {
  attempt: number;
  mesh: SideRecord;
  control: SideRecord;
  /** What this attempt counts as, after the control check. */
  outcome: string;
}

/** What must repeat: verdict and signal, or the error's cause (its text up to the first colon; details vary). */
function keyOf(o: Observation): string {
  return o.verdict === 'error' ? `error: ${(o.error ?? 'unknown').split(':')[0]}` : `${o.verdict}${o.signal ? ` (${o.signal})` : ''}`;
}

async function runSide(k8s: K8sOps, pod: { namespace: string; name: string }, action: ProbeAction, opts: ObserveOptions): Promise<{ result: ExecResult; obs: Observation }> {
  let result: ExecResult;
  try {
    result = await k8s.exec(pod.namespace, pod.name, action.container, action.argv, opts.execTimeoutMs);
  } catch (err) {
    // The exec itself failed (API, pod gone, exec timeout): never a verdict.
    result = { exitCode: -1, stdout: '', stderr: String((err as Error).message ?? err) };
    return { result, obs: { verdict: 'error', error: `exec in ${pod.namespace}/${pod.name} failed: ${result.stderr}`, evidence: {} } };
  }
  return { result, obs: opts.classify(action.probe.to, result) };
}

function record(r: { result: ExecResult; obs: Observation }): SideRecord {
  return {
    exitCode: r.result.exitCode,
    stdout: excerpt(r.result.stdout, 12),
    stderr: excerpt(r.result.stderr, 6),
    verdict: r.obs.verdict,
    ...(r.obs.signal ? { signal: r.obs.signal } : {}),
    ...(r.obs.error ? { error: r.obs.error } : {}),
  };
}

export async function observeProbe(action: ProbeAction, k8s: K8sOps, signal: AbortSignal | undefined, opts: ObserveOptions): Promise<Observation> {
  const consecutive = opts.consecutive ?? CONSECUTIVE;
  const interval = opts.intervalMs ?? 1_000;
  const maxAttempts = opts.maxAttempts ?? Math.max(consecutive, Math.ceil(opts.timeoutMs / Math.max(interval, 1)) + consecutive);
  const attempts: AttemptRecord[] = [];
  let streak = 0;
  let streakKey = '';
  let last: Observation | undefined;

  const once = async (): Promise<void> => {
    if (signal?.aborted) throw new AbortError('interrupted');
    const mesh = await runSide(k8s, action.pod, action, opts);
    const control = await runSide(k8s, action.controlPod, action, opts);
    const obs: Observation =
      control.obs.verdict === 'allowed'
        ? mesh.obs
        : { verdict: 'error', error: SERVER_UNREACHABLE, evidence: { control: control.obs } };
    const key = keyOf(obs);
    attempts.push({ attempt: attempts.length + 1, mesh: record(mesh), control: record(control), outcome: key });
    last = obs;
    if (key === streakKey) streak++;
    else {
      streakKey = key;
      streak = 1;
    }
    if (streak < consecutive) throw new Error(`${streak}/${consecutive} consecutive "${key}"`);
  };

  let converged = true;
  try {
    await pRetry(once, {
      retries: maxAttempts - 1,
      factor: 1,
      minTimeout: interval,
      maxTimeout: interval,
      randomize: false,
      maxRetryTime: opts.timeoutMs,
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    converged = false;
  }

  const evidence = {
    ...(last?.evidence ?? {}),
    command: action.argv,
    container: action.container,
    pod: `${action.pod.namespace}/${action.pod.name}`,
    controlPod: `${action.controlPod.namespace}/${action.controlPod.name}`,
    consecutiveRequired: consecutive,
    attemptCount: attempts.length,
    attempts,
  };
  if (!converged || !last) {
    const seen = [...new Set(attempts.map((a) => a.outcome))].join(' | ');
    return {
      verdict: 'error',
      error: `no stable result: ${consecutive} equal results in a row not reached in ${attempts.length} attempt(s) within ${Math.round(opts.timeoutMs / 1000)} s (seen: ${seen || 'nothing'})`,
      evidence,
    };
  }
  return { ...last, evidence };
}
