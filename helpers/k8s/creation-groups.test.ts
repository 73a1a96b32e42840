// Which declared creation times the shared sync makes real, and how few seconds it spends on them: only the
// order Istio can read (same kind; ServiceEntries sharing a host or a port) is kept.
import { describe, expect, it } from 'vitest';
import type { K8sObject } from './client.ts';
import { DECLARED_CREATION_ANNOTATION } from './manifests.ts';
import { declaredCreationGroups } from './workloads.ts';

const entry = (name: string, at: string | undefined, hosts: string[], port: number): K8sObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: { name, namespace: 'default', ...(at ? { annotations: { [DECLARED_CREATION_ANNOTATION]: at } } : {}) },
  spec: { hosts, ports: [{ number: port, name: 'p', protocol: 'TCP' }] },
});
const sidecar = (name: string, at: string): K8sObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: { name, namespace: 'default', annotations: { [DECLARED_CREATION_ANNOTATION]: at } },
  spec: {},
});
const names = (groups: K8sObject[][]) => groups.map((g) => g.map((o) => o.metadata.name));

describe('declared creation groups', () => {
  it('one group when nothing declares a time, or when the times fall in one second', () => {
    expect(names(declaredCreationGroups([entry('a', undefined, ['a.com'], 80), entry('b', undefined, ['a.com'], 80)]))).toEqual([
      ['a', 'b'],
    ]);
    expect(
      names(
        declaredCreationGroups([
          entry('a', '2026-01-01T00:00:01.200Z', ['a.com'], 80),
          entry('b', '2026-01-01T00:00:01.900Z', ['a.com'], 80),
        ]),
      ),
    ).toEqual([['a', 'b']]);
  });

  it('entries sharing a host or a port keep their declared order, oldest first, whatever their names', () => {
    const z = entry('z', '2026-01-01T00:00:01Z', ['same.com'], 80);
    const a = entry('a', '2026-01-01T00:00:05Z', ['same.com'], 81);
    expect(names(declaredCreationGroups([a, z]))).toEqual([['z'], ['a']]);
    const p = entry('p', '2026-01-01T00:00:07Z', ['other.com'], 81);
    expect(names(declaredCreationGroups([a, z, p]))).toEqual([['z'], ['a'], ['p']]);
    // An undeclared time reads as older than any declared one, as the model reads it.
    expect(names(declaredCreationGroups([a, entry('u', undefined, ['same.com'], 9)]))).toEqual([['u'], ['a']]);
  });

  it('objects whose order Istio cannot read share a second: unrelated entries, and other kinds', () => {
    const objects = [
      entry('a', '2026-01-01T00:00:01Z', ['a.com'], 80),
      entry('b', '2026-01-01T00:00:02Z', ['b.com'], 81),
      entry('c', '2026-01-01T00:00:03Z', ['c.com'], 82),
      sidecar('s1', '2026-01-01T00:00:04Z'),
      sidecar('s2', '2026-01-01T00:00:02Z'),
    ];
    expect(names(declaredCreationGroups(objects))).toEqual([['a', 'b', 'c', 's2'], ['s1']]);
  });
});
