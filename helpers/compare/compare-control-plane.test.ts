// compare on the control-plane lane: two real istiod builds, one after the other, each on its own kwok
// stack; what it says when the builds are missing, and a Ctrl-C while an istiod build runs.
import { readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCompare } from '../../scripts/commands/compare.ts';
import { controlPlaneMissing } from '../lanes/control-plane/requirements.ts';
import { PINNED_BUILDS } from '../tools/pilot-discovery.ts';
import { tempDirs } from '../testing/temp-dirs.ts';
import { APRIL, AUGUST, BIN, capture, USER_CASES } from './testdata/cli.ts';

const tmp = tempDirs('iec-cmp-');

describe('compare on the control-plane lane without the builds', () => {
  it('names the commands that build what is missing (exit 3), and refuses PILOT_DISCOVERY (exit 2)', async () => {
    const empty = await execa('node', [BIN, 'compare', '--from', APRIL, '--to', AUGUST, '--report-dir', tmp()], {
      reject: false,
      env: { XDG_CACHE_HOME: tmp() },
    });
    expect(empty.exitCode).toBe(3);
    expect(empty.stderr).toMatch(
      /needs both istiod builds; run `egress-conformance tools install pilot-discovery --version master-2026-04-23`, `egress-conformance tools install istioctl-build --version master-2026-04-23`/,
    );
    const env = await execa('node', [BIN, 'compare', '--from', APRIL, '--to', AUGUST, '--report-dir', tmp()], {
      reject: false,
      env: { PILOT_DISCOVERY: '/bin/sh' },
    });
    expect(env.exitCode).toBe(2);
    expect(env.stderr).toMatch(/PILOT_DISCOVERY is set, but compare runs two pinned istiod builds/);
  });
});

// What the control-plane lane needs for each side, by the lane's own check; PILOT_DISCOVERY is left out of
// it, since compare runs the cached builds, not the one it names.
const missing = [
  ...PINNED_BUILDS.flatMap((p) => {
    const m = controlPlaneMissing({ ...process.env, PILOT_DISCOVERY: '' }, p);
    return m ? [`${p.label}: ${m}`] : [];
  }),
  ...(process.env.PILOT_DISCOVERY ? ['(PILOT_DISCOVERY is set; compare runs the cached builds only)'] : []),
];

describe.skipIf(missing.length > 0)(
  `compare on the control-plane lane, two real istiod builds${missing.length ? ` — skipped: ${missing.join('; ')}` : ''}`,
  () => {
    it("April → August: the user case file's changes are the ones the gates predict, each explained; exit 0", async () => {
      const cap = capture();
      const code = await runCompare(
        { from: APRIL, to: AUGUST, file: [USER_CASES], builtin: false, lane: 'control-plane', json: true, reportDir: tmp() },
        cap.io,
      );
      const doc = JSON.parse(cap.out.join('\n'));
      expect(doc.errors).toEqual([]);
      expect(doc.changes.map((c: { id: string; status: string; rule: { id: string } }) => [c.id, c.status, c.rule.id])).toEqual([
        ['REGISTRY_ONLY/upgrade-user-case/default→tcp://db.example.com:5432', 'explained', 'default-export-to'],
        ['REGISTRY_ONLY/upgrade-user-case/default[app=web]→tcp://cache.example.com:6379', 'explained', 'sidecar-egress-exclusions'],
      ]);
      expect(doc.from.details.istioVersion).toBe(PINNED_BUILDS.find((b) => b.label === APRIL)!.istioVersion);
      expect(code).toBe(0);
    }, 600_000);
  },
);

/** Every live descendant of a process, from /proc (Linux). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.skipIf(missing.length > 0)(`compare interrupted${missing.length ? ' — skipped: builds missing' : ''}`, () => {
  it('Ctrl-C while an istiod build runs: the lane is torn down, no process it started is left, exit 130', async () => {
    const child = execa(
      'node',
      [BIN, 'compare', '--from', APRIL, '--to', AUGUST, '--no-builtin', '-f', USER_CASES, '--report-dir', tmp()],
      { reject: false, forceKillAfterDelay: false },
    );
    let seen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (b: Buffer) => {
        if (/istiod ready/.test(b.toString())) {
          seen = descendants(child.pid!);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error('compare ended before istiod was ready')));
    });
    expect(seen.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const r = await child;
    expect([r.exitCode, r.signal ?? null]).toEqual([130, null]);
    expect(r.stderr).toMatch(/SIGINT: stopping the comparison; tearing the lane down/);
    // Processes the lane started (etcd, kube-apiserver, istiod) are gone once compare has exited.
    const deadline = Date.now() + 10_000;
    while (seen.some(alive) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    expect(seen.filter(alive)).toEqual([]);
  }, 300_000);
});
