// Pinned versions, read from fixtures/versions.json so .ci/run and the code share one source.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VERSIONS_FILE = fileURLToPath(new URL('../../fixtures/versions.json', import.meta.url));

export interface PinnedVersions {
  istio: string;
  kind: string;
  kindNodeImage: string;
  controlPlane: { istioVersion: string; goModuleVersion: string; commit: string; commitDate: string };
  kubernetes: { version: string; etcd: string };
  images: Record<string, string>;
}

export const PINNED: PinnedVersions = JSON.parse(readFileSync(VERSIONS_FILE, 'utf8'));
