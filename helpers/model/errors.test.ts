// Exit-code errors live with the model: domain code never imports the command line, and each kind of
// failure has its own class and code (a failed step is not the user's bad input).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, ExitCodeError, InterruptedError, StepError, UserError } from './errors.ts';

const HELPERS = fileURLToPath(new URL('../', import.meta.url));

/** The repository's modules under helpers/ (what git tracks; a checkout without git: every file). */
function tsFiles(dir: string): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z', '--', '.'], { cwd: dir, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f));
  } catch {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f));
  }
}

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

  it('no module under helpers/ imports the CLI (scripts/ or helpers/cli/); tests of CLI commands may', () => {
    const offenders = tsFiles(HELPERS)
      .filter((f) => !f.endsWith('.test.ts'))
      .filter((f) => {
        const text = readFileSync(f, 'utf8');
        return [...text.matchAll(/from\s+'([^']+)'/g)].some(
          ([, spec = '']) => spec.startsWith('.') && /(^|\/)(scripts|cli)\//.test(relative(HELPERS, join(f, '..', spec))),
        );
      });
    expect(offenders.map((f) => relative(HELPERS, f))).toEqual([]);
  });
});
