// exportedTo and importedBy one rule at a time, on hand-made entries: which namespaces an entry is exported to
// (pilot/pkg/model/push_context.go initServiceRegistry / serviceExportTo: `*` wins, `~` hides, `.` and a name
// export to one namespace, an empty exportTo takes meshConfig.defaultServiceExportTo, honoured in full from
// 1.30.3, istio/istio#60701), how meshConfig.serviceEntryVisibility caps that (serviceentry_visibility.go), and
// which entries a Sidecar's egress listeners import (pilot/pkg/model/sidecar.go: a port listener covers its
// port only, `.` is the workload's namespace, `~ns/host` excludes from 1.31, istio/istio#60581).
import { describe, expect, it } from 'vitest';
import type { ResourceSet, ServiceEntry, Sidecar, SidecarEgress } from '../model/types.ts';
import { PINNED } from '../tools/versions.ts';
import { parseIstioVersion } from './version.ts';
import { exportedTo, importedBy } from './visibility.ts';

const NOW = parseIstioVersion(PINNED.controlPlane.istioVersion);
const BEFORE_1303 = parseIstioVersion('1.30.2');
const src = { file: 't.yaml', doc: 0 };

function entry(over: Partial<ServiceEntry> = {}): ServiceEntry {
  return {
    kind: 'ServiceEntry',
    name: 'db',
    namespace: 'default',
    order: 0,
    hosts: ['db.example.com'],
    addresses: [],
    ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    endpoints: [],
    exportTo: [],
    source: src,
    manifest: {},
    ...over,
  } as ServiceEntry;
}

function mesh(over: Partial<ResourceSet['mesh']> = {}): ResourceSet {
  return { mesh: { meshConfig: {}, ...over }, serviceEntries: [], sidecars: [] };
}

function sidecar(egress: SidecarEgress[], namespace = 'frontend'): Sidecar {
  return { kind: 'Sidecar', name: 'sc', namespace, order: 0, egress, source: src, manifest: {} };
}

describe('exportedTo: exportTo values', () => {
  it('`*` exports everywhere, public class after the named ones; before 1.30.3 public came after own and named', () => {
    const se = entry({ exportTo: ['*'] });
    expect(exportedTo(se, 'frontend', mesh(), NOW)).toEqual(expect.objectContaining({ visible: true, exportClass: 1 }));
    expect(exportedTo(se, 'frontend', mesh(), NOW).rule).toBeUndefined();
    expect(exportedTo(se, 'frontend', mesh(), BEFORE_1303).exportClass).toBe(2);
  });

  it('`*` wins over `~` in the same list', () => {
    expect(exportedTo(entry({ exportTo: ['~', '*'] }), 'frontend', mesh(), NOW).visible).toBe(true);
  });

  it('`~` hides it from every namespace, its own included, as rule export.hidden', () => {
    const d = exportedTo(entry({ exportTo: ['~'] }), 'default', mesh(), NOW);
    expect(d).toEqual(expect.objectContaining({ visible: false, exportClass: 9, rule: 'export.hidden' }));
    expect(d.why).toContain('hides it from every namespace');
  });

  it('`.` is the entry own namespace only', () => {
    const se = entry({ exportTo: ['.'] });
    expect(exportedTo(se, 'default', mesh(), NOW)).toEqual(expect.objectContaining({ visible: true, exportClass: 0 }));
    const other = exportedTo(se, 'frontend', mesh(), NOW);
    expect(other).toEqual(expect.objectContaining({ visible: false, rule: 'export.hidden' }));
    expect(other.why).toContain('does not include frontend');
  });

  it('a named namespace exports to it; before 1.30.3 a foreign name came after the own namespace', () => {
    const se = entry({ exportTo: ['frontend'] });
    expect(exportedTo(se, 'frontend', mesh(), NOW)).toEqual(expect.objectContaining({ visible: true, exportClass: 0 }));
    expect(exportedTo(se, 'frontend', mesh(), BEFORE_1303).exportClass).toBe(1);
    expect(exportedTo(entry({ exportTo: ['default'] }), 'default', mesh(), BEFORE_1303).exportClass).toBe(0);
    expect(exportedTo(se, 'default', mesh(), NOW).visible).toBe(false);
  });
});

