// A failed xDS fetch is not kept for the rest of a block: the source's next probe asks istiod again. The
// failure is a real one, a gRPC connection to a loopback port nothing listens on. (That a source is fetched once
// per block, prefetched or not, is checked against the real istiod in lane.test.ts.)
import { describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../process/ports.ts';
import { Istiod, pickIstiodAddresses } from './istiod.ts';
import { SidecarObserver } from './observer.ts';

describe('a failed fetch', () => {
  it('is not kept: the next probe of the source asks istiod again', async () => {
    const addresses = { ...(await pickIstiodAddresses()), grpc: `127.0.0.1:${await freeLoopbackPort()}` };
    const istiod = Istiod.attach({ binary: '', kubeconfig: '', dir: '', istioVersion: '1.32.0' }, addresses, '');
    let asked = 0;
    const snapshot = istiod.snapshot.bind(istiod);
    istiod.snapshot = (identity, opts) => {
      asked++;
      return snapshot(identity, { ...opts, timeoutMs: 2000 });
    };
    const observer = new SidecarObserver(istiod, '1.32.0');
    const pod = { namespace: 'frontend', name: 'egress-client', ip: '10.244.0.9', labels: {} };
    const applied = { generation: 7, proxyMetadata: {} };
    try {
      observer.prefetch([pod], applied);
      await expect(observer.snapshotFor(pod, applied)).rejects.toThrow();
      await expect(observer.snapshotFor(pod, applied)).rejects.toThrow();
      expect(asked).toBe(2);
    } finally {
      await istiod.stop();
    }
  });
});
