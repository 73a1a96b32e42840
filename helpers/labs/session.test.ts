// lab start/check/stop/progress through the command functions, on a simulated backend
// (helpers/testing/lab-sim.ts: the model stands in for istiod there, never in the commands, which grade on
// the real istiod: labs.test.ts, live.test.ts). This file tests the commands' own logic: the state file,
// a stale lab, grading a running lab, constraint failures, the refusal without the tools, progress.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findLab } from './load.ts';
import type { LabDeps } from './deps.ts';
import { labCheck } from './check.ts';
import { labProgress } from './progress-command.ts';
import { labStart, labStop } from './session.ts';
import { EnvironmentError, UserError } from '../model/errors.ts';
import { type LabFixture, labFixture, type SimBackend } from '../testing/lab-sim.ts';

let f: LabFixture;
let dir: string;
let env: NodeJS.ProcessEnv;
let out: string[];
let err: string[];
let backend: SimBackend;
let deps: LabDeps;

beforeEach(() => {
  f = labFixture();
  ({ dir, env, err, backend, deps } = f);
  out = f.out;
});
afterEach(() => f.cleanup());

const stdout = () => out.join('\n');

describe('a live lab', () => {
  it('start prints the task and export KUBECONFIG; check fails the start with reasons, passes after kubectl apply of the solution; stop clears it', async () => {
    const lab = findLab('tcp-trap-addresses');
    expect(await labStart(lab.name, deps)).toBe(0);
    expect(stdout()).toContain('export KUBECONFIG=/sim/run-1/kubeconfig');
    expect(stdout()).toContain(lab.task.split('\n')[0]);
    expect(JSON.parse(readFileSync(join(env.XDG_STATE_HOME!, 'istio-egress-conformance', 'current-lab.json'), 'utf8'))).toMatchObject({
      lab: lab.name,
      handle: 'run-1',
    });

    out.length = 0;
    expect(await labCheck(lab.name, {}, deps)).toBe(1);
    expect(stdout()).toMatch(
      /FAIL {2}4\. from frontend to tcp:\/\/198\.51\.100\.7:5432\n\s+expected {2}blocked via BlackHoleCluster: another address on 5432/,
    );
    expect(stdout()).toMatch(/got {7}allowed via outbound\|5432\|\|db\.example\.com/);
    expect(stdout()).toMatch(/istiod {4}listener 0\.0\.0\.0_5432 → cluster outbound\|5432\|\|db\.example\.com/);
    expect(stdout()).toMatch(/hint {6}frontend's sidecar knows 198\.51\.100\.7/);
    expect(stdout()).toMatch(/why {7}.*match-all TCP chain/);
    expect(stdout()).toMatch(/ok {4}9\. Istio objects changed only in frontend/);
    expect(stdout()).toMatch(/Score: 7\/11 checks \(64%\)/);

    backend.kubectlApply([lab.solution]);
    out.length = 0;
    expect(await labCheck(lab.name, {}, deps)).toBe(0);
    expect(stdout()).toMatch(/Score: 11\/11 checks \(100%\)\nPASS: tcp-trap-addresses/);
    expect(stdout()).toContain('Why it works:');

    out.length = 0;
    expect(await labStop(deps)).toBe(0);
    expect(backend.running.size).toBe(0);
    expect(existsSync(join(env.XDG_STATE_HOME!, 'istio-egress-conformance', 'current-lab.json'))).toBe(false);
    await expect(labCheck(lab.name, {}, deps)).rejects.toThrow(/no lab is running/);

    out.length = 0;
    labProgress(deps);
    expect(stdout()).toMatch(/tcp-trap-addresses\s+2\s+yes\s+11\/11\s+\S+\s+simulated istiod/);
    expect(stdout()).toMatch(/Traffic Management\s+1\/\d+\s+\d{4}-\d\d-\d\d 82%/); // 64% then 100% on one day
  });

  it('a constraint failure says expected, got, where and a hint, even when every call behaves', async () => {
    const lab = findLab('mesh-registry-only');
    await labStart(lab.name, deps);
    backend.kubectlApply([lab.wrong.find((w) => /root-sidecar-and-frontend/.test(w.file))!.file]);
    out.length = 0;
    expect(await labCheck(lab.name, {}, deps)).toBe(1);
    expect(stdout()).not.toMatch(/FAIL {2}\d\. from/);
    expect(stdout()).toMatch(
      /FAIL {2}10\. the mesh config sets outboundTrafficPolicy REGISTRY_ONLY\n\s+expected {2}REGISTRY_ONLY: the task asks for the mesh-wide policy.*\n\s+got {7}ALLOW_ANY\n\s+where {5}ConfigMap istio-system\/istio/,
    );
    expect(stdout()).toMatch(/FAIL {2}11\. Sidecar frontend\/default left as they are\n.*\n\s+got {7}Sidecar frontend\/default changed/);
    expect(stdout()).toMatch(/FAIL {2}12\. no new Sidecar \*\/\*\n.*\n\s+got {7}Sidecar istio-system\/default/);
  });

  it('a second lab start finds the lab an earlier shell left running and stops it first', async () => {
    await labStart('api-over-http', deps);
    await labStart('postgres-serviceentry', deps);
    expect(backend.stopped).toEqual(['run-1']);
    expect([...backend.running.values()].map((r) => r.lab.name)).toEqual(['postgres-serviceentry']);
    expect(err.join('\n')).toMatch(/lab api-over-http .* is still recorded as running; it is removed first/);
  });

  it('check names the running lab when asked about another, and says so when its processes are gone', async () => {
    await labStart('api-over-http', deps);
    await expect(labCheck('postgres-serviceentry', {}, deps)).rejects.toThrow(
      /the running lab is api-over-http, not postgres-serviceentry/,
    );
    backend.running.clear(); // the stack died with the shell
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(/lab api-over-http is no longer running .* lab start api-over-http/);
    // ... and the stale record is gone, so the next command says plainly that nothing runs.
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(UserError);
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(/no lab is running/);
  });

  it('check -f works with no running lab, and a file the cluster would refuse is refused', async () => {
    const lab = findLab('export-to-named-namespace');
    expect(await labCheck(lab.name, { file: [lab.wrong[0].file] }, deps)).toBe(1);
    expect(stdout()).toMatch(/FAIL {2}2\. from default to https:\/\/api\.example\.com\//);
    const f = join(dir, 'typo.yaml');
    writeFileSync(
      f,
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: fronted}\nspec: {hosts: [api.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}\n',
    );
    await expect(labCheck(lab.name, { file: [f] }, deps)).rejects.toThrow(/namespaces "fronted" not found/);
  });

  it('check -f never grades with the model: without the pinned tools it refuses (exit 3) with the commands that build them', async () => {
    const lab = findLab('api-over-http');
    const bare: NodeJS.ProcessEnv = { ...env, XDG_CACHE_HOME: join(dir, 'no-cache'), PATH: join(dir, 'no-bin') };
    for (const k of ['PILOT_DISCOVERY', 'ETCD', 'KUBE_APISERVER', 'EGRESS_ETCD', 'EGRESS_KUBE_APISERVER']) delete bare[k];
    const refused = labCheck(lab.name, { file: [lab.solution] }, { io: deps.io, env: bare });
    await expect(refused).rejects.toThrow(EnvironmentError);
    await expect(labCheck(lab.name, { file: [lab.solution] }, { io: deps.io, env: bare })).rejects.toThrow(
      /graded on the real istiod only.*`egress-conformance tools install pilot-discovery`/,
    );
    expect(out.join('\n')).not.toMatch(/Score/);
  });
});
