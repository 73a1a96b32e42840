// A scenario's sidecar xDS is fetched once per source, whether the fetch was started ahead (prefetch) or by
// the source's first probe, and never carried over to the next scenario.
import { describe, expect, it } from 'vitest';
import type { Istiod } from './istiod.ts';
import { SidecarObserver } from './observer.ts';
import type { XdsSnapshot } from './xds-types.ts';

function countingIstiod() {
  const asked: string[] = [];
  const istiod = {
    async snapshot(identity: { podName: string; namespace: string }): Promise<XdsSnapshot> {
      asked.push(`${identity.namespace}/${identity.podName}`);
      return { clusters: [], listeners: [], routes: [], versions: { cds: String(asked.length) } };
    },
  };
  return { asked, istiod: istiod as unknown as Istiod };
}

const pod = { namespace: 'frontend', name: 'egress-client', ip: '10.244.0.9', labels: {} };
const applied = { generation: 7, proxyMetadata: {} };

describe('the sidecar observer’s fetches', () => {
  it('a prefetched source is fetched once, and its first observation is the fresh fetch', async () => {
    const { asked, istiod } = countingIstiod();
    const observer = new SidecarObserver(istiod, '1.32.0');
    observer.prefetch([pod], applied);
    const first = await observer.snapshotFor(pod, applied);
    const second = await observer.snapshotFor(pod, applied);
    expect(asked).toEqual(['frontend/egress-client']);
    expect([first.fresh, second.fresh]).toEqual([true, false]);
    expect(second.snapshot).toBe(first.snapshot);
  });

  it('after reset (the next scenario) the source is fetched again', async () => {
    const { asked, istiod } = countingIstiod();
    const observer = new SidecarObserver(istiod, '1.32.0');
    observer.prefetch([pod], applied);
    await observer.snapshotFor(pod, applied);
    observer.reset();
    const again = await observer.snapshotFor(pod, applied);
    expect(asked).toHaveLength(2);
    expect(again).toMatchObject({ fresh: true, snapshot: { versions: { cds: '2' } } });
  });
});

describe('a failed fetch', () => {
  it('is not kept: the next probe of the source asks istiod again', async () => {
    let calls = 0;
    const istiod = {
      async snapshot(): Promise<XdsSnapshot> {
        calls++;
        if (calls === 1) throw new Error('stream reset');
        return { clusters: [], listeners: [], routes: [], versions: {} };
      },
    } as unknown as Istiod;
    const observer = new SidecarObserver(istiod, '1.32.0');
    observer.prefetch([pod], applied);
    await expect(observer.snapshotFor(pod, applied)).rejects.toThrow('stream reset');
    await expect(observer.snapshotFor(pod, applied)).resolves.toMatchObject({ fresh: true });
    expect(calls).toBe(2);
  });
});
