// What a run has learnt so far, kept so that cleanup removes exactly what this run created.
import type { ObjectRef } from './runner.ts';
import type { ServerName } from './servers.ts';

export interface RunState {
  /** Facts for reports: Docker version, the kind network's subnets. */
  facts: Record<string, string>;
  /**
   * True once this run has started creating the cluster (it did not exist before): cleanup may delete it.
   * Cleared when `kind create` says the cluster already exists (another run won the race for the name).
   */
  ownsCluster: boolean;
  clusterReady: boolean;
  /** The server containers' addresses on the kind network. */
  serverIps: Partial<Record<ServerName, string>>;
  /** Scenario resources applied and not yet deleted. */
  scenarioObjects: Map<string, ObjectRef>;
  /** Per client pod, the access-log lines already attributed (so each probe reads only its own). */
  logCursors: Map<string, Set<string>>;
  /** Apply generation: annotated on scenario objects and carried by the mesh config marker. */
  generation: number;
}

export function newRunState(): RunState {
  return {
    facts: {},
    ownsCluster: false,
    clusterReady: false,
    serverIps: {},
    scenarioObjects: new Map(),
    logCursors: new Map(),
    generation: 0,
  };
}

export function objectKey(r: ObjectRef): string {
  return `${r.kind}/${r.namespace ?? ''}/${r.name}`;
}
