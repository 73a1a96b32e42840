// Observes one probe after the sync barrier: the command in the source's client and the same command from
// the control client (outside the mesh), then the client sidecar's access log for the cluster the call
// went through, and, when that cluster is a gateway's Service, the gateway's access log for the second hop
// (gateway-hop.ts). A verdict counts once the same verdict, signal and hops hold CONSECUTIVE times in a
// row (a confirmation: the barrier already waited for the config); every attempt is evidence.
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Observation, Probe } from '../../../model/types.ts';
import { clusterForPort, type AccessLogEntry, type ClusterReading } from '../probes/access-log.ts';
import { CONSECUTIVE } from '../context.ts';
import type { ProbeToolkit } from '../probe-toolkit.ts';
import { excerpt, type ExecResult, type Runner, type RunnerK8s } from '../runner.ts';
import type { RunState } from '../state.ts';
import { GatewayLogs } from './gateway-hop.ts';
import { freshEntries, markSeen } from './log-cursor.ts';
import { clientKey, isInjected, type ClientSpec } from './workloads.ts';

export const SERVER_UNREACHABLE = 'server down/unreachable from outside the mesh';

export interface ProbeSpec {
  id: string;
  probe: Probe;
  argv: string[];
  container: 'curl' | 'psql';
  client: ClientSpec;
  control: ClientSpec;
}

export interface ObserveOptions {
  classify: ProbeToolkit['classifyProbe'];
  consecutive?: number;
  /** Bound on the whole observation. */
  timeoutMs: number;
  /** Pause between attempts. */
  intervalMs?: number;
  /** Bound on one exec. */
  execTimeoutMs: number;
  /** Bound on the access-log line of one attempt appearing. */
  accessLogMs: number;
  accessLogPollMs?: number;
  /** Upper bound on attempts, whatever the time. */
  maxAttempts?: number;
  signal?: AbortSignal;
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
  /** The client sidecar's access-log lines of this attempt. */
  accessLog?: string[];
  /** The gateway's lines of this attempt, when the sidecar sent the call to a gateway. */
  gatewayAccessLog?: string[];
  /** What this attempt counts as, after the control check and the access log. */
  outcome: string;
}

/** What must repeat: verdict, signal, cluster and the hops past the sidecar, or the error's cause (its text up to the first colon). */
function keyOf(o: Observation): string {
  if (o.verdict === 'error') return `error: ${(o.error ?? 'unknown').split(':')[0]}`;
  const further = (o.hops ?? []).slice(1).map((h) => ` then ${h.proxy} ${h.cluster}`);
  return `${o.verdict}${o.signal ? ` (${o.signal})` : ''}${o.cluster ? ` via ${o.cluster}` : ''}${further.join('')}`;
}

/** The access-log lines of the attempt just made: polled until a line for the probe's port appears, bounded. */
async function readCluster(k: RunnerK8s, state: RunState, c: ClientSpec, port: number, opts: ObserveOptions): Promise<ClusterReading> {
  const deadline = Date.now() + opts.accessLogMs;
  for (;;) {
    let fresh: AccessLogEntry[];
    try {
      fresh = await freshEntries(k, state, c);
    } catch (err) {
      // The log API failing is no verdict either way: the attempt becomes an error with this cause.
      return { lines: [], problem: `the sidecar's log could not be read: ${(err as Error).message}` };
    }
    const reading = clusterForPort(fresh, port);
    if (reading.lines.length > 0 || Date.now() >= deadline) {
      markSeen(state, c, fresh);
      return reading;
    }
    await sleepFor(opts.accessLogPollMs ?? 250, undefined, opts.signal ? { signal: opts.signal } : undefined);
  }
}

