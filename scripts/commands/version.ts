// `egress-conformance --version`: this tool's version and the Istio builds it is pinned to, the facts a
// bug report needs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PINNED } from '../../helpers/tools/versions.ts';

const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

export function versionText(): string {
  const { version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
  const cp = PINNED.controlPlane;
  return [
    `egress-conformance ${version}`,
    `kind lane: Istio ${PINNED.istio}, kind ${PINNED.kind}`,
    `control-plane lane: istio.io/istio ${cp.goModuleVersion} (oracle rules of ${cp.istioVersion})`,
  ].join('\n');
}