describe('exportedTo: meshConfig.defaultServiceExportTo for an entry without exportTo', () => {
  it('unset is public, with no rule of its own', () => {
    const d = exportedTo(entry(), 'frontend', mesh(), NOW);
    expect(d.visible).toBe(true);
    expect(d.rule).toBeUndefined();
    expect(d.why).toContain('(Istio default)');
  });

  it('a set default decides, named as rule export.default-export-to, visible or not', () => {
    const own = mesh({ defaultServiceExportTo: ['.'] });
    expect(exportedTo(entry(), 'default', own, NOW)).toEqual(expect.objectContaining({ visible: true, rule: 'export.default-export-to' }));
    expect(exportedTo(entry(), 'frontend', own, NOW)).toEqual(
      expect.objectContaining({ visible: false, rule: 'export.default-export-to' }),
    );
  });

  it('an entry exportTo of its own is not the default rule', () => {
    const d = exportedTo(entry({ exportTo: ['*'] }), 'frontend', mesh({ defaultServiceExportTo: ['.'] }), NOW);
    expect(d.visible).toBe(true);
    expect(d.rule).toBeUndefined();
  });

  it('a named namespace in the default counts from 1.30.3 and exports nowhere before', () => {
    const named = mesh({ defaultServiceExportTo: ['frontend'] });
    expect(exportedTo(entry(), 'frontend', named, NOW).visible).toBe(true);
    const old = exportedTo(entry(), 'frontend', named, BEFORE_1303);
    expect(old.visible).toBe(false);
    expect(old.why).toContain('before Istio 1.30.3');
    expect(exportedTo(entry(), 'default', named, BEFORE_1303).visible).toBe(false);
  });

  it('before 1.30.3, `.` in the default is taken before `*`', () => {
    const both = mesh({ defaultServiceExportTo: ['*', '.'] });
    expect(exportedTo(entry(), 'frontend', both, BEFORE_1303).visible).toBe(false);
    expect(exportedTo(entry(), 'default', both, BEFORE_1303).visible).toBe(true);
    expect(exportedTo(entry(), 'frontend', both, NOW).visible).toBe(true);
    expect(exportedTo(entry(), 'frontend', mesh({ defaultServiceExportTo: ['*', 'x'] }), BEFORE_1303).visible).toBe(true);
  });
});

describe('exportedTo: meshConfig.serviceEntryVisibility', () => {
  const sev = (v: Record<string, unknown>) => mesh({ meshConfig: { serviceEntryVisibility: v } });

  it('NAMESPACE keeps an entry exported to its own namespace by name', () => {
    const r = sev({ applyToSidecars: true, defaultVisibility: 'NAMESPACE' });
    const se = entry({ exportTo: ['default', 'frontend'] });
    expect(exportedTo(se, 'default', r, NOW)).toEqual(expect.objectContaining({ visible: true, rule: 'export.service-entry-visibility' }));
    expect(exportedTo(se, 'frontend', r, NOW).visible).toBe(false);
  });

  it('leaves `~` alone and does not cap a Kubernetes Service', () => {
    const r = sev({ applyToSidecars: true, defaultVisibility: 'NONE' });
    expect(exportedTo(entry({ exportTo: ['~'] }), 'default', r, NOW).rule).toBe('export.hidden');
    expect(exportedTo(entry({ kubernetesService: true }), 'frontend', r, NOW)).toEqual(expect.objectContaining({ visible: true }));
  });

  it('PUBLIC (or unset) keeps exportTo; with namespace policies it says they are not modelled', () => {
    expect(exportedTo(entry(), 'frontend', sev({ applyToSidecars: true }), NOW).rule).toBeUndefined();
    const d = exportedTo(entry(), 'frontend', sev({ applyToSidecars: true, policies: [{ visibility: 'NONE' }] }), NOW);
    expect(d).toEqual(expect.objectContaining({ visible: true, rule: 'export.service-entry-visibility' }));
    expect(d.why).toContain('not modelled: meshConfig.serviceEntryVisibility.policies');
    expect(exportedTo(entry(), 'frontend', sev({ applyToSidecars: true, policies: [] }), NOW).rule).toBeUndefined();
  });
});

