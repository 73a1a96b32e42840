// A hint for a failed check, from how it failed: it points at the piece of configuration to look at
// (which namespace's sidecar, which catch-all, which port) without naming the fix.
import { hopsMatch } from '../model/hops.ts';
import type { BlockSignal, Hop, Verdict } from '../model/types.ts';
import type { LabCheck } from './load.ts';

export interface Failure {
  check: LabCheck;
  got: Verdict | 'error';
  signal?: BlockSignal;
  cluster?: string;
  hops?: Hop[];
}

export function hintFor(f: Failure): string {
  const { check } = f;
  if (check.hint) return check.hint;
  const ns = check.from.namespace;
  const host = check.to.host;
  if (f.got === 'error')
    return 'the call could not be observed at all; check that what you applied was accepted (kubectl get, istioctl analyze)';
  if (check.want === 'blocked' && f.got === 'allowed') {
    if (f.cluster === 'PassthroughCluster')
      return `the call leaves through the passthrough catch-all: which outbound policy applies to workloads in ${ns}, and where is it set?`;
    return `${ns}'s sidecar knows ${host}: which entries does it see, and should this one reach ${ns}?`;
  }
  if (check.want === 'allowed' && f.got === 'blocked')
    return `${ns}'s sidecar has no route for ${host}:${check.to.port}: is it registered with that port and protocol, and is the entry visible from ${ns} (exportTo, Sidecar hosts)?`;
  if (check.signal && f.signal !== check.signal)
    return 'blocked, but not the way the task expects: which listener does the call land on (an HTTP route answers 502, a TCP chain closes)?';
  if (check.cluster && f.cluster !== check.cluster)
    return `the call went through ${f.cluster ?? 'no recorded cluster'}: which host and port does your entry declare for it?`;
  if (check.via && !(f.hops && hopsMatch(check.via, f.hops))) {
    if (!f.hops) return 'the path past the sidecar was not observed; is anything sending the call on to a gateway?';
    return f.hops.length < check.via.length
      ? `the call leaves from ${ns}'s sidecar directly: which route would send it to the gateway, and does ${ns} see it?`
      : 'the call takes a different path or TLS setting than the task asks: compare each hop with the task';
  }
  if (check.route) return `${ns}'s route for ${host} lacks a setting the task asks for: which route applies to ${ns}?`;
  return 'compare the verdict with the task text';
}
