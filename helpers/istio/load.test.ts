// Bad input is reported with the file and document, as Istio's admission would reject it.
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from './load.ts';
import { UserError } from '../cli/errors.ts';

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
    expect(r.serviceEntries[0]).toMatchObject({ namespace: 'default', resolution: 'NONE', location: 'MESH_EXTERNAL', ports: [{ number: 80, protocol: 'HTTP' }] });
    expect(r.sidecars[0]).toMatchObject({ namespace: 'frontend', egress: [{ hosts: ['./*'] }] });
    expect(notes).toEqual([expect.stringMatching(/in\.yaml \(document 4\): ConfigMap ignored/)]);
  });

  it('names the document of a YAML syntax error', () => rejects('a: 1\n---\nb: [\n', /in\.yaml \(document 2\): not valid YAML/));
  it('rejects documents that are not resources', () => rejects('- 1\n- 2\n', /expected a Kubernetes resource/));
  it('rejects an unsupported apiVersion', () => rejects('apiVersion: networking.istio.io/v2\nkind: ServiceEntry\n', /not supported/));
  it('rejects a schema violation', () => rejects(seHead + 'spec: {hosts: a.example.com}\n', /does not match the ServiceEntry schema: spec\.hosts must be array/));
  it('rejects an unknown mesh policy', () => rejects('apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {meshConfig: {outboundTrafficPolicy: {mode: DENY}}}\n', /"DENY" is not ALLOW_ANY or REGISTRY_ONLY/));
  it('rejects a second IstioOperator', () => rejects('apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n---\napiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n', /a second IstioOperator/));
});

