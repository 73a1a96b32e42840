// Fields the oracle does not follow are said aloud, never silently defaulted.
import { describe, expect, it } from 'vitest';
import { emptyResources, loadYamlText } from '../istio/load.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { PINNED } from '../tools/versions.ts';
import { expectProbe } from './index.ts';

const sidecar = (egress: string) =>
  loadYamlText(
    `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: default}
spec: {egress: [${egress}]}
`,
    'test.yaml',
    emptyResources(),
  );
const reason = (egress: string, to: string) =>
  expectProbe(
    sidecar(egress),
    { from: { namespace: 'default' }, to: parseProbeUrl(to) },
    {
      istioVersion: PINNED.controlPlane.istioVersion,
      policy: 'ALLOW_ANY',
    },
  ).reason;

describe('Sidecar egress bind and captureMode (listener.go buildSidecarOutboundListeners)', () => {
  it("says a non-wildcard bind on the probe's port is not modelled", () => {
    expect(reason('{port: {number: 80, protocol: HTTP, name: h}, bind: 127.0.0.1, hosts: ["*/*"]}', 'http://a.example.com/')).toMatch(
      /^not modelled: Sidecar egress bind 127\.0\.0\.1; /,
    );
  });

  it('says captureMode NONE is not modelled, on the port-less listener too', () => {
    expect(reason('{captureMode: NONE, hosts: ["*/*"]}', 'tcp://a.example.com:7000')).toContain(
      'not modelled: Sidecar egress captureMode NONE',
    );
  });

  it('is silent for the wildcard bind, other ports, and the default capture', () => {
    expect(
      reason('{port: {number: 80, protocol: HTTP, name: h}, bind: 0.0.0.0, captureMode: DEFAULT, hosts: ["*/*"]}', 'http://a.example.com/'),
    ).not.toContain('not modelled');
    expect(
      reason('{port: {number: 80, protocol: HTTP, name: h}, bind: 127.0.0.1, hosts: ["*/*"]}', 'tcp://a.example.com:7000'),
    ).not.toContain('not modelled');
  });
});
