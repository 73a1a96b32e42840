// The warm stack's answer server: a Node process `up` starts beside the stack, which holds one lane
// attached to it (the Envoy protos parsed, API and istiod connections open) and answers `expect`'s
// questions through the one case driver. A command would otherwise spend most of its second loading
// and parsing what this process loaded once. Questions are answered one at a time (the stack has one
// scenario applied at a time); each scenario is cleared after its answer is sent, before the next
// question, so the asker never waits for the cleanup. It ends itself when its stack is gone.
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { CaseDriver, scenarioCases } from '../driver/run-cases.ts';
import type { Lane } from '../lanes/lane.ts';
import { loadAdsProtos } from '../lanes/control-plane/xds-decode.ts';
import type { AnswerLine, AnswerRequest } from './answer-protocol.ts';
import { codeId } from './code-id.ts';
import { detachedControlPlane } from './provider.ts';
import { readWarm, type WarmRecord } from './warm.ts';
import { takeLease } from './lease.ts';

const send = (conn: Socket, line: AnswerLine) => conn.write(`${JSON.stringify(line)}\n`);

async function answer(lane: Lane, conn: Socket, req: AnswerRequest, say: (l: string) => void, env: NodeJS.ProcessEnv): Promise<void> {
  // A run or fuzz holding the stack has its own scenario applied: the asker goes elsewhere (lease.ts).
  const lease = takeLease('the answer server of egress-conformance up', env);
  if ('heldBy' in lease) {
    send(conn, { type: 'busy', holder: `${lease.heldBy.what} (pid ${lease.heldBy.pid})` });
    conn.end();
    return;
  }
  const cases = scenarioCases('expect', req.policy, req.resources, req.probes);
  const driver = new CaseDriver(lane, {}, cases);
  const t0 = performance.now();
  let answeredMs = 0;
  try {
    for (const c of cases) {
      // The asker shows istiod's path from the evidence; the raw xDS would only weigh on the socket.
      const { xds: _xds, ...observation } = (await driver.observe(c)).observation;
      send(conn, { type: 'observation', observation });
    }
    send(conn, { type: 'done' });
    answeredMs = performance.now() - t0;
  } catch (e) {
    send(conn, { type: 'error', message: (e as Error).message.split('\n')[0] ?? '' });
  } finally {
    conn.end();
    try {
      await driver.clear();
    } finally {
      lease.release();
    }
    say(
      `answered ${req.probes.length} probes in ${answeredMs.toFixed(0)} ms, cleared in ${(performance.now() - t0 - answeredMs).toFixed(0)} ms`,
    );
  }
}

/** Serves the warm stack recorded in `env` on `socket` until that stack is gone; resolves once listening. */
export async function serveAnswers(socket: string, env: NodeJS.ProcessEnv, say: (l: string) => void): Promise<void> {
  const rec = readWarm(env);
  if (!rec) throw new Error('no warm stack is recorded');
  const id = codeId();
  const lane = await detachedControlPlane.lane(rec, say);
  loadAdsProtos();
  let queue = Promise.resolve();
  const server = createServer((conn) => {
    let buffered = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {}); // an asker gone mid-answer (Ctrl-C): the scenario is still cleared
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      conn.removeAllListeners('data');
      let req: AnswerRequest;
      try {
        req = JSON.parse(buffered.slice(0, nl)) as AnswerRequest;
      } catch (e) {
        send(conn, { type: 'error', message: `a request that is not JSON: ${(e as Error).message}` });
        conn.end();
        return;
      }
      if (req.codeId !== id) {
        send(conn, { type: 'stale', codeId: id });
        conn.end();
        return;
      }
      // A question that failed past its answer (its cleanup) must not stop the queue for the next ones.
      queue = queue.then(() => answer(lane, conn, req, say, env)).catch((e: Error) => say(`answer server: ${e.message}`));
    });
  });
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  say(`answer server: listening on ${socket} (code ${id})`);
  watchStack(rec, env, () => {
    server.close();
    process.exit(0);
  });
}

/** Ends the server when its stack is no longer the recorded warm stack (`down`, or a new `up`). */
function watchStack(rec: WarmRecord, env: NodeJS.ProcessEnv, end: () => void): void {
  setInterval(() => {
    if (readWarm(env)?.runDir !== rec.runDir) end();
  }, 2000);
}
