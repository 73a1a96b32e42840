// The oracle against the real istiod, rule by rule: the small scenarios of fixtures/rules (beyond the
// catalogue) on the control-plane lane. They probe made-up hosts that only the control-plane lane can
// "resolve", so the kind lane skips them.
import { expandCases, loadCatalogue, RULES_DIR } from '../helpers/catalogue/load.ts';
import { defineLaneSuite, laneFromEnv } from '../helpers/suite/define.ts';
import { readSelection, selectCases } from '../helpers/suite/select.ts';

const choice = laneFromEnv();
defineLaneSuite({
  title: 'oracle rules',
  choice: choice.lane === 'kind' ? { skip: 'rule scenarios probe hosts that exist only for the control-plane lane' } : choice,
  // EGRESS_SELECT_FILE: `run --run/--skip/--rerun-failed` (helpers/suite/select.ts).
  cases: selectCases(
    expandCases(loadCatalogue(RULES_DIR, undefined, { requirePins: false })),
    readSelection(process.env.EGRESS_SELECT_FILE),
  ),
  reportName: 'rules',
});
