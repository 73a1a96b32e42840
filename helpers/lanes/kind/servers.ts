// The servers outside the mesh: names, credentials and which host resolves to which container.
// Credentials are test-only and also set as PG* env in fixtures/workloads/client.yaml's psql container.

export const RUN_LABEL = 'egress-conformance.run';

export const POSTGRES = { user: 'conformance', password: 'conformance', database: 'conformance' } as const;

export type ServerName = 'db' | 'web';

/** Hosts the catalogue probes, and the server container each resolves to through CoreDNS. */
export const SERVER_HOSTS: readonly { host: string; server: ServerName }[] = [
  { host: 'db.example.com', server: 'db' },
  { host: 'api.example.com', server: 'web' },
  { host: 'unlisted.example.com', server: 'web' },
];

/** Container names carry the run id, so concurrent or leftover runs never collide. */
export function serverContainerName(runId: string, server: ServerName): string {
  return `egress-conformance-${runId}-${server}`;
}
