// On failure, keeps what explains it: proxy status, each sidecar's clusters and listeners (what Envoy was
// told), sidecar and istiod logs. Best effort: a diagnostics failure never hides the original error.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunContext } from './context.ts';
import type { LiveRunner } from './live-runner.ts';
import { clientKey, isInjected, type ClientSpec } from './phases/workloads.ts';

export interface DiagnosticsResult {
  dir: string;
  files: string[];
  problems: string[];
}

export async function collectDiagnostics(
  runner: LiveRunner,
  ctx: RunContext,
  clients: ClientSpec[],
  dir: string,
): Promise<DiagnosticsResult> {
  const out: DiagnosticsResult = { dir, files: [], problems: [] };
  await mkdir(dir, { recursive: true });
  const save = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    out.files.push(name);
  };
  const istioctl = async (name: string, args: string[]) => {
    const r = await runner.exec(['istioctl', ...args, '--kubeconfig', ctx.kubeconfig], { timeoutMs: ctx.timeouts.docker, cleanup: true });
    if (r.exitCode === 0) await save(name, r.stdout);
    else out.problems.push(`istioctl ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  };

  await istioctl('proxy-status.txt', ['proxy-status']);
  for (const c of clients.filter(isInjected)) {
    const target = `${c.name}.${c.namespace}`;
    await istioctl(`${target}.clusters.txt`, ['proxy-config', 'clusters', target]);
    await istioctl(`${target}.listeners.txt`, ['proxy-config', 'listeners', target]);
    try {
      // The sidecar's log holds its access log: which cluster each call went through.
      await save(`${target}.istio-proxy.log`, await runner.k8s().logs(c.namespace, c.name, 'istio-proxy'));
    } catch (err) {
      out.problems.push(`logs ${clientKey(c)} istio-proxy: ${(err as Error).message}`);
    }
  }
  try {
    const k = runner.k8s();
    for (const pod of await k.listPods('istio-system', 'app=istiod')) {
      await save(`istiod.${pod.metadata.name}.log`, await k.logs('istio-system', pod.metadata.name, 'discovery'));
    }
  } catch (err) {
    out.problems.push(`istiod logs: ${(err as Error).message}`);
  }
  if (out.problems.length) await save('problems.txt', `${out.problems.join('\n')}\n`);
  return out;
}

/**
 * The client sidecars' whole logs (their access logs: the cluster of every call), kept under
 * <dir>/access-logs before the cluster goes away; the JSON report holds each probe's own lines.
 */
export async function saveAccessLogs(runner: LiveRunner, clients: ClientSpec[], dir: string): Promise<string[]> {
  const out: string[] = [];
  const target = join(dir, 'access-logs');
  for (const c of clients.filter(isInjected)) {
    try {
      const text = await runner.k8s().logs(c.namespace, c.name, 'istio-proxy', 100_000);
      await mkdir(target, { recursive: true });
      const file = join(target, `${c.name}.${c.namespace}.istio-proxy.log`);
      await writeFile(file, text);
      out.push(file);
    } catch {
      // Best effort: a pod already gone has nothing to keep.
    }
  }
  return out;
}