describe('importedBy', () => {
  const se = entry();

  it('without a Sidecar, or a Sidecar with no egress, everything exported is imported', () => {
    expect(importedBy(undefined, se, 5432, 'frontend', NOW).imported).toBe(true);
    const d = importedBy(sidecar([]), se, 5432, 'frontend', NOW);
    expect(d.imported).toBe(true);
    expect(d.why).toContain('no egress section');
  });

  it('a port listener covers its port only; the port-less one covers the rest', () => {
    const sc = sidecar([{ port: { number: 5432 }, hosts: ['./*'] }, { hosts: ['*/*'] }]);
    const onPort = importedBy(sc, se, 5432, 'frontend', NOW);
    expect(onPort).toEqual(expect.objectContaining({ imported: false, rule: 'import.not-imported' }));
    expect(importedBy(sc, se, 80, 'frontend', NOW)).toEqual(expect.objectContaining({ imported: true }));
    expect(importedBy(sc, se, 80, 'frontend', NOW).rule).toBeUndefined();
    const sc2 = sidecar([{ port: { number: 5432 }, hosts: ['default/*'] }, { hosts: ['./*'] }]);
    expect(importedBy(sc2, se, 5432, 'frontend', NOW)).toEqual(expect.objectContaining({ imported: true, rule: 'import.port-listener' }));
    expect(importedBy(sc2, se, 80, 'frontend', NOW).imported).toBe(false);
  });

  it('`.` is the workload namespace, also for a Sidecar of another namespace (the root one)', () => {
    const root = sidecar([{ hosts: ['./*'] }], 'istio-system');
    expect(importedBy(root, se, 5432, 'default', NOW).imported).toBe(true);
    expect(importedBy(root, se, 5432, 'frontend', NOW).imported).toBe(false);
    expect(importedBy(sidecar([{ hosts: ['default/db.example.com'] }]), se, 5432, 'frontend', NOW).imported).toBe(true);
    expect(importedBy(sidecar([{ hosts: ['frontend/db.example.com'] }]), se, 5432, 'frontend', NOW).imported).toBe(false);
  });

  it('an exact import does not pull in a wildcard entry host; a wildcard import takes hosts under it', () => {
    const wild = entry({ hosts: ['*.example.com'] });
    expect(importedBy(sidecar([{ hosts: ['*/api.example.com'] }]), wild, 5432, 'frontend', NOW).imported).toBe(false);
    expect(importedBy(sidecar([{ hosts: ['*/*.example.com'] }]), se, 5432, 'frontend', NOW).imported).toBe(true);
  });

  it('an entry with several hosts is imported when one of them is', () => {
    const two = entry({ hosts: ['a.example.com', 'b.example.com'] });
    const d = importedBy(sidecar([{ hosts: ['*/b.example.com'] }]), two, 5432, 'frontend', NOW);
    expect(d.imported).toBe(true);
    expect(d.why).toContain('*/b.example.com');
    expect(importedBy(sidecar([{ hosts: ['*/c.example.com'] }]), two, 5432, 'frontend', NOW).why).toContain('a.example.com');
    expect(importedBy(sidecar([{ hosts: ['*/b.example.com'] }]), two, 5432, 'frontend', NOW, 'a.example.com').imported).toBe(false);
  });

  it('from 1.31 `~ns/host` and `~/host` exclude; before, `~ns` is just a namespace name', () => {
    const excl = sidecar([{ hosts: ['*/*', '~default/db.example.com'] }]);
    expect(importedBy(excl, se, 5432, 'frontend', NOW)).toEqual(expect.objectContaining({ imported: false, rule: 'import.excluded' }));
    expect(importedBy(excl, se, 5432, 'frontend', BEFORE_1303).imported).toBe(true);
    expect(importedBy(sidecar([{ hosts: ['*/*', '~/*'] }]), se, 5432, 'frontend', NOW).imported).toBe(false);
    expect(importedBy(sidecar([{ hosts: ['*/*', '~frontend/*'] }]), se, 5432, 'frontend', NOW).imported).toBe(true);
    expect(importedBy(sidecar([{ hosts: ['*/*', '~./*'] }]), se, 5432, 'default', NOW).imported).toBe(false);
    expect(importedBy(sidecar([{ hosts: ['~default/*'] }]), se, 5432, 'frontend', BEFORE_1303).imported).toBe(false);
  });
});
