// Ends what a run started under its run dir when the Node process that owns it dies without running its
// exit hooks (SIGKILL, a test worker killed, the machine's OOM killer). kwokctl starts the cluster's
// components in sessions of their own (kwok pkg/utils/exec: Setsid), so neither a process-group kill nor the
// kernel's parent-death signal reaches them, and a `kwokctl create cluster` still running goes on starting
// them after we are gone: killing `up` with -9 at any step left etcd, kube-apiserver, the controllers, the
// kwok controller (and a detached istiod) running, reparented to init. So a small shell in its own session
// polls the owner and, once it is gone, kills every process whose command line names the run dir (as
// killProcessesNaming does), a few rounds over to catch late starters, then removes the dir. A run that ends
// normally, or a stack handed over to a record (the warm stack), releases it first.
import { spawn } from 'node:child_process';
import { signal } from './group.ts';

// The run dir comes in the environment, not in argv: the reaper's own command line must not name it.
const SCRIPT = `
while kill -0 "$REAP_OWNER" 2>/dev/null; do sleep 1; done
for round in 1 2 3 4 5; do
  for f in /proc/[0-9]*/cmdline; do
    p=\${f#/proc/}; p=\${p%/cmdline}
    [ "$p" = "$$" ] && continue
    c=$(tr '\\000' ' ' < "$f" 2>/dev/null) || continue
    case "$c" in *"$REAP_DIR"*) kill -9 "$p" 2>/dev/null ;; esac
  done
  sleep 1
done
rm -rf -- "$REAP_DIR"
`;

/** Starts the reaper of `dir` for this process; the returned function releases it (safe to call twice). */
export function reapOnOwnerDeath(dir: string, owner = process.pid): () => void {
  const child = spawn('/bin/sh', ['-c', SCRIPT], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', REAP_OWNER: String(owner), REAP_DIR: dir },
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  let released = false;
  return () => {
    if (released || child.pid === undefined) return;
    released = true;
    signal(child.pid, 'SIGKILL');
  };
}
