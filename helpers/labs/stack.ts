// The live-lab backend on the control-plane stack (real etcd, kube-apiserver and istiod, detached).
import { EnvironmentError } from '../model/errors.ts';
import type { LiveBackend } from './live.ts';

export async function stackBackend(): Promise<LiveBackend> {
  throw new EnvironmentError('live labs need the control-plane stack (etcd, kube-apiserver, istiod), which this build does not provide yet; grade files with `lab check NAME -f FILE`, or `lab exam --files`');
}
