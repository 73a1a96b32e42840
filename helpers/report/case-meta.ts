// The result of one case travels from the suite (in vitest's worker) to the run reporter (in vitest's
// main process) as task meta, so the reporter prints the case, not the assertion that carried it.
import type { CaseResult } from './results.ts';

declare module '@vitest/runner' {
  interface TaskMeta {
    egressCase?: CaseResult;
  }
}
