// Asks the warm stack's answer server (answer-server.ts) for a scenario's observations. The server keeps
// the lane attached, the Envoy protos parsed and its API connections open, so a question costs istiod's
// own sync and nothing else; undefined (with the reason) whenever the server cannot answer this command,
// and the command then answers by itself on the same stack.
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { pollUntil } from '../process/poll.ts';
import type { Observation, PolicyMode, Probe, ResourceSet } from '../model/types.ts';
import type { AnswerLine, AnswerRequest } from './answer-protocol.ts';
import { codeId } from './code-id.ts';
import { isRecordedAlive, type WarmRecord } from './warm.ts';

export type ServerAnswer = { observations: Observation[] } | { unavailable: string };

/** Longer than any answer takes (istiod's sync is bounded at 20 s per step); past it the command answers itself. */
const SILENCE_MS = 90_000;

export async function askAnswerServer(
  rec: WarmRecord,
  policy: PolicyMode,
  resources: ResourceSet,
  probes: Probe[],
  silenceMs = SILENCE_MS,
): Promise<ServerAnswer> {
  const server = rec.answerServer;
  if (!server) return { unavailable: 'the warm stack has no answer server' };
  if (!isRecordedAlive(server)) return { unavailable: `it is not running (pid ${server.pid})` };
  // Right after `up` the server may still be loading: its socket appears once it listens.
  const listening = await pollUntil(() => existsSync(server.socket) || !isRecordedAlive(server), {
    timeoutMs: 10_000,
    intervalMs: 20,
    maxIntervalMs: 100,
  });
  if (!listening || !existsSync(server.socket)) return { unavailable: `it is not listening (pid ${server.pid})` };
  const request: AnswerRequest = { codeId: codeId(), policy, resources, probes };
  return new Promise((resolve, reject) => {
    const observations: Observation[] = [];
    let buffered = '';
    let settled = false;
    const settle = (a: ServerAnswer | Error) => {
      if (settled) return;
      settled = true;
      conn.destroy();
      if (a instanceof Error) reject(a);
      else resolve(a);
    };
    const conn = createConnection(server.socket);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(request)}\n`));
    conn.on('error', (e) => settle({ unavailable: `it did not take the question (${e.message})` }));
    conn.on('close', () => settle({ unavailable: 'it closed the connection before answering' }));
    conn.setTimeout(silenceMs, () => settle({ unavailable: `it said nothing for ${Math.round(silenceMs / 1000)} s` }));
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as AnswerLine;
        buffered = buffered.slice(nl + 1);
        if (line.type === 'observation') observations.push(line.observation);
        else if (line.type === 'done') settle({ observations });
        else if (line.type === 'busy') settle({ unavailable: `the warm stack is in use by ${line.holder}` });
        else if (line.type === 'stale') settle({ unavailable: 'it runs other code than this command (sources changed since `up`)' });
        else settle(new Error(`the warm stack's answer server failed: ${line.message}`));
      }
    });
  });
}
