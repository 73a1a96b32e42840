// Starts the warm stack's answer server (answer-server.ts) as a detached process of this CLI, logging into
// the stack's run dir. `up` does not wait for it to listen: a command that comes before it does waits a
// moment for its socket (answer-client.ts), and answers by itself if it never comes.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerSocketIn } from './answer-protocol.ts';
import type { WarmRecord } from './warm.ts';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'egress-conformance.mjs');

export function spawnAnswerServer(rec: WarmRecord, env: NodeJS.ProcessEnv): NonNullable<WarmRecord['answerServer']> {
  const socket = answerSocketIn(rec.runDir);
  const log = openSync(join(rec.runDir, 'answer-server.log'), 'a');
  try {
    const child = spawn(process.execPath, [BIN, 'answer-server'], { detached: true, stdio: ['ignore', log, log], env });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${process.execPath} ${BIN} answer-server`);
    return { name: 'answer-server', pid: child.pid, binary: process.execPath, socket };
  } finally {
    closeSync(log);
  }
}
