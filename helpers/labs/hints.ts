// A hint for a failed check, from how it failed (its named failure): it points at the piece of configuration to
// look at (which namespace's sidecar, which catch-all, which port, which leg of the path) without naming the fix.
import type { BlockSignal, Hop, Verdict } from '../model/types.ts';
import type { CheckFailure } from './failure.ts';
import type { LabCheck } from './load.ts';

export interface Failure {
  check: LabCheck;
  got: Verdict | 'error';
  signal?: BlockSignal;
  cluster?: string;
  hops?: Hop[];
  failure?: CheckFailure;
}

export function hintFor(f: Failure): string {
  const { check } = f;
  if (check.hint) return check.hint;
  const ns = check.from.namespace;
  const host = check.to.host;
  const last = f.hops?.at(-1);
  switch (f.failure?.kind) {
    case 'not observed':
      return 'the call could not be observed at all; check that what you applied was accepted (kubectl get, istioctl analyze)';
    case 'verdict':
      if (check.want === 'blocked') {
        if (f.cluster === 'PassthroughCluster')
          return `the call leaves through the passthrough catch-all: which outbound policy applies to workloads in ${ns}, and where is it set?`;
        return `${ns}'s sidecar knows ${host}: which entries does it see, and should this one reach ${ns}?`;
      }
      if (last?.kind === 'gateway')
        return `the call reaches ${last.proxy} and stops there: does a Gateway server on that port take ${host}, with the TLS the sidecar sends, and does a VirtualService bound to that Gateway, visible in ${last.proxy.split('/')[0]}, route it on?`;
      return `${ns}'s sidecar has no route for ${host}:${check.to.port}: is it registered with that port and protocol, and is the entry visible from ${ns} (exportTo, Sidecar hosts)? If a route sends it elsewhere, does that destination exist?`;
    case 'block signal':
      return 'blocked, but not the way the task expects: which listener does the call land on (an HTTP route answers 502, a TCP chain closes)?';
    case 'bypasses the gateway':
      return `the call leaves from ${ns}'s sidecar directly: which route would send it to the gateway, is it bound to the mesh, and does ${ns} see it?`;
    case 'does not originate TLS':
      return `nothing on the path opens TLS to ${host}: which DestinationRule sets the TLS mode for that leg, for which port, and is it visible to the proxy that sends the call out?`;
    case 'TLS elsewhere':
      return `TLS to ${host} is opened by another party than the task asks: which proxy does each DestinationRule apply to, and on which port?`;
    case 'cluster':
      return `the call went through ${f.cluster ?? 'no recorded cluster'}: which host and port does your entry declare for it?`;
    case 'path':
      return f.hops
        ? 'the call takes a different path or TLS setting than the task asks: compare each hop with the task'
        : 'the path past the sidecar was not observed; is anything sending the call on to a gateway?';
    case 'discovery':
      return `the call leaves, but not the way the task asks it to find ${host}'s address: what does the entry's resolution make the sidecar do?`;
    case 'route':
      return `${ns}'s route for ${host} lacks a setting the task asks for (or has it with another value): which route applies to ${ns}?`;
    default:
      return 'compare the verdict with the task text';
  }
}
