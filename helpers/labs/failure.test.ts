// How a failed check is named, on observations shaped as the control-plane lane records them: the sidecar
// hop, then the gateway's. A call that leaves from the sidecar when the check pins the gateway "bypasses the
// gateway" whatever cluster it took; TLS that no proxy opens "does not originate TLS"; and so on down to the
// route's settings. The check format's new fields (`tls`, `discovery`, a wrong answer's `fails`) load, and
// refuse what they cannot mean, naming the field.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hop, Observation } from '../model/types.ts';
import { parseProbeUrl } from '../probes/url.ts';
import { parsePinnedHop, type PinnedHop } from '../model/hops.ts';
import { tempDirs } from '../testing/temp-dirs.ts';
import { failureOf } from './failure.ts';
import { hintFor } from './hints.ts';
import { LABS_DIR, type LabCheck, loadLabs } from './load.ts';

const GW = 'outbound|80|api|istio-egressgateway.istio-system.svc.cluster.local';
const pin = (...hops: string[]) => hops.map((h) => parsePinnedHop(h) as PinnedHop);
const check = (over: Partial<LabCheck> = {}): LabCheck => ({
  from: { namespace: 'frontend' },
  to: parseProbeUrl('http://api.example.com/'),
  want: 'allowed',
  cluster: GW,
  because: 'through the gateway',
  via: pin(`sidecar ${GW}`, 'istio-system/istio-egressgateway outbound|443||api.example.com tls:SIMPLE:api.example.com'),
  tls: 'gateway',
  ...over,
});
const sidecar = (cluster: string, extra: Partial<Hop> = {}): Hop => ({
  kind: 'sidecar',
  proxy: 'frontend/egress-client',
  cluster,
  ...extra,
});
const gateway = (cluster: string, extra: Partial<Hop> = {}): Hop => ({
  kind: 'gateway',
  proxy: 'istio-system/istio-egressgateway',
  cluster,
  ...extra,
});
const seen = (hops: Hop[], over: Partial<Observation> = {}): Observation => ({
  verdict: 'allowed',
  cluster: hops[0]!.cluster,
  hops,
  evidence: {},
  ...over,
});
const through = [sidecar(GW), gateway('outbound|443||api.example.com', { tls: { mode: 'SIMPLE', sni: 'api.example.com' } })];

