// A real PostgreSQL (Debian's) on loopback for the probe classifier's tests: a throw-away cluster, a
// password with quotes and a backslash so the probe's quoting is exercised, stopped with the test run.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { type Fixture, freePort, missingTools, onExit, postgresBinDir, stopChild, waitForLog } from './servers.ts';

export interface PgFixture extends Fixture {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Quote and backslash on purpose: the probe's conninfo quoting must survive them. */
export const PG_PROBE_PASSWORD = "pr'obe\\pw 1";

export async function startPostgres(): Promise<PgFixture> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(missingTools('postgres'));
  const dir = mkdtempSync(join(tmpdir(), 'egress-pg-'));
  const data = join(dir, 'data');
  // PostgreSQL refuses to run as root: as root, run initdb and postgres as the `postgres` user.
  const ids = process.getuid?.() === 0 ? postgresIds() : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, LC_ALL: 'C', LANG: 'C' };
  let child: ChildProcess | undefined;
  const unregister = onExit(() => {
    // SIGQUIT: immediate shutdown, the postmaster takes its backends down with it.
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await execa(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { env, extendEnv: false, cwd: dir, ...ids },
    );
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      child = spawn(
        join(bin, 'postgres'),
        ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
        {
          env,
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
          ...ids,
        },
      );
      try {
        await waitForLog(child, /database system is ready to accept connections/);
      } catch (e) {
        lastError = e; // most likely the free port was taken meanwhile: try another
        await stopChild(child, 'SIGQUIT');
        continue;
      }
      const psql = existsSync(join(bin, 'psql')) ? join(bin, 'psql') : 'psql';
      const sqlPassword = PG_PROBE_PASSWORD.replace(/'/g, "''");
      for (const sql of [`CREATE ROLE probe LOGIN PASSWORD '${sqlPassword}'`, 'CREATE DATABASE probedb OWNER probe']) {
        await execa(psql, ['-X', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
          env,
        });
      }
      const proc = child;
      return {
        host: '127.0.0.1',
        port,
        user: 'probe',
        password: PG_PROBE_PASSWORD,
        database: 'probedb',
        async stop() {
          unregister();
          await stopChild(proc, 'SIGINT'); // fast shutdown
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    throw new Error(`postgres did not start: ${String(lastError)}`);
  } catch (e) {
    unregister();
    if (child) await stopChild(child, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root but there is no `postgres` user (the Debian postgresql package creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
