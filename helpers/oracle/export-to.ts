// Whether a VirtualService or DestinationRule is visible from a namespace: its exportTo, `.` being its own
// namespace, everywhere when it has none. Pure.
import type { IstioConfig } from '../model/types.ts';

export const exportedTo = (r: IstioConfig, ns: string): boolean => {
  const to = (r.spec.exportTo as string[] | undefined) ?? ['*'];
  return to.includes('*') || to.some((t) => (t === '.' ? r.namespace : t) === ns);
};
