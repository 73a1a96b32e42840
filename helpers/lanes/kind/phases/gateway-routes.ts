// Whether a gateway would have taken a host, read from that gateway's own Envoy (config_dump of its route
// configurations and listeners), for a call that left the client sidecar directly: such a call "bypasses the
// gateway" (the egress task's classic mistake). Same test as the control-plane lane's, on the same facts: a
// virtual host whose domains name the host (a bare `*` takes anything and says nothing), or a TLS filter chain
// whose server names do (SNI passthrough).
import type { K8sObject, RunnerK8s } from '../runner.ts';

type Json = Record<string, unknown>;

/** pilot-agent's argv in the Pod's istio-proxy container is `proxy router ...`. */
export function runsRouter(pod: K8sObject): boolean {
  const containers = ((pod.spec as { containers?: { name?: string; args?: string[] }[] } | undefined)?.containers ?? []).filter(
    (c) => c.name === 'istio-proxy',
  );
  return containers.some((c) => {
    const i = (c.args ?? []).indexOf('proxy');
    return i >= 0 && c.args?.[i + 1] === 'router';
  });
}

/** Envoy's domain / server-name forms: exact, `host:port`, and `*.suffix` / `suffix*` wildcards (never bare `*`). */
export function namesHost(names: string[], host: string): boolean {
  const h = host.toLowerCase();
  return names.some((raw) => {
    const n = raw.toLowerCase().replace(/:\d+$/, '');
    if (n === '*') return false;
    if (n.startsWith('*')) return h.endsWith(n.slice(1)) && h.length > n.length - 1;
    if (n.endsWith('*')) return h.startsWith(n.slice(0, -1));
    return n === h;
  });
}

/** Every `domains` of the route configurations and `server_names` of the listeners in a config_dump. */
export function routedNames(configDump: string): string[][] {
  const out: string[][] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach(walk);
      return;
    }
    const o = v as Json;
    for (const key of ['domains', 'server_names']) if (Array.isArray(o[key])) out.push(o[key] as string[]);
    Object.values(o).forEach(walk);
  };
  walk(JSON.parse(configDump));
  return out;
}

/** `NS/APP` of the first gateway whose Envoy routes `host`; undefined when none does. */
export async function gatewayRouting(k: RunnerK8s, host: string, execMs: number): Promise<string | undefined> {
  const seen = new Set<string>();
  for (const pod of ((await k.list('v1', 'Pod')) as K8sObject[]).filter(runsRouter)) {
    const ns = pod.metadata.namespace ?? 'default';
    const workload = `${ns}/${pod.metadata.labels?.app ?? pod.metadata.name}`;
    if (seen.has(workload)) continue; // one replica answers for its workload
    seen.add(workload);
    const res = await k.exec(
      ns,
      pod.metadata.name,
      'istio-proxy',
      ['pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_route_configs,dynamic_listeners'],
      execMs,
    );
    if (res.exitCode !== 0) throw new Error(`config_dump of gateway ${workload} exited ${res.exitCode}: ${res.stderr.trim()}`);
    if (routedNames(res.stdout).some((names) => namesHost(names, host))) return workload;
  }
  return undefined;
}
