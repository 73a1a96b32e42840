// The exit-code errors the kind lane raises live with the model (helpers/model/errors.ts); re-exported here
// for the lane's own modules.
export { InterruptedError, StepError } from '../../model/errors.ts';

/** The last lines of a tool's stderr: enough to see why, short enough for one error line. */
export function excerpt(text: string, lines = 6): string {
  const kept = text.trim().split('\n').slice(-lines).join('\n');
  return kept.length > 1200 ? `…${kept.slice(-1200)}` : kept;
}
