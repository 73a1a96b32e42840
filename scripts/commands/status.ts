// `egress-conformance status`: the warm stack, if one is up: builds, endpoints, uptime, pids, kubeconfig.
// Exit 0 when it is up, 3 when there is none (or it died), so scripts can test for it.
import { buildName, isRecordedAlive, isUp, readWarm, uptime, type WarmRecord } from '../../helpers/stack/warm.ts';

type Io = { out: (s: string) => void; err: (s: string) => void };

export function statusLines(rec: WarmRecord): string[] {
  return [
    `build:      istiod ${buildName(rec.build)}, module ${rec.build.goModuleVersion}`,
    `istio:      ${rec.operator ? `installed from ${rec.operator}` : 'installed from the built-in ALLOW_ANY IstioOperator'}`,
    `uptime:     ${uptime(rec)} (since ${rec.startedAt})`,
    ...(rec.startedBy ? [`started by: ${rec.startedBy} (lab stop ends it; \`egress-conformance up\` keeps it)`] : []),
    ...Object.entries(rec.endpoints).map(([k, v]) => `${`${k}:`.padEnd(11)} ${v}`),
    `processes:  ${rec.processes.map((p) => `${p.name} ${p.pid}${isRecordedAlive(p) ? '' : ' (gone)'}`).join(', ')}`,
    ...(rec.answerServer
      ? [
          `answers:    ${rec.answerServer.socket} (answer server ${rec.answerServer.pid}${isRecordedAlive(rec.answerServer) ? '' : ', gone: commands answer by themselves'})`,
        ]
      : []),
    `kubeconfig: ${rec.kubeconfig}`,
  ];
}

export function runStatus(flags: { json?: boolean }, io: Io, env: NodeJS.ProcessEnv = process.env): number {
  const rec = readWarm(env);
  const up = !!rec && isUp(rec);
  if (flags.json) {
    io.out(
      JSON.stringify(
        rec
          ? {
              up,
              build: rec.build,
              operator: rec.operator ?? null,
              startedAt: rec.startedAt,
              uptimeSeconds: Math.round((Date.now() - Date.parse(rec.startedAt)) / 1000),
              endpoints: rec.endpoints,
              processes: rec.processes.map((p) => ({ ...p, alive: isRecordedAlive(p) })),
              answerServer: rec.answerServer ? { ...rec.answerServer, alive: isRecordedAlive(rec.answerServer) } : null,
              kubeconfig: rec.kubeconfig,
            }
          : { up: false },
        null,
        2,
      ),
    );
    return up ? 0 : 3;
  }
  if (!rec) {
    io.out('no warm stack (start one with `egress-conformance up`)');
    return 3;
  }
  io.out(up ? 'warm stack: up' : 'warm stack: NOT RUNNING (part of it died); `egress-conformance down` clears it');
  for (const l of statusLines(rec)) io.out(`  ${l}`);
  return up ? 0 : 3;
}
