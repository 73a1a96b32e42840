// Errors the user can fix. The CLI prints their message on one line and exits 2, never a stack trace.
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A required environment piece is missing (Docker, a tool, a cluster): exit 3 so scripts can tell it from bad input. */
export class EnvironmentError extends UserError {
  constructor(message: string) {
    super(message, 3);
    this.name = 'EnvironmentError';
  }
}
