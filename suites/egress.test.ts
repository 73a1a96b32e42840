// The conformance suite: every catalogue probe, observed on one lane and compared with the oracle.
// The lane comes from EGRESS_LANE (set by `egress-conformance run`); under plain `npm test` it is the
// control-plane lane when the pinned pilot-discovery is available, and the suite reports itself
// skipped, with the reason, when not.
import { expandCases, loadCatalogue } from '../helpers/catalogue/load.ts';
import { defineLaneSuite, laneFromEnv } from '../helpers/suite/define.ts';
import { readSelection, selectCases } from '../helpers/suite/select.ts';

const choice = laneFromEnv();
defineLaneSuite({
  title: 'egress conformance',
  choice,
  // EGRESS_CASES_DIR (`run --cases DIR`): the user's case files, resources relative to the dir, pins optional.
  // EGRESS_SELECT_FILE: `run --run/--skip/--rerun-failed` (helpers/suite/select.ts).
  cases: selectCases(
    expandCases(
      process.env.EGRESS_CASES_DIR
        ? loadCatalogue(process.env.EGRESS_CASES_DIR, process.env.EGRESS_CASES_DIR, { requirePins: false })
        : loadCatalogue(),
    ),
    readSelection(process.env.EGRESS_SELECT_FILE),
  ),
  reportName: choice.lane ?? 'control-plane',
});
