// One meshConfig reader for IstioOperator files and case files: the same shapes accepted, the same
// mistakes refused, each message naming the field as it is written in that kind of file.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../model/errors.ts';
import { loadCatalogue } from '../catalogue/load.ts';
import { emptyResources, loadYamlText } from './load.ts';
import { parseMeshConfig } from './mesh-config.ts';

const root = mkdtempSync(join(tmpdir(), 'egress-meshconfig-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fail = (what: string): never => {
  throw new UserError(what);
};
const message = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

/** The message for this meshConfig (as YAML flow text) from an IstioOperator and from a case file. */
function bothMessages(meshConfig: string): { iop: string; caseFile: string } {
  const iop = message(() =>
    loadYamlText(
      `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {meshConfig: ${meshConfig}}\n`,
      'iop.yaml',
      emptyResources(),
    ),
  );
  const dir = mkdtempSync(join(root, 'cases-'));
  writeFileSync(join(dir, 'c.yaml'), `name: c\nmeshConfig: ${meshConfig}\nprobes: [{from: default, to: "tcp://a.example.com:1"}]\n`);
  const caseFile = message(() => loadCatalogue(dir, root, { requirePins: false }));
  return { iop, caseFile };
}

describe('parseMeshConfig', () => {
  it('reads the fields the oracle uses', () => {
    expect(
      parseMeshConfig(
        {
          defaultServiceExportTo: ['.'],
          rootNamespace: 'mesh-root',
          defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } },
          outboundTrafficPolicy: {},
        },
        'meshConfig',
        fail,
      ),
    ).toMatchObject({
      defaultServiceExportTo: ['.'],
      rootNamespace: 'mesh-root',
      dnsCapture: true,
      outboundTrafficPolicy: 'REGISTRY_ONLY',
    });
    expect(parseMeshConfig(undefined, 'meshConfig', fail)).toEqual({ meshConfig: {} });
  });

  it.each([
    ['{rootNamespace: 5}', 'rootNamespace must be a namespace name'],
    ['{defaultServiceExportTo: "*"}', 'defaultServiceExportTo must be a list of strings'],
    ['{defaultConfig: {proxyMetadata: {ISTIO_META_DNS_CAPTURE: true}}}', 'defaultConfig.proxyMetadata must map names to strings'],
    ['[1]', 'must be a mapping'],
  ])('%s is refused the same way in an IstioOperator and in a case file', (mc, what) => {
    const { iop, caseFile } = bothMessages(mc);
    expect(iop).toContain(`iop.yaml (document 1): spec.meshConfig${what.startsWith('must') ? ' ' : '.'}${what}`);
    expect(caseFile).toContain(`c.yaml: meshConfig${what.startsWith('must') ? ' ' : '.'}${what}`);
  });

  it('a case file may not set the policy; a lower-case mode gets the upper-case spelling', () => {
    expect(bothMessages('{outboundTrafficPolicy: {mode: ALLOW_ANY}}').caseFile).toMatch(
      /c\.yaml: meshConfig\.outboundTrafficPolicy is set per run by policies:/,
    );
    expect(bothMessages('{outboundTrafficPolicy: {mode: allow_any}}').iop).toMatch(
      /"allow_any" is not ALLOW_ANY or REGISTRY_ONLY \(Istio's values are upper-case: write ALLOW_ANY\)/,
    );
    const dir = join(root, 'lower-policies');
    mkdirSync(dir);
    writeFileSync(join(dir, 'c.yaml'), 'name: c\npolicies: [registry_only]\nprobes: [{from: default, to: "tcp://a.example.com:1"}]\n');
    expect(message(() => loadCatalogue(dir, root, { requirePins: false }))).toMatch(
      /policies must list one or more of ALLOW_ANY, REGISTRY_ONLY or ALLOW_ANY_DYNAMIC_DNS \("registry_only" is not one\) \(Istio's values are upper-case: write REGISTRY_ONLY\)/,
    );
  });
});
