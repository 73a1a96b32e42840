// lab start/check/stop/progress through the command functions, on the real warm stack (one per file,
// started as `egress-conformance up` starts it) with the candidate's real kubectl: the state file, a stale
// lab, grading a running lab, constraint failures, `check -f` on the warm stack, the refusal without the
// tools, progress, and a lab whose stack died. Skipped, with the reason, where the pinned tools are missing.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findLab } from './load.ts';
import type { LabDeps } from './deps.ts';
import { labCheck } from './check.ts';
import { readCurrent } from './live.ts';
import { labProgress } from './progress-command.ts';
import { labStart, labStop } from './session.ts';
import { loadResourceFiles } from '../istio/load.ts';
import { ClientNodeK8s } from '../k8s/client.ts';
import { modeOf, readMeshConfig } from '../k8s/istio.ts';
import { EnvironmentError, UserError } from '../model/errors.ts';
import { isUp, readWarm } from '../stack/warm.ts';
import { answer, labObjects, labStackEnv, onWarmStack } from '../testing/lab-stack.ts';

const stack = labStackEnv('labs-session-');
const { dir, env } = stack;
let out: string[] = [];
let err: string[] = [];
const deps: LabDeps = { io: { out: (s) => out.push(s), err: (s) => err.push(s) }, env };

const stdout = () => out.join('\n');
const currentFile = () => join(env.XDG_STATE_HOME!, 'istio-egress-conformance', 'current-lab.json');
/** The starting objects of a lab as `kind namespace/name`, sorted (what kubectl get should list). */
const startObjects = (name: string) => {
  const s = loadResourceFiles(findLab(name).start);
  return [...s.serviceEntries, ...s.sidecars].map((r) => `${r.kind} ${r.namespace}/${r.name}`).sort();
};

describe('lab check -f without the tools (no stack)', () => {
  it('check -f never grades with the model: without the pinned tools it refuses (exit 3) with the commands that build them', async () => {
    const lab = findLab('api-over-http');
    // No tools and no warm stack (a state of its own): nothing here can run istiod.
    const bare: NodeJS.ProcessEnv = {
      ...env,
      XDG_STATE_HOME: join(dir, 'bare-state'),
      XDG_CACHE_HOME: join(dir, 'no-cache'),
      PATH: join(dir, 'no-bin'),
    };
    for (const k of ['PILOT_DISCOVERY', 'ETCD', 'KUBE_APISERVER', 'EGRESS_ETCD', 'EGRESS_KUBE_APISERVER']) delete bare[k];
    const refused = labCheck(lab.name, { file: [lab.solution] }, { io: deps.io, env: bare });
    await expect(refused).rejects.toThrow(EnvironmentError);
    await expect(labCheck(lab.name, { file: [lab.solution] }, { io: deps.io, env: bare })).rejects.toThrow(
      /graded on the real istiod only.*`egress-conformance tools install pilot-discovery`/,
    );
    expect(out.join('\n')).not.toMatch(/Score/);
  });
});

