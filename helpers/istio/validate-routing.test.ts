// Admission of Gateway, VirtualService and DestinationRule: our checks on fixtures/validation/routing-cases.yaml,
// and the real `istioctl validate` of the pinned build agreeing on accept/reject (skipped until it is built).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findIstioctlBuildSync } from '../tools/pilot-locate.ts';
import { emptyResources, loadYamlText } from './load.ts';

const FIX = fileURLToPath(new URL('../../fixtures/', import.meta.url));
type Kind = 'gateway' | 'virtualService' | 'destinationRule';
const cases = parse(readFileSync(join(FIX, 'validation/routing-cases.yaml'), 'utf8')) as Record<
  Kind,
  { name: string; spec: string; rejects?: string }[]
>;
const heads: Record<Kind, string> = {
  gateway: 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: istio-egressgateway, namespace: frontend}\n',
  virtualService: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: frontend}\n',
  destinationRule: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: frontend}\n',
};
const all = (Object.keys(heads) as Kind[]).flatMap((k) =>
  cases[k].map((c) => [`${k}: ${c.name}`, `${heads[k]}spec: ${c.spec}\n`, c.rejects] as const),
);

describe('routing admission (ours)', () => {
  it.each(all)('%s', (_n, yaml, rejects) => {
    const load = () => loadYamlText(yaml, 'r.yaml', emptyResources());
    if (rejects) expect(load).toThrow(new RegExp(`r\\.yaml \\(document 1\\): .*would be rejected by Istio: .*${rejects}`));
    else expect(load().routing).toHaveLength(1);
  });

  it('a Gateway name with a dot is refused, as ValidateGateway does', () => {
    const yaml = `${heads.gateway.replace('istio-egressgateway', 'egress.gw')}spec: ${cases.gateway[0]!.spec}\n`;
    expect(() => loadYamlText(yaml, 'r.yaml', emptyResources())).toThrow(/Gateway name is a DNS label/);
  });
});

const istioctl = findIstioctlBuildSync();
describe.skipIf(!istioctl)(
  `routing admission agrees with istioctl validate${istioctl ? '' : ' — skipped: run `npx egress-conformance tools install istioctl-build`'}`,
  () => {
    it('accepts and rejects the same cases', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'egress-validate-routing-'));
      try {
        const disagreements: string[] = [];
        for (const [name, yaml, rejects] of all) {
          const f = join(dir, 'r.yaml');
          writeFileSync(f, yaml);
          const r = await execa(istioctl!, ['validate', '-f', f], { reject: false, timeout: 60_000 });
          if ((r.exitCode === 0) !== !rejects)
            disagreements.push(`${name}: istioctl ${r.exitCode === 0 ? 'accepts' : 'rejects'}: ${r.stderr}`);
        }
        expect(disagreements).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  },
);
