// Stability check (not a test): runs the main job on the control-plane lane N times in a row and counts
// the runs that passed. After each run it also checks that the run left nothing behind: no etcd,
// kube-apiserver or pilot-discovery process of ours, no run dir. Each run gets its own TMPDIR, so what it
// leaves is told apart from what other work on the machine is doing.
//   npx tsx scripts/stability.ts [--runs 20]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** Processes whose command line mentions the run's TMPDIR, and whatever is still in it. */
function leftovers(base: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.includes(base))) out.push(`process ${pid} ${cmd[0]}`);
    } catch {
      // gone meanwhile
    }
  }
  // tsx keeps its compile cache in TMPDIR on purpose (tsx-<uid>); anything else is a leftover.
  for (const d of readdirSync(base)) if (!/^tsx-\d+$/.test(d)) out.push(`dir ${join(base, d)}`);
  return out;
}

const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 20;
if (!Number.isInteger(runs) || runs < 1) {
  console.error('stability: --runs needs a positive whole number');
  process.exit(2);
}
let passed = 0;
const times: number[] = [];
for (let n = 1; n <= runs; n++) {
  const base = mkdtempSync(join(tmpdir(), 'iec-stability-'));
  const t0 = performance.now();
  const r = await execa('node', ['bin/egress-conformance.mjs', 'run', '--lane', 'control-plane'], {
    cwd: REPO,
    reject: false,
    all: true,
    env: { TMPDIR: base },
  });
  const ms = performance.now() - t0;
  times.push(ms);
  const summary =
    String(r.all ?? '')
      .split('\n')
      .find((l) => /^control-plane lane.*passed/.test(l)) ?? `exit ${r.exitCode}`;
  const left = leftovers(base);
  rmSync(base, { recursive: true, force: true });
  const ok = r.exitCode === 0 && left.length === 0;
  if (ok) passed++;
  console.log(
    `run ${n}/${runs}: ${ok ? 'pass' : 'FAIL'} in ${(ms / 1000).toFixed(1)} s — ${summary}${left.length ? `; left behind: ${left.join(', ')}` : ''}`,
  );
}
times.sort((a, b) => a - b);
console.log(
  `${passed}/${runs} runs passed; median ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(1)} s, max ${(times[times.length - 1]! / 1000).toFixed(1)} s`,
);
process.exit(passed === runs ? 0 : 1);