describe('a live lab on the warm stack', () => {
  onWarmStack(stack, () => {
    out = [];
    err = [];
  });

  it('start prints the task and export KUBECONFIG; check fails the start with reasons, passes after kubectl apply of the solution; stop clears it', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const lab = findLab('tcp-trap-addresses');
    const warm = readWarm(env)!;
    expect(await labStart(lab.name, deps)).toBe(0);
    expect(err.join('\n')).toMatch(/lab: using the warm stack \(egress-conformance up, .*\); lab stop leaves it up/);
    expect(stdout()).toContain(`export KUBECONFIG=${warm.kubeconfig}`);
    expect(stdout()).toContain(lab.task.split('\n')[0]);
    expect(JSON.parse(readFileSync(currentFile(), 'utf8'))).toMatchObject({
      lab: lab.name,
      handle: warm.runDir,
      kubeconfig: warm.kubeconfig,
    });
    expect(await labObjects(stack)).toEqual(startObjects(lab.name));

    out = [];
    expect(await labCheck(lab.name, {}, deps)).toBe(1);
    expect(stdout()).toMatch(
      /FAIL {2}4\. from frontend to tcp:\/\/198\.51\.100\.7:5432\n\s+expected {2}blocked via BlackHoleCluster: another address on 5432/,
    );
    expect(stdout()).toMatch(/got {7}allowed via outbound\|5432\|\|db\.example\.com/);
    expect(stdout()).toMatch(
      /istiod {4}listener 0\.0\.0\.0_5432 \(wildcard\) → chain filter_chains\[0\] → cluster outbound\|5432\|\|db\.example\.com/,
    );
    expect(stdout()).toMatch(/hint {6}frontend's sidecar knows 198\.51\.100\.7/);
    expect(stdout()).toMatch(/why {7}.*match-all TCP chain/);
    expect(stdout()).toMatch(/ok {4}9\. Istio objects changed only in frontend/);
    expect(stdout()).toMatch(/Score: 7\/11 checks \(64%\)/);
    // What start and check wrote to know istiod had caught up is out again: the candidate's `kubectl get`
    // shows no barrier ServiceEntry, and the mesh config they edit carries no generation marker.
    const seen = new ClientNodeK8s(warm.kubeconfig);
    const barrier = (await seen.list('networking.istio.io/v1', 'ServiceEntry')).filter((o) => /allocation-barrier/.test(o.metadata.name));
    expect(barrier).toEqual([]);
    expect((await readMeshConfig(seen))?.connectTimeout).toBe(warm.baseMesh.connectTimeout);

    await answer(stack, lab.solution);
    out = [];
    expect(await labCheck(lab.name, {}, deps)).toBe(0);
    expect(stdout()).toMatch(/Score: 11\/11 checks \(100%\)\nPASS: tcp-trap-addresses/);
    expect(stdout()).toContain('Why it works:');

    out = [];
    expect(await labStop(deps)).toBe(0);
    expect(stdout()).toMatch(/lab tcp-trap-addresses stopped/);
    expect(existsSync(currentFile())).toBe(false);
    // The warm stack was up's: it stays up, with the lab's objects gone and the mesh config as up installed it.
    const after = readWarm(env)!;
    expect(after.runDir).toBe(warm.runDir);
    expect(isUp(after)).toBe(true);
    const k8s = new ClientNodeK8s(warm.kubeconfig);
    const left = [...(await k8s.list('networking.istio.io/v1', 'ServiceEntry')), ...(await k8s.list('networking.istio.io/v1', 'Sidecar'))];
    expect(left.filter((o) => !o.metadata.labels?.['egress-conformance.io/run']).map((o) => o.metadata.name)).toEqual([]);
    expect(modeOf((await readMeshConfig(k8s))!)).toBe(modeOf(warm.baseMesh));
    await expect(labCheck(lab.name, {}, deps)).rejects.toThrow(/no lab is running/);

    out = [];
    labProgress(deps);
    expect(stdout()).toMatch(/tcp-trap-addresses\s+2\s+yes\s+11\/11\s+\S+\s+istiod \d/);
    expect(stdout()).toMatch(/Traffic Management\s+1\/\d+\s+\d{4}-\d\d-\d\d 82%/); // 64% then 100% on one day
  }, 300_000);

  it('a constraint failure says expected, got, where and a hint, even when every call behaves', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const lab = findLab('mesh-registry-only');
    expect(await labStart(lab.name, deps)).toBe(0);
    await answer(stack, lab.wrong.find((w) => /root-sidecar-and-frontend/.test(w.file))!.file);
    out = [];
    expect(await labCheck(lab.name, {}, deps)).toBe(1);
    expect(stdout()).not.toMatch(/FAIL {2}\d\. from/);
    expect(stdout()).toMatch(
      /FAIL {2}10\. the mesh config sets outboundTrafficPolicy REGISTRY_ONLY\n\s+expected {2}REGISTRY_ONLY: the task asks for the mesh-wide policy.*\n\s+got {7}ALLOW_ANY\n\s+where {5}ConfigMap istio-system\/istio/,
    );
    expect(stdout()).toMatch(/FAIL {2}11\. Sidecar frontend\/default left as they are\n.*\n\s+got {7}Sidecar frontend\/default changed/);
    expect(stdout()).toMatch(/FAIL {2}12\. no new Sidecar \*\/\*\n.*\n\s+got {7}Sidecar istio-system\/default/);
  }, 300_000);

  it('a second lab start finds the lab an earlier shell left running and removes it first', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    expect(await labStart('api-over-http', deps)).toBe(0);
    await answer(stack, findLab('api-over-http').solution); // the candidate's work, left behind with the lab
    expect(await labStart('postgres-serviceentry', deps)).toBe(0);
    expect(err.join('\n')).toMatch(/lab api-over-http .* is still recorded as running; it is removed first/);
    expect(err.join('\n')).toMatch(/lab: removing what an earlier lab or command left in the cluster: ServiceEntry /);
    expect(readCurrent(env)?.lab).toBe('postgres-serviceentry');
    expect(await labObjects(stack)).toEqual(startObjects('postgres-serviceentry'));
  }, 300_000);

  it('check -f works with no running lab (on the warm stack), and a file the cluster would refuse is refused', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    const lab = findLab('export-to-named-namespace');
    expect(await labCheck(lab.name, { file: [lab.wrong[0]!.file] }, deps)).toBe(1);
    expect(err.join('\n')).toMatch(/stack: using the warm stack/);
    expect(stdout()).toMatch(/FAIL {2}2\. from default to https:\/\/api\.example\.com\//);
    const f = join(dir, 'typo.yaml');
    writeFileSync(
      f,
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: fronted}\nspec: {hosts: [api.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}\n',
    );
    await expect(labCheck(lab.name, { file: [f] }, deps)).rejects.toThrow(/namespaces "fronted" not found/);
  }, 300_000);

  // Last: it ends the file's warm stack.
  it('check names the running lab when asked about another, and says so when its processes are gone', async (ctx) => {
    if (stack.missing) ctx.skip(`skipped: ${stack.missing}`);
    expect(await labStart('api-over-http', deps)).toBe(0);
    await expect(labCheck('postgres-serviceentry', {}, deps)).rejects.toThrow(
      /the running lab is api-over-http, not postgres-serviceentry/,
    );
    const istiod = readWarm(env)!.processes.find((p) => p.name === 'pilot-discovery')!;
    process.kill(istiod.pid, 'SIGKILL'); // the stack died with the shell
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(/lab api-over-http is no longer running .* lab start api-over-http/);
    // ... and the stale record is gone, so the next command says plainly that nothing runs.
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(UserError);
    await expect(labCheck('api-over-http', {}, deps)).rejects.toThrow(/no lab is running/);
  }, 300_000);
});
