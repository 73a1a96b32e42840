// Stability check (not a test): runs the main job on the control-plane lane N times in a row and counts
// the runs that passed. After each run it also checks that the run left nothing behind: no etcd,
// kube-apiserver or pilot-discovery process of ours, no run dir.
//   npx tsx scripts/stability.ts [--runs 20]
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cacheDir } from '../helpers/tools/resolve.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));

function leftovers(): string[] {
  const bin = cacheDir(process.env);
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const exe = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (exe.startsWith(bin) && /\/(etcd|kube-apiserver|pilot-discovery)-/.test(exe)) out.push(`process ${pid} ${exe}`);
    } catch {
      // gone meanwhile
    }
  }
  for (const d of readdirSync(tmpdir())) if (d.startsWith('iec-cp-')) out.push(`dir ${tmpdir()}/${d}`);
  return out;
}

const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 20;
if (!Number.isInteger(runs) || runs < 1) {
  console.error('stability: --runs needs a positive whole number');
  process.exit(2);
}
const before = new Set(leftovers());
let passed = 0;
const times: number[] = [];
for (let n = 1; n <= runs; n++) {
  const t0 = performance.now();
  const r = await execa('node', ['bin/egress-conformance.mjs', 'run', '--lane', 'control-plane'], { cwd: REPO, reject: false, all: true });
  const ms = performance.now() - t0;
  times.push(ms);
  const summary = String(r.all ?? '').split('\n').find((l) => /^control-plane lane.*passed/.test(l)) ?? `exit ${r.exitCode}`;
  const left = leftovers().filter((l) => !before.has(l));
  const ok = r.exitCode === 0 && left.length === 0;
  if (ok) passed++;
  console.log(`run ${n}/${runs}: ${ok ? 'pass' : 'FAIL'} in ${(ms / 1000).toFixed(1)} s — ${summary}${left.length ? `; left behind: ${left.join(', ')}` : ''}`);
}
times.sort((a, b) => a - b);
console.log(`${passed}/${runs} runs passed; median ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(1)} s, max ${(times[times.length - 1]! / 1000).toFixed(1)} s`);
process.exit(passed === runs ? 0 : 1);
