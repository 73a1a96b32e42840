// The dry run: every command, manifest and wait of the plan, in order, as text. Nothing is executed.
import type { Action, Step } from './actions.ts';
import { shellLine } from './executor.ts';
import type { KindPlan } from './plan.ts';
import { toYaml } from './plan.ts';

function indentBlock(text: string, pad: string): string {
  return text.trimEnd().split('\n').map((l) => `${pad}${l}`).join('\n');
}

function renderAction(a: Action): string {
  const pad = '    ';
  switch (a.type) {
    case 'exec': {
      const env = a.env ? Object.entries(a.env).map(([k, v]) => `${k}=${v} `).join('') : '';
      const notes = [
        a.attempts && a.attempts > 1 ? `${a.attempts} attempts` : '',
        `timeout ${Math.round(a.timeoutMs / 1000)}s`,
        a.capture ? `stdout → <<${a.capture}>>` : '',
      ].filter(Boolean);
      return `${pad}$ ${env}${shellLine(a.argv)}   # ${notes.join(', ')}`;
    }
    case 'resolve-tool':
      return `${pad}resolve ${a.tool} ${a.version}: PATH if its version matches, else the cache, else the official release (sha256 checked), else go install`;
    case 'mkdir':
      return `${pad}mkdir ${a.path}`;
    case 'write-file':
      return `${pad}write ${a.path}:\n${indentBlock(a.content, `${pad}  | `)}`;
    case 'ensure-cluster':
      return [
        `${pad}$ ${shellLine(a.listArgv)}`,
        `${pad}if "${a.name}" exists: ${a.reuse ? `reuse it only if it holds ConfigMap ${a.marker.metadata.namespace}/${a.marker.metadata.name} (created by this tool):` : 'stop (it is never touched without --reuse)'}`,
        ...(a.reuse ? [`${pad}  $ ${shellLine(a.exportArgv)}`] : []),
        `${pad}else (${a.attempts} attempts, timeout ${Math.round(a.timeoutMs / 1000)}s each):`,
        `${pad}  $ ${shellLine(a.createArgv)}`,
        `${pad}  apply owner marker:`,
        indentBlock(toYaml(a.marker), `${pad}    `),
      ].join('\n');
    case 'apply':
      return `${pad}apply${a.ifAbsent ? (a.replaceIfAnnotationDiffers ? ` (if absent; recreated if its ${a.replaceIfAnnotationDiffers} differs)` : ' (if absent)') : ''} ${a.manifest.kind} ${a.manifest.metadata.namespace ? `${a.manifest.metadata.namespace}/` : ''}${a.manifest.metadata.name}:\n${indentBlock(toYaml(a.manifest), `${pad}  `)}`;
    case 'delete':
      return `${pad}delete ${a.manifest.kind} ${a.manifest.metadata.namespace ? `${a.manifest.metadata.namespace}/` : ''}${a.manifest.metadata.name}${a.wait ? ' and wait until gone' : ''}`;
    case 'wait': {
      const w = a.wait;
      const t = `(≤ ${Math.round(a.timeoutMs / 1000)}s)`;
      switch (w.for) {
        case 'deployment':
          return `${pad}wait for Deployment ${w.namespace}/${w.name} available ${t}`;
        case 'webhook':
          return `${pad}wait until the validating webhook answers: server-side dry-run create of ${w.object.kind} ${w.object.metadata.namespace}/${w.object.metadata.name} ${t}`;
        case 'pod-ready':
          return `${pad}wait for Pod ${w.namespace}/${w.name} ready, containers ${w.containers.join(', ')} ${t}`;
        case 'server':
          return `${pad}wait until $ ${shellLine(w.argv)} succeeds ${t}`;
      }
      break;
    }
    case 'sleep':
      return `${pad}pause ${a.ms / 1000}s: ${a.why}`;
    case 'coredns-hosts':
      return [
        `${pad}patch ConfigMap kube-system/coredns: Corefile gets before the kubernetes plugin`,
        ...a.entries.map((e) => `${pad}    ${e.ip} ${e.host}`),
        `${pad}  (hosts ttl 1, fallthrough; kubernetes plugin ttl 30 → ttl 0), then restart Deployment kube-system/coredns and wait`,
      ].join('\n');
    case 'check-mesh':
      return `${pad}read ConfigMap istio-system/istio key mesh: outboundTrafficPolicy.mode must be ${a.mode}`;
    case 'probe':
      return (
        `${pad}probe ${a.caseId}\n` +
        `${pad}  exec in ${a.pod.namespace}/${a.pod.name} [${a.container}]: ${shellLine(a.argv)}\n` +
        `${pad}  control: same in ${a.controlPod.namespace}/${a.controlPod.name} [${a.container}] (must be allowed, else error "server down/unreachable from outside the mesh")\n` +
        `${pad}  verdict once 3 results in a row agree`
      );
    case 'remove-containers':
      return `${pad}$ ${shellLine(a.listArgv)}  → docker rm -f -v <ids>`;
    case 'delete-cluster':
      return `${pad}$ ${shellLine(a.argv)}   # only if this run created the cluster`;
    case 'remove-scenario-leftovers':
      return `${pad}if the cluster stays (--keep, --reuse): delete the ServiceEntries and Sidecars a scenario left applied`;
    case 'remove-dir':
      return `${pad}rm -rf ${a.path}`;
    case 'note':
      return `${pad}say: ${a.text}`;
  }
  return `${pad}${(a as Action).type}`;
}

function renderStep(step: Step, n: number, total: number): string {
  return [`[${n}/${total}] ${step.title}`, ...step.actions.map(renderAction)].join('\n');
}

export function renderDryRun(plan: KindPlan): string {
  const c = plan.context;
  const total = plan.steps.length + 1;
  const header = [
    '# egress-conformance kind lane: dry run (nothing below is executed)',
    `# run ${c.runId}; cluster ${c.clusterName}${c.reuse ? ' (--reuse)' : ''}${c.keep ? ' (--keep)' : ''}`,
    `# istio ${c.istioVersion}; kind ${c.versions.kind}; node image ${c.versions.kindNodeImage}`,
    `# images: ${Object.entries(c.versions.images).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    `# every command runs with KUBECONFIG=${c.kubeconfig} (the run's own file; the user's kubeconfig is never read or written)`,
    `# containers are labelled ${c.runLabel}; temp dir ${c.workDir}`,
    `# ${plan.cases.length} case(s), ${plan.clients.length} client pod(s)`,
  ];
  const body = plan.steps.map((s, i) => renderStep(s, i + 1, total));
  body.push(`${renderStep(plan.teardown, total, total)}\n    (teardown also runs on failure, Ctrl-C and SIGTERM)`);
  return `${header.join('\n')}\n\n${body.join('\n\n')}\n`;
}
