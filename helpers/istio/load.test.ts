// Bad input is reported with the file and document, as Istio's admission would reject it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { emptyResources, loadYamlText } from './load.ts';
import { UserError } from '../model/errors.ts';

const load = (yaml: string, notes: string[] = []) => loadYamlText(yaml, 'in.yaml', emptyResources(), notes);

function rejects(yaml: string, message: RegExp) {
  let err: unknown;
  try {
    load(yaml);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toMatch(message);
}

const seHead = 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: x, namespace: frontend}\n';

describe('loading resources', () => {
  it('reads IstioOperator, ServiceEntry and Sidecar; other kinds get a note; no namespace means default', () => {
    const notes: string[] = [];
    const r = load(
      `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {meshConfig: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}, rootNamespace: root, defaultServiceExportTo: ["."]}}\n---\n` +
        `apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: a}\nspec: {hosts: [a.example.com], ports: [{number: 80, name: http, protocol: http}]}\n---\n` +
        `apiVersion: networking.istio.io/v1alpha3\nkind: Sidecar\nmetadata: {name: s, namespace: frontend}\nspec: {egress: [{hosts: ["./*"]}]}\n---\n` +
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n`,
      notes,
    );
    expect(r.mesh).toMatchObject({ outboundTrafficPolicy: 'REGISTRY_ONLY', rootNamespace: 'root', defaultServiceExportTo: ['.'] });
    expect(r.serviceEntries[0]).toMatchObject({
      namespace: 'default',
      resolution: 'NONE',
      location: 'MESH_EXTERNAL',
      ports: [{ number: 80, protocol: 'HTTP' }],
    });
    expect(r.sidecars[0]).toMatchObject({ namespace: 'frontend', egress: [{ hosts: ['./*'] }] });
    expect(notes).toEqual([expect.stringMatching(/in\.yaml \(document 4\): ConfigMap c ignored/)]);
  });

  it('names the document of a YAML syntax error', () => rejects('a: 1\n---\nb: [\n', /in\.yaml \(document 2\): not valid YAML/));
  it('rejects documents that are not resources', () => rejects('- 1\n- 2\n', /expected a Kubernetes resource/));
  it('rejects an unsupported apiVersion', () => rejects('apiVersion: networking.istio.io/v2\nkind: ServiceEntry\n', /not supported/));
  it('rejects a schema violation', () =>
    rejects(`${seHead}spec: {hosts: a.example.com}\n`, /does not match the ServiceEntry schema: spec\.hosts must be array/));
  it('rejects an unknown mesh policy', () =>
    rejects(
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {meshConfig: {outboundTrafficPolicy: {mode: DENY}}}\n',
      /"DENY" is not ALLOW_ANY or REGISTRY_ONLY/,
    ));
  it('rejects mesh settings of the wrong shape', () => {
    rejects(
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {meshConfig: {defaultConfig: {proxyMetadata: 5}}}\n',
      /proxyMetadata must map names to strings/,
    );
    rejects(
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {meshConfig: {outboundTrafficPolicy: REGISTRY_ONLY}}\n',
      /outboundTrafficPolicy must be a mapping/,
    );
  });
  it('rejects a second IstioOperator', () =>
    rejects(
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n---\napiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n',
      /a second IstioOperator/,
    ));
});

interface ValidationCase {
  name: string;
  spec: string;
  /** Pattern of our message when Istio rejects it; absent when Istio accepts it. */
  rejects?: string;
}

const validation = parse(readFileSync(fileURLToPath(new URL('../../fixtures/validation/cases.yaml', import.meta.url)), 'utf8')) as Record<
  'serviceEntry' | 'sidecar',
  ValidationCase[]
>;
const seHeadOf = seHead;
const scHead = 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s, namespace: frontend}\n';

describe('ServiceEntry admission rules (pkg/config/validation/validation.go ValidateServiceEntry)', () => {
  it.each(validation.serviceEntry.filter((c) => c.rejects).map((c) => [c.name, c] as const))('rejects %s', (_n, c) =>
    rejects(`${seHeadOf}spec: ${c.spec}\n`, new RegExp(c.rejects!)),
  );
  it.each(validation.serviceEntry.filter((c) => !c.rejects).map((c) => [c.name, c] as const))('accepts %s', (_n, c) => {
    expect(() => load(`${seHeadOf}spec: ${c.spec}\n`)).not.toThrow();
  });
});

describe('Sidecar admission rules (ValidateSidecar)', () => {
  it.each(validation.sidecar.filter((c) => c.rejects).map((c) => [c.name, c] as const))('rejects %s', (_n, c) =>
    rejects(`${scHead}spec: ${c.spec}\n`, new RegExp(c.rejects!)),
  );
  it.each(validation.sidecar.filter((c) => !c.rejects).map((c) => [c.name, c] as const))('accepts %s', (_n, c) => {
    expect(() => load(`${scHead}spec: ${c.spec}\n`)).not.toThrow();
  });
});
