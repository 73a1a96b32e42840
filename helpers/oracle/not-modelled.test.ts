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
const ask = (egress: string, to: string) =>
  expectProbe(
    sidecar(egress),
    { from: { namespace: 'default' }, to: parseProbeUrl(to) },
    {
      istioVersion: PINNED.controlPlane.istioVersion,
      policy: 'ALLOW_ANY',
    },
  );
const reason = (egress: string, to: string) => ask(egress, to).reason;

describe('Sidecar egress bind and captureMode (listener.go buildSidecarOutboundListeners)', () => {
  // A bind puts the egress listener's listeners on that address, captureMode NONE binds them to the port: a
  // captured call to another address finds no listener for the port (corpus master-2026-08-27 s64-2#2, s86-13#9).
  it("a non-wildcard bind on the probe's port leaves the call to virtualOutbound", () => {
    const e = ask('{port: {number: 80, protocol: HTTP, name: h}, bind: 127.0.0.1, hosts: ["*/*"]}', 'http://a.example.com/');
    expect(e.listener).toBe('virtualOutbound');
    expect(e.reason).not.toContain('not modelled');
  });

  it('so does captureMode NONE, on the port-less listener too', () => {
    expect(ask('{captureMode: NONE, hosts: ["*/*"]}', 'tcp://a.example.com:7000').listener).toBe('virtualOutbound');
  });

  it('says HTTP chains on a bound address are not modelled where the call dials it', () => {
    // listener.go gives HTTP on a bind other than 0.0.0.0 no ALPN match and a sniffed service a route of its own.
    expect(reason('{port: {number: 80, protocol: HTTP, name: h}, bind: 127.0.0.1, hosts: ["*/*"]}', 'http://127.0.0.1/')).toContain(
      'not modelled: HTTP chains on a Sidecar egress bind other than 0.0.0.0 (127.0.0.1_80)',
    );
  });

  it('a port-less listener builds the port on 0.0.0.0, a key the bound port listener left free (listener.go locks keys, not ports)', () => {
    const e = ask(
      '{port: {number: 80, protocol: HTTP, name: h}, bind: 127.0.0.1, hosts: ["*/*"]}, {hosts: ["*/*"]}',
      'http://a.example.com/',
    );
    expect(e.listener).toBe('0.0.0.0_80');
    expect(e.reason).not.toContain('not modelled');
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
