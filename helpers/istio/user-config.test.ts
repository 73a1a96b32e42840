// Configuration as users have it: `kubectl get -o yaml` output (a List, with status and server metadata),
// the mesh ConfigMap istiod reads, and loud notes for kinds that change egress but are not modelled.
import { describe, expect, it } from 'vitest';
import { UserError } from '../model/errors.ts';
import { emptyResources, loadYamlText } from './load.ts';

const load = (yaml: string, notes: string[] = []) => loadYamlText(yaml, 'in.yaml', emptyResources(), notes);

const SE = `apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: db, namespace: frontend, resourceVersion: "123", uid: abc, creationTimestamp: "2026-01-01T00:00:00Z"}
  spec: {hosts: [db.example.com], ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: DNS}
  status: {addresses: [{value: 240.240.0.1, host: db.example.com}], conditions: [{type: Reconciled, status: "True"}], observedGeneration: "1"}`;

describe('kind: List, as kubectl get -o yaml writes it', () => {
  it('reads every item, status and server metadata included, and names items by position', () => {
    const notes: string[] = [];
    const r = load(
      `apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- ${SE}
- apiVersion: networking.istio.io/v1
  kind: Sidecar
  metadata: {name: default, namespace: frontend}
  spec: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: frontend}
  spec: {}
`,
      notes,
    );
    expect(r.serviceEntries.map((s) => `${s.namespace}/${s.name}`)).toEqual(['frontend/db']);
    expect(r.serviceEntries[0]?.source).toEqual({ file: 'in.yaml', doc: 1, item: 1 });
    expect(r.serviceEntries[0]?.manifest.status).toBeUndefined();
    expect(r.sidecars.map((s) => s.outboundTrafficPolicy)).toEqual(['REGISTRY_ONLY']);
    expect(notes).toEqual(['in.yaml (document 1, item 3): Deployment frontend/web ignored (it does not change what a sidecar lets out)']);
  });

  it('an invalid item is named by document and item', () => {
    const bad = `apiVersion: v1\nkind: List\nitems:\n- ${SE}\n- apiVersion: networking.istio.io/v1\n  kind: ServiceEntry\n  metadata: {name: x}\n  spec: {hosts: []}\n`;
    expect(() => load(bad)).toThrow(UserError);
    expect(() => load(bad)).toThrow(/in\.yaml \(document 1, item 2\): ServiceEntry/);
  });

  it('a typed list (ServiceEntryList) is read too; a List without items is bad input', () => {
    const r = load(`apiVersion: networking.istio.io/v1\nkind: ServiceEntryList\nitems:\n- ${SE}\n`);
    expect(r.serviceEntries).toHaveLength(1);
    expect(() => load('apiVersion: v1\nkind: List\n')).toThrow(/List needs items/);
  });
});

describe('ConfigMap istio-system/istio (the mesh config istiod reads)', () => {
  const CM = (mesh: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  meshNetworks: 'networks: {}'
  mesh: |-
${mesh
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;

  it('sets the mesh policy, defaultServiceExportTo and DNS capture as an IstioOperator would', () => {
    const r = load(
      CM(
        'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\ndefaultServiceExportTo: ["."]\ndefaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"',
      ),
    );
    expect(r.mesh.outboundTrafficPolicy).toBe('REGISTRY_ONLY');
    expect(r.mesh.defaultServiceExportTo).toEqual(['.']);
    expect(r.mesh.dnsCapture).toBe(true);
    expect(r.mesh.source).toEqual({ file: 'in.yaml', doc: 1 });
  });

  it('outboundTrafficPolicy present without mode is REGISTRY_ONLY (the enum zero value), as in an IstioOperator', () => {
    expect(load(CM('outboundTrafficPolicy: {}')).mesh.outboundTrafficPolicy).toBe('REGISTRY_ONLY');
  });

  it('beside an IstioOperator is refused: two mesh configs', () => {
    const iop = 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: x}\nspec: {meshConfig: {}}\n';
    expect(() => load(`${iop}---\n${CM('{}')}`)).toThrow(/in\.yaml \(document 2\): a second mesh config/);
  });

  it('broken mesh YAML and a wrong mode name the document and field', () => {
    expect(() => load(CM('outboundTrafficPolicy: [oops'))).toThrow(/document 1\): data\.mesh is not valid YAML/);
    expect(() => load(CM('outboundTrafficPolicy: {mode: registry_only}'))).toThrow(/data\.mesh\.outboundTrafficPolicy\.mode/);
  });

  it('another ConfigMap is ignored with a note that says which one counts', () => {
    const notes: string[] = [];
    const r = load('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: default}\ndata: {a: b}\n', notes);
    expect(r.mesh.source).toBeUndefined();
    expect(notes[0]).toMatch(/ConfigMap default\/app ignored \(only ConfigMap istio-system\/istio/);
  });
});

describe('kinds that change egress but are not modelled are said aloud', () => {
  it.each([
    ['networking.istio.io/v1alpha3', 'EnvoyFilter'],
    ['networking.istio.io/v1', 'WorkloadEntry'],
    ['security.istio.io/v1', 'AuthorizationPolicy'],
    ['v1', 'Service'],
    ['networking.k8s.io/v1', 'NetworkPolicy'],
    ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
    ['gateway.networking.k8s.io/v1', 'Gateway'],
  ])('%s %s', (api, kind) => {
    const notes: string[] = [];
    load(`apiVersion: ${api}\nkind: ${kind}\nmetadata: {name: n, namespace: ns}\nspec: {}\n`, notes);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      new RegExp(`^in\\.yaml \\(document 1\\): NOT MODELLED: ${kind} ns/n .+; the answers here do not account for it$`),
    );
  });
});
