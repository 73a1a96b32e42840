// `egress-conformance up [--istio-version BUILD] [-f ISTIOOPERATOR]`: starts the warm stack (a local
// cluster + istiod, detached) and prints `export KUBECONFIG=...` on stdout, progress on stderr, so
// `eval "$(egress-conformance up)"` works. Commands that ask istiod use it until `down`.
import { resolve } from 'node:path';
import { EnvironmentError, UserError } from '../../helpers/model/errors.ts';
import { controlPlanePin } from '../../helpers/lanes/target.ts';
import { missingStackTools } from '../../helpers/stack/requirements.ts';
import { spawnAnswerServer } from '../../helpers/stack/answer-spawn.ts';
import { detachedControlPlane } from '../../helpers/stack/provider.ts';
import { buildName, isUp, readWarm, removeWarm, runsBuild, writeWarm } from '../../helpers/stack/warm.ts';
import { statusLines } from './status.ts';

export interface UpFlags {
  istioVersion?: string;
  file?: string;
}

type Io = { out: (s: string) => void; err: (s: string) => void };

export async function runUp(flags: UpFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const pin = controlPlanePin(flags.istioVersion, env);
  const operatorFile = flags.file === undefined ? undefined : resolve(flags.file);
  if (operatorFile) {
    // Checked before anything starts: a wrong file is one line of bad input, not a half-started stack.
    const { readOperator } = await import('../../helpers/labs/install.ts');
    const { notes } = readOperator(operatorFile);
    for (const n of notes) io.err(`note: ${n}`);
  }
  const provider = detachedControlPlane;
  const existing = readWarm(env);
  if (existing && isUp(existing)) {
    const same = runsBuild(existing, pin) && existing.operator === operatorFile;
    if (!same)
      throw new UserError(
        `a warm stack is already up (${buildName(existing.build)}${existing.operator ? `, ${existing.operator}` : ''}); run \`egress-conformance down\` first`,
      );
    if (existing.startedBy) {
      // `up` asked for it to stay: from now on it is up's, and `lab stop` leaves it running.
      const { startedBy: _lab, ...adopted } = existing;
      writeWarm(adopted, env);
      io.err(`up: the stack lab start started is up (${buildName(existing.build)}); it stays up after lab stop now`);
    } else io.err(`up: the warm stack is already up (${buildName(existing.build)})`);
    io.out(`export KUBECONFIG=${existing.kubeconfig}`);
    return 0;
  }
  if (existing) {
    io.err('up: clearing what is left of an earlier warm stack that is no longer running');
    await provider.stop(existing);
    removeWarm(env);
  }
  const missing = missingStackTools(pin, env);
  if (missing.length)
    throw new EnvironmentError(`up needs the pinned tools; run ${missing.map((c) => `\`egress-conformance ${c}\``).join(', ')} (needs Go)`);
  const t0 = performance.now();
  const started = await provider.start({ pin, ...(operatorFile ? { operatorFile } : {}), say: (l) => io.err(l) });
  writeWarm(started, env);
  // Recorded before it listens (it reads the record above); `down` ends it with the stack.
  const rec = { ...started, answerServer: spawnAnswerServer(started, env) };
  writeWarm(rec, env);
  io.err(`up: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const l of statusLines(rec)) io.err(`  ${l}`);
  io.err('up: `egress-conformance down` stops it and removes what it made');
  io.out(`export KUBECONFIG=${rec.kubeconfig}`);
  return 0;
}
