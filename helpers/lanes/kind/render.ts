// The dry run's text: one block per trace entry, every command, manifest and wait as a run would issue it.
import { toYaml } from './context.ts';
import { shellLine, type TraceEntry } from './runner.ts';

const PAD = '    ';

function indentBlock(text: string, pad: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${pad}${l}`)
    .join('\n');
}

function secs(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

export function renderEntry(e: TraceEntry): string {
  switch (e.op) {
    case 'step':
      return `\n${e.title}`;
    case 'exec':
      return `${PAD}$ ${shellLine(e.argv)}   # timeout ${secs(e.timeoutMs)}${e.note ? `; ${e.note}` : ''}`;
    case 'resolve-tool':
      return `${PAD}resolve ${e.tool} ${e.version}: PATH if its version matches, else the cache, else the official release (sha256 checked), else go install`;
    case 'apply': {
      const m = e.object.metadata;
      return `${PAD}apply ${e.object.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}:\n${indentBlock(toYaml(e.object), `${PAD}  `)}`;
    }
    case 'apply-rendered':
      return `${PAD}apply every object \`${e.from}\` printed: ${e.how}`;
    case 'delete':
      return `${PAD}delete ${e.ref.kind} ${e.ref.namespace ? `${e.ref.namespace}/` : ''}${e.ref.name}`;
    case 'read':
      return `${PAD}read ${e.what}${e.assumed ? `   # dry run assumes: ${e.assumed}` : ''}`;
    case 'wait':
      return `${PAD}wait until ${e.what} (≤ ${secs(e.timeoutMs)})`;
    case 'probe':
      return [
        `${PAD}probe ${e.id}`,
        `${PAD}  exec in ${e.pod} [${e.container}]: ${shellLine(e.argv)}`,
        `${PAD}  control: same in ${e.controlPod} [${e.container}] (must be allowed, else error "server down/unreachable from outside the mesh")`,
        ...(e.accessLog ? [`${PAD}  cluster: the new line for the probe's port in the access log of ${e.pod} [istio-proxy]`] : []),
        ...(e.gatewayLog
          ? [
              `${PAD}  gateway: before the first attempt, the lines already in the access log [istio-proxy] of ${e.gatewayLog} are marked seen;`,
              `${PAD}    when the cluster is outbound|PORT|SUBSET|NAME.NS.svc.cluster.local and Service NS/NAME selects such Pods, the hop past the sidecar is their new line for the probe's Host (HTTP) or SNI (TLS)`,
              `${PAD}    any other cluster: the call left directly; their route configurations and listeners (config_dump) say whether a gateway takes the probe's host (then it bypasses that gateway)`,
            ]
          : []),
        `${PAD}  verdict once ${e.consecutive} results in a row agree (verdict, signal and cluster)`,
      ].join('\n');
    case 'write':
      return `${PAD}write ${e.path}:\n${indentBlock(e.content, `${PAD}  | `)}`;
    case 'mkdir':
      return `${PAD}mkdir ${e.path}`;
    case 'remove-dir':
      return `${PAD}rm -rf ${e.path}`;
    case 'note':
      return `${PAD}say: ${e.text}`;
  }
}
