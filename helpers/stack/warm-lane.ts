// A Lane over the warm stack: each scenario is written into the running cluster (its ServiceEntries and
// Sidecars labelled with the stack's run id, the mesh config as `up` installed it with the scenario's
// meshConfig and policy over it), then the lane's live barrier waits until istiod has pushed exactly
// that, and probes are observed as on a fresh stack. Teardown leaves the stack running for the next
// command; the next scenario replaces this one's objects.
import type { Observation, PolicyMode, Probe, ProbeSource, ResourceSet } from '../model/types.ts';
import type { Lane, LaneInfo, ScenarioHandle } from '../lanes/lane.ts';
import type { ControlPlaneLane, LaneState } from '../lanes/control-plane/lane.ts';
import { NO_RESOURCES } from '../lanes/control-plane/pods.ts';
import { ClientNodeK8s, type K8sOps } from '../k8s/client.ts';
import { deepMerge, meshConfigOf, namespaceObjects, scenarioObjects } from '../k8s/manifests.ts';
import { ensureNamespaces, syncScenarioObjects } from '../k8s/workloads.ts';
import { writeMeshConfig } from '../k8s/istio.ts';
import type { WarmRecord } from './warm.ts';

type Obj = Record<string, unknown>;

/** The mesh config a scenario runs under on the warm stack (as istioOperatorFor merges it on a fresh one). */
export function warmMesh(base: Obj, resources: ResourceSet, policy: PolicyMode): Obj {
  const mesh = deepMerge(base, meshConfigOf(resources.mesh));
  mesh.outboundTrafficPolicy = { ...((mesh.outboundTrafficPolicy as Obj | undefined) ?? {}), mode: policy };
  return mesh;
}

export class WarmLane implements Lane {
  private generation = 0;
  private constructor(
    private readonly rec: WarmRecord,
    private readonly live: ControlPlaneLane,
    private readonly k8s: K8sOps,
  ) {}

  static async attach(rec: WarmRecord, say?: (line: string) => void): Promise<WarmLane> {
    const { ControlPlaneLane } = await import('../lanes/control-plane/lane.ts');
    const live = ControlPlaneLane.attach(rec.providerState as LaneState, say ? { onProgress: say } : {});
    return new WarmLane(rec, live, new ClientNodeK8s(rec.kubeconfig));
  }

  /** The labels this stack's scenario objects carry; each scenario replaces the last one's. */
  get runId(): string {
    return (this.rec.providerState as LaneState).runId;
  }

  async setup(): Promise<LaneInfo> {
    return {
      lane: 'control-plane',
      istioVersion: this.rec.build.istioVersion,
      details: {
        goModuleVersion: this.rec.build.goModuleVersion,
        stack: `warm (egress-conformance up, started ${this.rec.startedAt})`,
        kubeconfig: this.rec.kubeconfig,
        ...this.rec.endpoints,
      },
    };
  }

  podsFor(resources: ResourceSet, sources: ProbeSource[]): ProbeSource[] {
    return this.live.podsFor(resources, sources);
  }

  async applyScenario(name: string, policy: PolicyMode, resources: ResourceSet, sources: ProbeSource[] = []): Promise<ScenarioHandle> {
    // The Pods first, as on a fresh stack: the barrier below is then taken with them in the cluster.
    await this.live.syncPods(resources, sources);
    const objects = scenarioObjects(resources, this.runId, ++this.generation);
    const namespaces = new Set(objects.map((o) => o.metadata.namespace!));
    await ensureNamespaces(
      this.k8s,
      namespaceObjects([...namespaces], { inject: false, runId: this.runId }).filter((n) => namespaces.has(n.metadata.name)),
      { serviceAccount: false },
    );
    await syncScenarioObjects(this.k8s, objects, this.runId);
    // The barrier over the whole cluster: allocator, istiod's store, and the scenario's mesh written with
    // its marker (one write, so istiod reloads the mesh once) and seen in a push.
    await this.live.syncLive(warmMesh(this.rec.baseMesh, resources, policy));
    return { name, policy };
  }

  async observe(_handle: ScenarioHandle, probe: Probe): Promise<Observation> {
    return this.live.observeLive(probe);
  }

  withFreshControlPlane<T>(fn: () => Promise<T>): Promise<T> {
    return this.live.withFreshControlPlane(fn);
  }

  /** Removes the scenario's objects and puts the installed mesh config back; the next sync waits for istiod. */
  async clearScenario(_handle: ScenarioHandle): Promise<void> {
    await syncScenarioObjects(this.k8s, [], this.runId);
    await writeMeshConfig(this.k8s, this.rec.baseMesh);
    // The scenario's own Pods go; the plain clients stay for the next command.
    await this.live.syncPods(NO_RESOURCES, []);
  }

  async diagnose(probe: Probe, dir: string): Promise<string[]> {
    return this.live.diagnose(probe, dir);
  }

  async teardown(): Promise<void> {
    await this.live.teardown(); // attached: leaves the processes running
  }
}
