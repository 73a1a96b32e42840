// What a command makes of the warm stack's answer server, against real Unix-socket servers that answer as
// the server does, answer stale, or say nothing: answers are taken, anything else is "unavailable" with the
// reason (the command then answers by itself), never a hang and never a made-up answer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyResources } from '../istio/load.ts';
import type { WarmRecord } from './warm.ts';
import { askAnswerServer } from './answer-client.ts';
import { codeId } from './code-id.ts';

const dir = mkdtempSync(join(tmpdir(), 'iec-answers-'));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** This process stands in for the server's pid: alive, and running the program recorded. */
const self = { name: 'answer-server', pid: process.pid, binary: readFileSync(`/proc/${process.pid}/cmdline`, 'utf8').split('\0')[0]! };

function record(socket: string, pid = self): WarmRecord {
  return {
    format: 1,
    provider: 'control-plane-detached',
    build: { goModuleVersion: 'v0', istioVersion: '1.32.0' },
    kubeconfig: '',
    runDir: dir,
    endpoints: {},
    processes: [],
    answerServer: { ...pid, socket },
    baseMesh: {},
    startedAt: new Date().toISOString(),
    providerState: {},
  };
}

async function serve(name: string, onRequest: (conn: Socket, req: { codeId: string }) => void): Promise<string> {
  const socket = join(dir, name);
  const server = createServer((conn) => {
    let buf = '';
    conn.on('data', (c) => {
      buf += c.toString();
      if (buf.includes('\n')) onRequest(conn, JSON.parse(buf.slice(0, buf.indexOf('\n'))));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socket, r));
  return socket;
}

const ask = (rec: WarmRecord, silenceMs?: number) => askAnswerServer(rec, 'ALLOW_ANY', emptyResources(), [], silenceMs);

describe('asking the answer server', () => {
  it('takes its observations, in order, once it says done; the request carries this code id', async () => {
    let seen = '';
    const socket = await serve('ok.sock', (conn, req) => {
      seen = req.codeId;
      conn.write(`${JSON.stringify({ type: 'observation', observation: { verdict: 'allowed', cluster: 'A', evidence: {} } })}\n`);
      conn.write(`${JSON.stringify({ type: 'observation', observation: { verdict: 'blocked', cluster: 'B', evidence: {} } })}\n`);
      conn.end(`${JSON.stringify({ type: 'done' })}\n`);
    });
    const got = await ask(record(socket));
    expect(got).toEqual({ observations: [expect.objectContaining({ cluster: 'A' }), expect.objectContaining({ cluster: 'B' })] });
    expect(seen).toBe(codeId());
  });

  it('is unavailable when it runs other code, says nothing, is gone, or fails', async () => {
    const stale = await serve('stale.sock', (conn) => conn.end(`${JSON.stringify({ type: 'stale', codeId: 'x' })}\n`));
    expect(await ask(record(stale))).toEqual({ unavailable: expect.stringMatching(/runs other code than this command/) });
    const busy = await serve('busy.sock', (conn) =>
      conn.end(`${JSON.stringify({ type: 'busy', holder: 'egress-conformance run (pid 42)' })}\n`),
    );
    expect(await ask(record(busy))).toEqual({ unavailable: 'the warm stack is in use by egress-conformance run (pid 42)' });
    const mute = await serve('mute.sock', () => {});
    expect(await ask(record(mute), 300)).toEqual({ unavailable: 'it said nothing for 0 s' });
    const gone = { ...self, pid: 2 ** 22 + 7 };
    expect(await ask(record(join(dir, 'none.sock'), gone))).toEqual({ unavailable: expect.stringMatching(/^it is not running/) });
    const failing = await serve('fail.sock', (conn) => conn.end(`${JSON.stringify({ type: 'error', message: 'istiod went away' })}\n`));
    await expect(ask(record(failing))).rejects.toThrow(/answer server failed: istiod went away/);
  });
});
