// What `--from` and `--to` name: on the control-plane lane a pinned istiod build (label, Go module
// version or the oracle version it stands for); on the model lane any Istio version the model knows,
// or a pinned build's label (then its oracle version). `--lane oracle` is an alias of `--lane model`.
import { UserError } from '../model/errors.ts';
import { ORACLE_ALIAS_NOTE } from '../lanes/select.ts';
import { parseIstioVersion } from '../oracle/version.ts';
import { findPinnedBuild, pinnedBuildNames, type PilotDiscoveryPin } from '../tools/pilot-discovery.ts';

export type CompareLane = 'control-plane' | 'model';

export interface CompareTarget {
  /** As the user should read it: a build label or a version. */
  label: string;
  /** The Istio version whose rules the oracle applies. */
  oracleVersion: string;
  /** The istiod build (control-plane lane only). */
  pin?: PilotDiscoveryPin;
}

export function parseCompareLane(v: string | undefined, say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): CompareLane {
  if (v === undefined || v === 'control-plane' || v === 'model') return v ?? 'control-plane';
  if (v === 'oracle') {
    say(ORACLE_ALIAS_NOTE);
    return 'model';
  }
  throw new UserError(
    `--lane: "${v}" cannot compare versions; use control-plane (two real istiod builds) or model (the model's rules only)`,
  );
}

export function resolveTarget(raw: string | undefined, flag: '--from' | '--to', lane: CompareLane): CompareTarget {
  if (!raw)
    throw new UserError(
      `${flag}: required; name a pinned istiod build (${pinnedBuildNames()})${lane === 'model' ? ' or an Istio version such as 1.30.2' : ''}`,
    );
  const pin = findPinnedBuild(raw);
  if (pin)
    return { label: pin.label ?? pin.goModuleVersion, oracleVersion: pin.istioVersion, ...(lane === 'control-plane' ? { pin } : {}) };
  if (lane === 'control-plane') {
    throw new UserError(
      `${flag}: "${raw}" is not a pinned istiod build, and the control-plane lane runs only those: ${pinnedBuildNames()}; for any other version use --lane model`,
    );
  }
  parseIstioVersion(raw, flag);
  return { label: raw, oracleVersion: raw };
}