async function runSide(
  k: RunnerK8s,
  pod: ClientSpec,
  spec: ProbeSpec,
  opts: ObserveOptions,
): Promise<{ result: ExecResult; obs: Observation }> {
  try {
    const result = await k.exec(pod.namespace, pod.name, spec.container, spec.argv, opts.execTimeoutMs);
    return { result, obs: opts.classify(spec.probe.to, result) };
  } catch (err) {
    // The exec itself failed (API, pod gone, exec timeout): never a verdict.
    const result = { exitCode: -1, stdout: '', stderr: String((err as Error).message ?? err) };
    return { result, obs: { verdict: 'error', error: `exec in ${clientKey(pod)} failed: ${result.stderr}`, evidence: {} } };
  }
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

/** The classified result with the cluster the sidecar logged; a verdict the sidecar did not log is no verdict. */
export function withCluster(obs: Observation, reading: ClusterReading, accessLogMs: number): Observation {
  const evidence = { ...obs.evidence, accessLog: reading.lines };
  if (obs.verdict === 'error') return { ...obs, evidence };
  if (reading.cluster) return { ...obs, cluster: reading.cluster, evidence };
  return {
    verdict: 'error',
    error: `the client sidecar's access log gives no cluster for this call (${reading.problem}, within ${Math.round(accessLogMs / 1000)} s): a call the sidecar did not log is no verdict (was it captured?)`,
    ...(obs.summary ? { summary: obs.summary } : {}),
    evidence: { ...evidence, classifiedAs: obs.verdict },
  };
}

async function observeLoop(k: RunnerK8s, state: RunState, spec: ProbeSpec, opts: ObserveOptions): Promise<Observation> {
  const consecutive = opts.consecutive ?? CONSECUTIVE;
  const interval = opts.intervalMs ?? 1_000;
  const maxAttempts = opts.maxAttempts ?? Math.max(consecutive, Math.ceil(opts.timeoutMs / Math.max(interval, 1)) + consecutive);
  const logged = isInjected(spec.client);
  const deadline = Date.now() + opts.timeoutMs;
  const attempts: AttemptRecord[] = [];
  let streak = 0;
  let streakKey = '';
  let last: Observation | undefined;
  const gateways = new GatewayLogs(k, state, { accessLogMs: opts.accessLogMs, pollMs: opts.accessLogPollMs, signal: opts.signal });
  // Lines already in the logs (the sidecar's, the gateways') belong to earlier probes.
  if (logged) {
    markSeen(state, spec.client, await freshEntries(k, state, spec.client).catch(() => []));
    await gateways.baseline();
  }
  while (attempts.length < maxAttempts) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const mesh = await runSide(k, spec.client, spec, opts);
    const control = await runSide(k, spec.control, spec, opts);
    let obs: Observation =
      control.obs.verdict === 'allowed' ? mesh.obs : { verdict: 'error', error: SERVER_UNREACHABLE, evidence: { control: control.obs } };
    let lines: string[] | undefined;
    let gatewayLines: string[] | undefined;
    if (logged) {
      const reading = await readCluster(k, state, spec.client, spec.probe.to.port, opts);
      lines = reading.lines;
      obs = withCluster(obs, reading, opts.accessLogMs);
      const followed = await gateways.follow(obs, clientKey(spec.client), spec.probe.to);
      obs = followed.obs;
      gatewayLines = followed.lines;
    }
    const key = keyOf(obs);
    attempts.push({
      attempt: attempts.length + 1,
      mesh: record(mesh),
      control: record(control),
      ...(lines ? { accessLog: lines } : {}),
      ...(gatewayLines ? { gatewayAccessLog: gatewayLines } : {}),
      outcome: key,
    });
    last = obs;
    streak = key === streakKey ? streak + 1 : 1;
    streakKey = key;
    if (streak >= consecutive || Date.now() >= deadline) break;
    await sleepFor(interval, undefined, opts.signal ? { signal: opts.signal } : undefined).catch(() => undefined);
  }
  const evidence = {
    ...(last?.evidence ?? {}),
    command: spec.argv,
    container: spec.container,
    pod: clientKey(spec.client),
    controlPod: clientKey(spec.control),
    consecutiveRequired: consecutive,
    attemptCount: attempts.length,
    attempts,
  };
  if (!last || streak < consecutive) {
    const seen = [...new Set(attempts.map((a) => a.outcome))].join(' | ');
    return {
      verdict: 'error',
      error: `no stable result: ${consecutive} equal results in a row not reached in ${attempts.length} attempt(s) within ${Math.round(opts.timeoutMs / 1000)} s (seen: ${seen || 'nothing'})`,
      evidence,
    };
  }
  return { ...last, evidence };
}

/** The Pods whose access log gives a gateway hop, as the dry run names them (gateway-hop.ts). */
const GATEWAY_PODS = 'every Pod whose istio-proxy runs `proxy router`';

export async function observeProbe(r: Runner, state: RunState, spec: ProbeSpec, opts: ObserveOptions): Promise<Observation> {
  const entry = {
    op: 'probe' as const,
    id: spec.id,
    pod: clientKey(spec.client),
    controlPod: clientKey(spec.control),
    container: spec.container,
    argv: spec.argv,
    accessLog: isInjected(spec.client) ? `${clientKey(spec.client)} [istio-proxy]` : '',
    ...(isInjected(spec.client) ? { gatewayLog: GATEWAY_PODS } : {}),
    consecutive: opts.consecutive ?? CONSECUTIVE,
  };
  const dryRun: Observation = { verdict: 'error', error: 'dry run: nothing was probed', evidence: {} };
  return r.opaque(entry, (k) => observeLoop(k, state, spec, opts), dryRun);
}
