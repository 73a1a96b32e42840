// A suite shaped like defineLaneSuite's (lane describe → scenario describes → one test per case), for
// run-reporter.test.ts: REPORTER_FIXTURE=cases has a failing case, =setup a lane whose setup throws.
import { beforeAll, describe, expect, it } from 'vitest';
import '../case-meta.ts';
import type { CaseResult } from '../results.ts';

const expected = {
  verdict: 'blocked' as const,
  cluster: 'BlackHoleCluster',
  reason: 'REGISTRY_ONLY and no ServiceEntry',
  listener: '0.0.0.0_80',
  policy: 'REGISTRY_ONLY' as const,
};
const base = (id: string) => ({
  id,
  policy: 'REGISTRY_ONLY' as const,
  scenario: id.split('/')[1] ?? '',
  from: 'frontend',
  to: 'http://x.example.com/',
  expected,
});

describe('egress conformance on the fixture lane', () => {
  if (process.env.REPORTER_FIXTURE === 'setup') {
    beforeAll(() => {
      throw new Error('etcd ended (exit 1); log /tmp/gone/etcd.log:\nlast line of the log');
    });
  }
  describe('REGISTRY_ONLY/one', () => {
    it('REGISTRY_ONLY/one/frontend→http://x.example.com/', ({ task }) => {
      const r: CaseResult = {
        ...base('REGISTRY_ONLY/one/frontend→http://x.example.com/'),
        outcome: 'fail',
        observed: { verdict: 'allowed', cluster: 'PassthroughCluster', evidence: { listener: 'virtualOutbound', path: { deep: 1 } } },
        message: 'expected blocked (BlackHoleCluster), observed allowed (PassthroughCluster)',
      };
      task.meta.egressCase = r;
      expect(r.outcome, `${r.message}\n  evidence: ${JSON.stringify(r.observed!.evidence)}`).toBe('pass');
    });
    it('REGISTRY_ONLY/one/default→http://x.example.com/', () => {});
  });
  describe('REGISTRY_ONLY/two', () => {
    it('REGISTRY_ONLY/two/frontend→http://x.example.com/', () => {});
  });
});
