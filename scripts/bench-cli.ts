// `egress-conformance bench --cli`: how long whole CLI processes take, as a user waits for them: `--version`,
// `expect` answered by the model, and `expect` with 5 probes answered by istiod on the warm stack (when
// `up` has one running). Each command runs once to warm caches, then `runs` times, one after the other;
// the figure is the wall time of the whole process, start-up included.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { isUp, readWarm } from '../helpers/stack/warm.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/egress-conformance.mjs', import.meta.url));
const FILE = fileURLToPath(new URL('../fixtures/serviceentries/db-course.yaml', import.meta.url));
const PROBES = [
  'frontend=tcp://db.example.com:5432',
  'default=tcp://unlisted.example.com:5432',
  'default=http://unlisted.example.com/',
  'frontend=https://unlisted.example.com/',
  'default=tcp://db.example.com:5432',
].flatMap((p) => ['--probe', p]);

export interface CliFigure {
  name: string;
  args: string[];
  wallMs: number[];
  skipped?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
};

export async function benchCli(runs: number, say: (l: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<CliFigure[]> {
  const figures: CliFigure[] = [
    { name: '--version', args: ['--version'], wallMs: [] },
    { name: 'expect, 1 probe, the model', args: ['expect', '--lane', 'model', '-f', FILE, ...PROBES.slice(0, 2)], wallMs: [] },
    {
      name: 'expect, 5 probes, istiod on the warm stack',
      args: ['expect', '-f', FILE, '--policy', 'REGISTRY_ONLY', ...PROBES],
      wallMs: [],
    },
  ];
  const warm = readWarm(env);
  if (!warm || !isUp(warm)) figures[2]!.skipped = 'no warm stack is up (run `egress-conformance up` first)';
  for (const f of figures) {
    if (f.skipped) continue;
    say(`bench: ${f.name}: 1 warm-up + ${runs} runs`);
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      await run(process.execPath, [BIN, ...f.args], { env });
      if (i > 0) f.wallMs.push(performance.now() - t0);
    }
  }
  return figures;
}

export function formatCli(figures: CliFigure[]): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return figures
    .map((f) =>
      f.skipped
        ? `${f.name}: skipped: ${f.skipped}`
        : `${f.name}: wall median ${s(median(f.wallMs))} (min ${s(Math.min(...f.wallMs))}, max ${s(Math.max(...f.wallMs))}, ${f.wallMs.length} runs)`,
    )
    .join('\n');
}
