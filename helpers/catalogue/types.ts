// The case catalogue as loaded from fixtures/cases/*.yaml.
import type { PinnedHop } from '../model/hops.ts';
import type { BlockSignal, PolicyMode, Probe, ResourceSet, TlsOrigin, Verdict } from '../model/types.ts';

export interface PinnedExpectation {
  verdict: Verdict;
  cluster: string;
  /** How a blocked call shows itself (`http-502`, `http-503`, `http-404` or `tcp-close`), when pinned. */
  signal?: BlockSignal;
}

export interface CatalogueProbe extends Probe {
  /** Verdicts pinned by hand per policy, checked against the oracle by a unit test. */
  expect: Partial<Record<PolicyMode, PinnedExpectation>>;
  /**
   * Pins for older Istio versions, where a version-gated rule answers otherwise: each applies to
   * versions before its `before`, the lowest bound above the version winning (helpers/catalogue/pins.ts).
   */
  expectBefore?: { before: string; expect: Partial<Record<PolicyMode, PinnedExpectation>> }[];
  /**
   * The path pinned hop by hop per policy (`via:` in the case file, a list for every policy or a map by
   * policy): the sidecar, then each gateway, with its cluster and the TLS it originates.
   */
  via?: Partial<Record<PolicyMode, PinnedHop[]>>;
  /** Where TLS towards the destination starts (`tls:` in the case file): client, sidecar, gateway or none. */
  tls?: TlsOrigin;
}

export interface Scenario {
  name: string;
  description: string;
  /** Paths relative to fixtures/, as written in the case file. */
  resourceFiles: string[];
  /** Parsed resources; mesh settings other than the policy come from these files. */
  resources: ResourceSet;
  policies: PolicyMode[];
  probes: CatalogueProbe[];
  file: string;
}

/** One probe of one scenario under one policy: the unit every lane observes and every report lists. */
export interface CaseRun {
  /** `POLICY/scenario/from→to`, the test name in every report. */
  id: string;
  scenario: Scenario;
  policy: PolicyMode;
  probe: CatalogueProbe;
}