describe('ServiceEntry admission rules (pkg/config/validation/validation.go ValidateServiceEntry)', () => {
  const cases: [string, string, RegExp][] = [
    ['no host', 'spec: {hosts: [], ports: [{number: 1, name: a}]}', /at least one host/],
    ['"*" as a host', 'spec: {hosts: ["*"]}', /host "\*" is not allowed/],
    ['a bad host name', 'spec: {hosts: ["Db_.example.com"]}', /not a valid DNS name/],
    ['an all-digit top-level domain', 'spec: {hosts: ["a.b.123"]}', /all digits/],
    ['a wildcard host with DNS and no endpoints', 'spec: {hosts: ["*.example.com"], resolution: DNS}', /wildcard hosts with resolution DNS need endpoints/],
    ['duplicate port numbers', 'spec: {hosts: [a.example.com], ports: [{number: 80, name: a}, {number: 80, name: b}]}', /port 80 is declared twice/],
    ['duplicate port names', 'spec: {hosts: [a.example.com], ports: [{number: 80, name: a}, {number: 81, name: a}]}', /"a" is used twice/],
    ['an unknown protocol', 'spec: {hosts: [a.example.com], ports: [{number: 80, name: a, protocol: SMTP}]}', /not a protocol Istio knows/],
    ['a port out of range', 'spec: {hosts: [a.example.com], ports: [{number: 70000, name: a}]}', /not a port number/],
    ['a CIDR with DNS resolution', 'spec: {hosts: [a.example.com], addresses: [10.0.0.0/8], resolution: DNS}', /CIDR ranges are only allowed with resolution NONE or STATIC/],
    ['a bad address', 'spec: {hosts: [a.example.com], addresses: [10.0.0.300]}', /not an IP address or CIDR/],
    ['endpoints with NONE', 'spec: {hosts: [a.example.com], endpoints: [{address: 1.2.3.4}]}', /no endpoints may be given with resolution NONE/],
    ['STATIC without endpoints', 'spec: {hosts: [a.example.com], resolution: STATIC}', /STATIC needs endpoints/],
    ['STATIC with a DNS endpoint', 'spec: {hosts: [a.example.com], resolution: STATIC, endpoints: [{address: x.example.com}]}', /must be an IP address/],
    ['DNS_ROUND_ROBIN with two endpoints', 'spec: {hosts: [a.example.com], resolution: DNS_ROUND_ROBIN, endpoints: [{address: 1.1.1.1}, {address: 2.2.2.2}]}', /at most one endpoint/],
    ['several hosts with a TCP port and DNS', 'spec: {hosts: [a.example.com, b.example.com], resolution: DNS, ports: [{number: 5432, name: t, protocol: TCP}]}', /several hosts with a non-HTTP, non-TLS port/],
    ['several hosts with an unset-protocol port and DNS', 'spec: {hosts: [a.example.com, b.example.com], resolution: DNS, ports: [{number: 5432, name: t}]}', /several hosts/],
    ['"*" combined in exportTo', 'spec: {hosts: [a.example.com], exportTo: ["*", "."]}', /"\*" \(public\) cannot be combined/],
    ['"~" combined in exportTo', 'spec: {hosts: [a.example.com], exportTo: ["~", "default"]}', /"~" \(no one\) cannot be combined/],
    ['"." and the own namespace in exportTo', 'spec: {hosts: [a.example.com], exportTo: [".", frontend]}', /both name the resource's own namespace/],
    ['workloadSelector with endpoints', 'spec: {hosts: [a.example.com], resolution: STATIC, workloadSelector: {labels: {a: b}}, endpoints: [{address: 1.1.1.1}]}', /only one of workloadSelector or endpoints/],
    ['an unknown resolution', 'spec: {hosts: [a.example.com], resolution: MAGIC}', /spec\.resolution "MAGIC" must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN/],
  ];
  it.each(cases)('rejects %s', (_name, spec, message) => rejects(seHead + spec + '\n', message));

  it('accepts what Istio accepts: several hosts with HTTP/TLS ports and DNS; a partial wildcard (only a warning); a wildcard with NONE', () => {
    expect(() => load(seHead + 'spec: {hosts: [a.example.com, b.example.com], resolution: DNS, ports: [{number: 80, name: h, protocol: HTTP}, {number: 443, name: t, protocol: TLS}]}\n')).not.toThrow();
    expect(() => load(seHead + 'spec: {hosts: ["*foo.example.com"], ports: [{number: 443, name: t, protocol: TLS}]}\n')).not.toThrow();
    expect(() => load(seHead + 'spec: {hosts: ["*.example.com"], resolution: NONE, ports: [{number: 443, name: t, protocol: TLS}]}\n')).not.toThrow();
  });
});

describe('Sidecar admission rules (ValidateSidecar)', () => {
  const head = 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s}\n';
  const cases: [string, string, RegExp][] = [
    ['an empty Sidecar', 'spec: {}', /needs egress, ingress or outboundTrafficPolicy/],
    ['a host without namespace', 'spec: {egress: [{hosts: ["db.example.com"]}]}', /must be namespace\/dnsName/],
    ['a short name', 'spec: {egress: [{hosts: ["./db"]}]}', /short name/],
    ['a partial wildcard', 'spec: {egress: [{hosts: ["./*db.example.com"]}]}', /partial wildcard/],
    ['a port-less listener before another', 'spec: {egress: [{hosts: ["./*"]}, {port: {number: 80, name: http, protocol: HTTP}, hosts: ["./*"]}]}', /must be the last one/],
    ['an egress listener without hosts', 'spec: {egress: [{hosts: []}]}', /at least one host/],
    ['an unknown mode', 'spec: {outboundTrafficPolicy: {mode: DENY}}', /spec\.outboundTrafficPolicy\.mode "DENY" must be one of REGISTRY_ONLY, ALLOW_ANY/],
    ['egressProxy without ALLOW_ANY', 'spec: {outboundTrafficPolicy: {mode: REGISTRY_ONLY, egressProxy: {host: e.example.com, port: {number: 80}}}}', /egressProxy is only allowed with mode ALLOW_ANY/],
  ];
  it.each(cases)('rejects %s', (_name, spec, message) => rejects(head + spec + '\n', message));
});
