// The client workloads and namespaces a kind run has made so far, so that each is made once: a scenario or a
// probe that names a namespace or a label set not seen yet gets its own, the others are reused.
import type { RunContext } from './context.ts';
import {
  clientFor,
  clientKey,
  controlClient,
  INJECTED_NAMESPACES,
  isInjected,
  namespaceManifests,
  type ClientSpec,
} from './phases/workloads.ts';
import type { K8sObject } from './runner.ts';

export class Roster {
  private readonly clients = new Map<string, ClientSpec>();
  private readonly namespaces = new Set<string>();

  constructor(private readonly ctx: RunContext) {
    for (const ns of INJECTED_NAMESPACES) this.add(clientFor({ namespace: ns }));
    this.add(controlClient());
  }

  /** False when the client is already on the roster. */
  add(c: ClientSpec): boolean {
    if (this.clients.has(clientKey(c))) return false;
    this.clients.set(clientKey(c), c);
    return true;
  }

  has(c: ClientSpec): boolean {
    return this.clients.has(clientKey(c));
  }

  all(): ClientSpec[] {
    return [...this.clients.values()];
  }

  injected(): ClientSpec[] {
    return this.all().filter(isInjected);
  }

  /** The namespaces setup makes: the fixed ones and every client's so far. */
  setupNamespaces(): K8sObject[] {
    const manifests = namespaceManifests(
      this.ctx,
      this.all().map((c) => c.namespace),
    );
    manifests.forEach((n) => this.namespaces.add(n.metadata.name));
    return manifests;
  }

  /**
   * The manifests of a scenario's namespaces not made yet; undefined when every one is. Only the namespaces
   * a manifest comes back for count as made, so one the run never makes (istio-system) is asked about again.
   */
  scenarioNamespaces(names: string[]): K8sObject[] | undefined {
    const fresh = [...new Set(names)].filter((ns) => !this.namespaces.has(ns));
    if (!fresh.length) return undefined;
    const manifests = namespaceManifests(this.ctx, fresh).filter((n) => fresh.includes(n.metadata.name));
    manifests.forEach((n) => this.namespaces.add(n.metadata.name));
    return manifests;
  }

  /** The manifest of a new client's namespace; undefined when it is made already. */
  clientNamespace(client: ClientSpec): K8sObject[] | undefined {
    if (this.namespaces.has(client.namespace)) return undefined;
    this.namespaces.add(client.namespace);
    return namespaceManifests(this.ctx, [client.namespace]).filter((n) => n.metadata.name === client.namespace);
  }
}
