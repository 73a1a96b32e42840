// Which hops `expect` shows and compares beside istiod's answer: a one-hop call's TLS origination counts, so a model
// that gets a DestinationRule's TLS wrong is marked DIFFERS (it once said `same` there).
import { describe, expect, it } from 'vitest';
import type { Hop } from '../../helpers/model/types.ts';
import { telling } from './expect-lane.ts';

const hop = (extra: Partial<Hop> = {}): Hop => ({
  kind: 'sidecar',
  proxy: 'default/egress-client',
  cluster: 'outbound|80||a.example.com',
  ...extra,
});

describe('telling', () => {
  it('keeps a one-hop path that originates TLS, and drops a plain one', () => {
    expect(telling([hop({ tls: { mode: 'SIMPLE', sni: 'a.example.com' } })])).toHaveLength(1);
    expect(telling([hop()])).toBeUndefined();
    expect(telling(undefined)).toBeUndefined();
  });

  it('keeps every path past the sidecar', () => {
    expect(telling([hop(), hop({ kind: 'gateway', proxy: 'istio-system/istio-egressgateway' })])).toHaveLength(2);
  });
});
