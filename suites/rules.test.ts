// The oracle against the real istiod, rule by rule: the small scenarios of fixtures/rules (beyond the
// catalogue) on the control-plane lane. They probe made-up hosts that only the control-plane lane can
// "resolve", so the kind lane skips them.
import { expandCases, loadCatalogue, RULES_DIR } from '../helpers/catalogue/load.ts';
import { defineLaneSuite, laneFromEnv } from '../helpers/suite/define.ts';

const choice = laneFromEnv();
defineLaneSuite({
  title: 'oracle rules',
  choice: choice.lane === 'kind' ? { skip: 'rule scenarios probe hosts that exist only for the control-plane lane' } : choice,
  cases: expandCases(
    loadCatalogue(RULES_DIR, undefined, { requirePins: false }),
    process.env.EGRESS_TEST ? new RegExp(process.env.EGRESS_TEST) : undefined,
  ),
  reportName: 'rules',
});
