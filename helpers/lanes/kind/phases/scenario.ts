// A scenario's ServiceEntries and Sidecars: applied labelled with the run and annotated with the apply
// generation (helpers/k8s/manifests.ts), deleted (and waited gone) when the scenario is cleared.
import { scenarioObjects } from '../../../k8s/manifests.ts';
import { syncScenarioObjects } from '../../../k8s/workloads.ts';
import type { PolicyMode, ResourceSet } from '../../../model/types.ts';
import type { RunContext } from '../context.ts';
import { refOf } from '../../../k8s/client.ts';
import type { K8sObject, Runner } from '../runner.ts';
import { objectKey, type RunState } from '../state.ts';

/** Applies the scenario at the next generation; returns what was applied. */
export async function applyScenarioObjects(
  r: Runner,
  ctx: RunContext,
  state: RunState,
  name: string,
  policy: PolicyMode,
  resources: ResourceSet,
): Promise<K8sObject[]> {
  state.generation++;
  const objects = scenarioObjects(resources, ctx.runId, state.generation);
  await r.step(`scenario ${name} (${policy}): apply ${objects.length} resource(s) at generation ${state.generation}`, async () => {
    for (const o of objects) state.scenarioObjects.set(objectKey(refOf(o)), refOf(o));
    // Applies them and deletes any other ServiceEntry or Sidecar labelled with this run.
    const removed = await syncScenarioObjects(r.kube, objects, ctx.runId);
    for (const key of removed) state.scenarioObjects.delete(key);
    if (removed.length) r.note(`removed this run's leftovers: ${removed.join(', ')}`);
  });
  return objects;
}

export async function deleteScenarioObjects(
  r: Runner,
  ctx: RunContext,
  state: RunState,
  title: string,
  objects: K8sObject[],
): Promise<void> {
  await r.step(title, async () => {
    for (const o of [...objects].reverse()) {
      const ref = refOf(o);
      await r.delete(ref);
      state.scenarioObjects.delete(objectKey(ref));
      await r.waitFor(
        `${ref.kind} ${ref.namespace}/${ref.name} deleted`,
        ctx.timeouts.deployment,
        async (k) => ((await k.get(ref)) ? undefined : true),
        { assumed: true },
      );
    }
  });
}

/** Cleanup on a cluster that outlives the run (--keep, --reuse): scenario objects an interrupted run left. */
export async function removeScenarioLeftovers(r: Runner, state: RunState): Promise<void> {
  for (const ref of [...state.scenarioObjects.values()].reverse()) {
    try {
      await r.delete(ref);
      state.scenarioObjects.delete(objectKey(ref));
    } catch (err) {
      r.note(`(cleanup) delete ${ref.kind} ${ref.namespace}/${ref.name}: ${(err as Error).message}`);
    }
  }
}
