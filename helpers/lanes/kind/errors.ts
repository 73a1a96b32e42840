// Errors of the kind lane that the CLI maps to exit codes (UserError prints one line, exits with its code).
import { UserError } from '../../cli/errors.ts';

/** Ctrl-C / SIGTERM: cleanup has run; exit 130 (SIGINT) or 143 (SIGTERM) as shells do. */
export class InterruptedError extends UserError {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}; this run's containers, cluster and temp dir were removed`, signal === 'SIGINT' ? 130 : 143);
    this.name = 'InterruptedError';
  }
}

/** A step of the run failed; the message names the step and what failed, with the tool's own words. */
export class StepError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'StepError';
  }
}

/** The last lines of a tool's stderr: enough to see why, short enough for one error line. */
export function excerpt(text: string, lines = 6): string {
  const kept = text.trim().split('\n').slice(-lines).join('\n');
  return kept.length > 1200 ? `…${kept.slice(-1200)}` : kept;
}
