// Errors that end a run with a chosen exit code. The CLI prints the message (never a stack trace) and exits
// with `exitCode`. They live with the model, not the CLI, so that loaders, lanes and the oracle can raise
// them without depending on the command-line layer.

/** Base of every error that carries its own exit code. */
export class ExitCodeError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'ExitCodeError';
    this.exitCode = exitCode;
  }
}

/** Bad input the user can fix (a flag, a file, a name): exit 2. */
export class UserError extends ExitCodeError {
  constructor(message: string, exitCode = 2) {
    super(message, exitCode);
    this.name = 'UserError';
  }
}

/** A required environment piece is missing (Docker, a tool, a cluster): exit 3 so scripts can tell it from bad input. */
export class EnvironmentError extends ExitCodeError {
  constructor(message: string) {
    super(message, 3);
    this.name = 'EnvironmentError';
  }
}

/** A step of a run failed (a tool exited non-zero, a wait timed out): exit 1. Not the user's input at fault. */
export class StepError extends ExitCodeError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'StepError';
  }
}

/** Ctrl-C / SIGTERM: cleanup has run; exit 130 (SIGINT) or 143 (SIGTERM) as shells do. */
export class InterruptedError extends ExitCodeError {
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    message = `interrupted by ${signal}; this run's containers, cluster and temp dirs were removed`,
  ) {
    super(message, signal === 'SIGINT' ? 130 : 143);
    this.name = 'InterruptedError';
  }
}
