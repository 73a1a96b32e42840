// psql probes (5432): what psql printed, as an Observation. The decisions are classify.ts's (its header): allowed
// only when the query answered exactly `1`; a closed or reset session is blocked tcp-close; a refusal, a name
// not resolved, a timeout or a server that refused the session is an error with its cause.
import type { Observation } from '../../../model/types.ts';
import { blockedTcp, error, excerpt, type ProbeResult } from './classify.ts';

const PG_CLOSED =
  /server closed the connection unexpectedly|could not receive data from server|SSL SYSCALL error|Connection reset by peer|EOF detected/i;

export function classifyPsql(result: ProbeResult): Observation {
  const stderr = result.stderr;
  const ev: Record<string, unknown> = { tool: 'psql', exitCode: result.exitCode };
  if (result.stdout.trim()) ev.stdout = excerpt(result.stdout);
  if (stderr.trim()) ev.stderr = excerpt(stderr);
  const firstError = excerpt(/psql: error: (.*)/.exec(stderr)?.[1] ?? stderr, 160);

  if (result.exitCode === 0) {
    if (result.stdout.trim() === '1') return { verdict: 'allowed', summary: 'PostgreSQL answered select 1', evidence: ev };
    return error(`psql exited 0 but printed ${JSON.stringify(excerpt(result.stdout, 60))}, not 1`, ev);
  }
  if (/Connection refused/i.test(stderr)) return error(`connection refused, so no sidecar took it: ${firstError}`, ev);
  if (/could not translate host name|Name or service not known|Temporary failure in name resolution/i.test(stderr)) {
    return error(`name not resolved: ${firstError}`, ev);
  }
  if (/timeout expired/i.test(stderr)) return error(`timed out: ${firstError}`, ev);
  if (PG_CLOSED.test(stderr)) return blockedTcp(`psql: ${firstError}`, ev);
  if (/FATAL|password authentication failed|does not exist|no pg_hba\.conf entry/i.test(stderr)) {
    return error(`PostgreSQL answered but refused the session: ${firstError}`, ev);
  }
  return error(`unexpected psql exit ${result.exitCode}: ${firstError}`, ev);
}

// ---------------------------------------------------------------------------------------------
