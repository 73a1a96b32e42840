// The shared client against a real HTTP server that plays an API server just restarted: the first answer to
// an object is a socket closed under the request (what a kept-alive connection to the old process gets), or
// a 429. Reads, lists, deletes and applies are asked again; a create is not (it may have been stored).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeK8s, isConnectionReset } from './client.ts';

const POD = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' } };
const DISCOVERY = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'create', 'delete', 'patch'] }],
};

let server: Server;
let dir = '';
let client: ClientNodeK8s;
/** How each request is answered the first time its method+path is seen: reset, busy, or fine. */
let firstAnswer: 'reset' | 'busy' | 'no-service-account' = 'reset';
const seen = new Map<string, number>();

function answer(req: IncomingMessage, res: ServerResponse): void {
  const key = `${req.method} ${req.url?.split('?')[0]}`;
  const n = (seen.get(key) ?? 0) + 1;
  seen.set(key, n);
  if (req.url?.split('?')[0] === '/api/v1')
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(DISCOVERY));
  if (n === 1) {
    if (firstAnswer === 'reset') return void req.socket.destroy();
    if (firstAnswer === 'no-service-account')
      return void res.writeHead(403, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: 'pods "p" is forbidden: error looking up service account ns/default: serviceaccount "default" not found',
          reason: 'Forbidden',
          code: 403,
        }),
      );
    return void res
      .writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' })
      .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', code: 429 }));
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  if (req.method === 'GET' && req.url?.startsWith('/api/v1/namespaces/ns/pods/p')) return void res.end(JSON.stringify(POD));
  if (req.method === 'GET') return void res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [POD] }));
  return void res.end(JSON.stringify(POD));
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  dir = mkdtempSync(join(tmpdir(), 'iec-client-retry-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: {} }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
  );
  client = new ClientNodeK8s(kubeconfig);
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const ref = { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p' };

describe('the shared Kubernetes client when the API server has just restarted', () => {
  it('a read, a list, a delete and an apply whose connection is reset are asked again and succeed', async () => {
    firstAnswer = 'reset';
    seen.clear();
    expect((await client.get(ref))?.metadata.name).toBe('p');
    expect((await client.list('v1', 'Pod', 'ns')).map((o) => o.metadata.name)).toEqual(['p']);
    expect(await client.delete(ref)).toBe(true);
    await client.apply(POD);
    expect(seen.get('GET /api/v1/namespaces/ns/pods/p')).toBe(2);
    expect(seen.get('GET /api/v1/namespaces/ns/pods')).toBe(2);
    expect(seen.get('DELETE /api/v1/namespaces/ns/pods/p')).toBe(2);
    expect(seen.get('PATCH /api/v1/namespaces/ns/pods/p')).toBe(2);
  });

  it('a create whose connection is reset is not made twice: the reset reaches the caller', async () => {
    firstAnswer = 'reset';
    seen.clear();
    const err = await client.create(POD).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConnectionReset(err)).toBe(true);
    expect(seen.get('POST /api/v1/namespaces/ns/pods')).toBe(1);
  });

  it("a Pod refused because its new namespace's default ServiceAccount is not made yet is asked again (nothing was stored)", async () => {
    firstAnswer = 'no-service-account';
    seen.clear();
    await client.apply(POD);
    expect((await client.create(POD)).metadata.name).toBe('p');
    expect(seen.get('PATCH /api/v1/namespaces/ns/pods/p')).toBe(2);
    expect(seen.get('POST /api/v1/namespaces/ns/pods')).toBe(2);
  });

  it('a 429 is asked again for a create as well', async () => {
    firstAnswer = 'busy';
    seen.clear();
    expect((await client.create(POD)).metadata.name).toBe('p');
    expect(seen.get('POST /api/v1/namespaces/ns/pods')).toBe(2);
  });
});
