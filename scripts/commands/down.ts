// `egress-conformance down`: ends the warm stack's recorded processes and removes its run dir and record.
// Nothing up is not an error (exit 0): `down` is what a script runs to be sure.
import { pollUntil } from '../../helpers/process/poll.ts';
import { detachedControlPlane } from '../../helpers/stack/provider.ts';
import { isRecordedAlive, readWarm, recordedProcesses, removeWarm, warmFile } from '../../helpers/stack/warm.ts';
import { existsSync } from 'node:fs';

type Io = { out: (s: string) => void; err: (s: string) => void };

export async function runDown(_flags: Record<string, never>, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const rec = readWarm(env);
  if (!rec) {
    if (existsSync(warmFile(env))) removeWarm(env); // unreadable: nothing to stop, only the file to remove
    io.err('down: no warm stack is up');
    return 0;
  }
  await detachedControlPlane.stop(rec);
  // SIGKILL is asynchronous: report stopped only once the kernel has reaped or re-parented every pid.
  const all = recordedProcesses(rec);
  const gone = await pollUntil(() => !all.some(isRecordedAlive), { timeoutMs: 5000, intervalMs: 20, maxIntervalMs: 200 });
  removeWarm(env);
  io.err(
    `down: stopped ${all.map((p) => `${p.name} ${p.pid}`).join(', ')}; removed ${rec.runDir}${gone ? '' : ' (some processes had not exited after 5 s)'}`,
  );
  return gone ? 0 : 1;
}
