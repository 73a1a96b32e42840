// Exit-code errors live with the model, so domain code never needs the command line (that boundary is a
// dependency-cruiser rule: helpers/boundaries.test.ts); each kind of failure has its own class and code
// (a failed step is not the user's bad input).
import { describe, expect, it } from 'vitest';
import { EnvironmentError, ExitCodeError, InterruptedError, StepError, UserError } from './errors.ts';

describe('exit-code errors', () => {
  it('each kind has its code; only bad input is a UserError', () => {
    const cases: [ExitCodeError, number, boolean][] = [
      [new UserError('bad flag'), 2, true],
      [new EnvironmentError('no Docker'), 3, false],
      [new StepError('kind create failed'), 1, false],
      [new InterruptedError('SIGINT'), 130, false],
      [new InterruptedError('SIGTERM'), 143, false],
    ];
    for (const [e, code, isUser] of cases) {
      expect(e).toBeInstanceOf(ExitCodeError);
      expect(e.exitCode).toBe(code);
      expect(e instanceof UserError).toBe(isUser);
    }
  });
});
