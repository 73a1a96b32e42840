// The servers outside the mesh (PostgreSQL, nginx for HTTP/HTTPS and a PostgreSQL pass-through) as
// containers on the kind network, and cluster DNS for their names: CoreDNS `hosts` entries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { patchCorefile } from '../../../../clusters/coredns-hosts.ts';
import { StepError } from '../../../model/errors.ts';
import type { RunContext } from '../context.ts';
import { failure, type Runner } from '../runner.ts';
import { POSTGRES, SERVER_HOSTS, serverContainerName, type ServerName } from '../servers.ts';
import type { RunState } from '../state.ts';
import { waitDeployment } from './cluster.ts';

export async function startServers(r: Runner, ctx: RunContext, state: RunState): Promise<void> {
  await r.step('servers: PostgreSQL and HTTP/HTTPS outside the mesh, on the kind network', async () => {
    const tls = join(ctx.workDir, 'tls');
    const labels = ['--label', ctx.runLabel, '--label', 'egress-conformance.io/managed=true'];
    const db = serverContainerName(ctx.runId, 'db');
    const web = serverContainerName(ctx.runId, 'web');
    const run = async (argv: string[], timeoutMs = ctx.timeouts.docker, assume?: string): Promise<string> => {
      const res = await r.exec(argv, { timeoutMs, ...(assume !== undefined ? { assume } : {}) });
      if (res.exitCode !== 0 || res.timedOut) throw new StepError(failure(argv, res));
      return res.stdout.trim();
    };
    // kind creates the network; its subnets go into the report so container IPs can be read against them.
    state.facts.kindNetwork = await run(
      ['docker', 'network', 'inspect', 'kind', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}'],
      ctx.timeouts.docker,
      '<subnets of the kind network>',
    );
    await r.mkdir(tls);
    await run(
      [
        'openssl',
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=api.example.com',
        '-addext',
        'subjectAltName=DNS:api.example.com,DNS:unlisted.example.com',
        '-keyout',
        join(tls, 'tls.key'),
        '-out',
        join(tls, 'tls.crt'),
      ],
      ctx.timeouts.tool,
    );
    await run(
      [
        'docker',
        'create',
        '--name',
        db,
        '--network',
        'kind',
        ...labels,
        '-e',
        `POSTGRES_USER=${POSTGRES.user}`,
        '-e',
        `POSTGRES_PASSWORD=${POSTGRES.password}`,
        '-e',
        `POSTGRES_DB=${POSTGRES.database}`,
        ctx.versions.images.postgres,
      ],
      ctx.timeouts.dockerPull,
    );
    await run(['docker', 'start', db]);
    await r.writeFile(join(ctx.workDir, 'nginx.conf'), nginxConf(ctx, db));
    await run(['docker', 'create', '--name', web, '--network', 'kind', ...labels, ctx.versions.images.nginx], ctx.timeouts.dockerPull);
    // docker cp rather than bind mounts: works with a remote Docker daemon and with Docker Desktop file sharing.
    await run(['docker', 'cp', join(ctx.workDir, 'nginx.conf'), `${web}:/etc/nginx/nginx.conf`]);
    await run(['docker', 'cp', tls, `${web}:/etc/nginx/tls`]);
    await run(['docker', 'start', web]);
    await serverAnswers(r, ctx, ['docker', 'exec', db, 'pg_isready', '-h', '127.0.0.1', '-U', POSTGRES.user, '-d', POSTGRES.database]);
    await serverAnswers(r, ctx, ['docker', 'exec', web, 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1/']);
    // PostgreSQL through the web server's pass-through, checked from the db container over the kind network.
    await serverAnswers(r, ctx, [
      'docker',
      'exec',
      db,
      'pg_isready',
      '-h',
      web,
      '-p',
      '5432',
      '-U',
      POSTGRES.user,
      '-d',
      POSTGRES.database,
    ]);
    for (const [server, name] of [
      ['db', db],
      ['web', web],
    ] as const) {
      state.serverIps[server] = await run(
        ['docker', 'inspect', '--format', '{{(index .NetworkSettings.Networks "kind").IPAddress}}', name],
        ctx.timeouts.docker,
        `<IP of ${name} on the kind network>`,
      );
    }
  });
}

async function serverAnswers(r: Runner, ctx: RunContext, argv: string[]): Promise<void> {
  let last = '';
  await r.waitFor(
    `server answers: ${argv.slice(2).join(' ')}`,
    ctx.timeouts.server,
    async () => {
      // Polled without a trace entry per attempt: the wait is the entry.
      const res = await r.exec(argv, { timeoutMs: ctx.timeouts.docker });
      last = res.stderr || res.stdout;
      return res.exitCode === 0 ? true : undefined;
    },
    { assumed: true, state: () => last.trim().split('\n').slice(-3).join(' ') },
  );
}

/** fixtures/servers/nginx.conf with the PostgreSQL container as the 5432 upstream. */
export function nginxConf(ctx: RunContext, dbContainer: string): string {
  return readFileSync(join(ctx.repoRoot, 'fixtures', 'servers', 'nginx.conf'), 'utf8').replaceAll('@DB_UPSTREAM@', dbContainer);
}

/** kind's CoreDNS Corefile (kubeadm's default), what the dry run takes the ConfigMap to hold. */
export const KIND_DEFAULT_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

export async function clusterDns(r: Runner, ctx: RunContext, state: RunState): Promise<void> {
  await r.step('dns: CoreDNS hosts entries for the external hosts (hosts ttl 1, kubernetes plugin ttl 0), restart CoreDNS', async () => {
    const entries = SERVER_HOSTS.map((h) => ({ host: h.host, ip: state.serverIps[h.server as ServerName] ?? '' }));
    for (const e of entries) {
      if (!r.dryRun && !/^\d{1,3}(\.\d{1,3}){3}$/.test(e.ip)) {
        throw new StepError(`no IPv4 address on the kind network for the server of ${e.host} (got "${e.ip}")`);
      }
    }
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'coredns' };
    const corefile = await r.read(
      'ConfigMap kube-system/coredns (its Corefile)',
      async (k) => ((await k.get(ref))?.data as Record<string, string> | undefined)?.Corefile,
      KIND_DEFAULT_COREFILE,
      "kind's default Corefile",
    );
    if (!corefile) throw new StepError('ConfigMap kube-system/coredns has no Corefile');
    await r.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: patchCorefile(corefile, entries) },
    });
    // Restart rather than wait for the reload plugin (which sees ConfigMap changes only after kubelet sync).
    await r.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      spec: { template: { metadata: { annotations: { 'egress-conformance.io/restartedAt': ctx.runId } } } },
    });
    await waitDeployment(r, 'kube-system', 'coredns', ctx.timeouts.coredns);
    r.note(entries.map((e) => `${e.host} → ${e.ip}`).join(', '));
  });
}

/** Cleanup: every container carrying the run label. */
export async function removeServers(r: Runner, ctx: RunContext): Promise<void> {
  const listArgv = ['docker', 'ps', '-aq', '--filter', `label=${ctx.runLabel}`];
  const list = await r.exec(listArgv, {
    timeoutMs: ctx.timeouts.docker,
    cleanup: true,
    assume: `<ids of the containers labelled ${ctx.runLabel}>`,
  });
  if (list.exitCode !== 0) {
    r.note(`(cleanup) ${failure(listArgv, list)}`);
    return;
  }
  const ids = list.stdout.split(/\s+/).filter(Boolean);
  if (ids.length === 0) return;
  const argv = ['docker', 'rm', '-f', '-v', ...(r.dryRun ? [list.stdout] : ids)];
  const res = await r.exec(argv, { timeoutMs: ctx.timeouts.docker, cleanup: true });
  if (res.exitCode !== 0) r.note(`(cleanup) ${failure(argv, res)}`);
}