describe('failureOf: the reason a check fails, by name', () => {
  it('passes the pinned path, TLS opened where the check says', () => {
    expect(failureOf(check(), seen(through))).toBeUndefined();
  });

  it('a call that leaves from the sidecar bypasses the gateway, named before its cluster', () => {
    const f = failureOf(check(), seen([sidecar('outbound|80||api.example.com')]));
    expect(f).toEqual({
      kind: 'bypasses the gateway',
      detail: 'the call leaves from the sidecar through outbound|80||api.example.com, not through istio-system/istio-egressgateway',
    });
  });

  it('no TLS opened by any proxy (ISTIO_MUTUAL to the gateway is not TLS to the API) does not originate TLS', () => {
    const plain = [sidecar(GW, { tls: { mode: 'ISTIO_MUTUAL', sni: 'api.example.com' } }), gateway('outbound|443||api.example.com')];
    expect(failureOf(check(), seen(plain))?.kind).toBe('does not originate TLS');
    expect(
      failureOf(check({ tls: 'sidecar', via: undefined, cluster: undefined }), seen([sidecar('outbound|80||api.example.com')]))?.kind,
    ).toBe('does not originate TLS');
  });

  it('TLS opened by another party: the sidecar wrapping the application’s own TLS, the sidecar instead of the gateway', () => {
    const https = check({ to: parseProbeUrl('https://api.example.com/'), tls: 'client', via: undefined, cluster: undefined });
    const wrapped = seen([sidecar('outbound|443||api.example.com', { tls: { mode: 'SIMPLE', sni: 'api.example.com' } })]);
    expect(failureOf(https, wrapped)).toEqual({
      kind: 'TLS elsewhere',
      detail: 'TLS to api.example.com starts at the sidecar, not the application',
    });
    const atSidecar = [sidecar('outbound|80||api.example.com', { tls: { mode: 'SIMPLE', sni: 'api.example.com' } })];
    expect(failureOf(check({ via: undefined, cluster: undefined }), seen(atSidecar))).toEqual({
      kind: 'TLS elsewhere',
      detail: 'TLS to api.example.com starts at the sidecar, not the gateway',
    });
  });

  it('a call that ends at the gateway fails on its verdict, saying where it ended', () => {
    const ended = seen([sidecar(GW), gateway('(no route)')], { verdict: 'blocked', signal: 'http-404' });
    expect(failureOf(check(), ended)).toEqual({
      kind: 'verdict',
      detail: 'blocked instead of allowed, ending at istio-system/istio-egressgateway (no route)',
    });
  });

  it('then the signal, the cluster, the rest of the path, the cluster type and the route, in that order', () => {
    const blocked = check({ want: 'blocked', signal: 'http-502', cluster: 'BlackHoleCluster', via: undefined, tls: undefined });
    expect(failureOf(blocked, seen([sidecar('BlackHoleCluster')], { verdict: 'blocked', signal: 'tcp-close' }))?.kind).toBe('block signal');
    expect(failureOf(check({ cluster: 'outbound|80|other|x' }), seen(through))?.kind).toBe('cluster');
    const otherSni = [through[0]!, gateway('outbound|443||api.example.com', { tls: { mode: 'SIMPLE', sni: 'other.example.com' } })];
    expect(failureOf(check(), seen(otherSni))?.kind).toBe('path');
    const dfp = check({ via: undefined, tls: undefined, cluster: undefined, discovery: 'DYNAMIC_FORWARD_PROXY' });
    expect(failureOf(dfp, seen([sidecar('outbound|443||*.example.com', { discovery: 'ORIGINAL_DST' })]))).toEqual({
      kind: 'discovery',
      detail: 'the call leaves through a cluster of type ORIGINAL_DST, not DYNAMIC_FORWARD_PROXY',
    });
    expect(failureOf(dfp, seen([sidecar('outbound|443||*.example.com', { discovery: 'DYNAMIC_FORWARD_PROXY' })]))).toBeUndefined();
    const timeout = check({ via: undefined, tls: undefined, cluster: undefined, route: ['timeout 3s'] });
    expect(failureOf(timeout, seen([sidecar('x', { route: ['timeout 0.003s', 'retries 2'] })]))).toEqual({
      kind: 'route',
      detail: 'the route carries timeout 0.003s, retries 2, not timeout 3s',
    });
  });

  it('a check on the path with no path observed fails as such, never passes; an error is "not observed"', () => {
    expect(failureOf(check(), { verdict: 'allowed', cluster: GW, evidence: {} })?.kind).toBe('path');
    expect(failureOf(check(), { verdict: 'error', error: 'ADS fetch failed', evidence: {} })).toEqual({
      kind: 'not observed',
      detail: 'ADS fetch failed',
    });
  });

  it('the hint follows the named reason (the leg to look at, never the fix)', () => {
    const bypass = failureOf(check(), seen([sidecar('outbound|80||api.example.com')]))!;
    expect(hintFor({ check: check(), got: 'allowed', failure: bypass })).toMatch(/leaves from frontend's sidecar directly/);
    const ended = seen([sidecar(GW), gateway('(no route)')], { verdict: 'blocked' });
    expect(hintFor({ check: check(), got: 'blocked', hops: ended.hops!, failure: failureOf(check(), ended)! })).toMatch(
      /reaches istio-system\/istio-egressgateway and stops there/,
    );
  });
});

describe('the check format: tls, discovery and a wrong answer’s named failure', () => {
  const dir = tempDirs('lab-format-');
  /** A copy of egress-gateway-http with `edit` applied to its text, loaded from a dir of its own. */
  const variant = (edit: (text: string) => string) => () => {
    const d = dir();
    const text = readFileSync(join(LABS_DIR, 'egress-gateway-http.yaml'), 'utf8').replace(
      /(install: |start: \[|solution: |file: )(istio|start|solutions|wrong)\//g,
      (_m, key: string, sub: string) => `${key}${join(LABS_DIR, sub)}/`,
    );
    writeFileSync(join(d, 'lab.yaml'), edit(text));
    return loadLabs(d)[0]!;
  };

  it('loads tls, discovery and fails', () => {
    const lab = variant((t) =>
      t.replace('because: "default reaches the API through the gateway",', 'because: "x", tls: none, discovery: STRICT_DNS,'),
    )();
    expect(lab.checks[0]).toMatchObject({ tls: 'none', discovery: 'STRICT_DNS' });
    expect(lab.wrong.map((w) => w.fails)).toEqual(['bypasses the gateway', 'verdict', 'bypasses the gateway', 'bypasses the gateway']);
  });

  it('refuses what it cannot mean, naming the field and the choices', () => {
    expect(variant((t) => t.replace('because: "default reaches the API through the gateway",', 'because: "x", tls: edge,'))).toThrow(
      /checks\[0\]\.tls must be one of client, sidecar, gateway, none/,
    );
    expect(variant((t) => t.replace('because: "default reaches the API through the gateway",', 'because: "x", discovery: DNS,'))).toThrow(
      /checks\[0\]\.discovery must be one of ORIGINAL_DST, .*DYNAMIC_FORWARD_PROXY/,
    );
    expect(variant((t) => t.replace('fails: "verdict"', 'fails: "wrong"'))).toThrow(
      /wrong\[1\]\.fails must be one of: not observed, verdict/,
    );
  });
});
