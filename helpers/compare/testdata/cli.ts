// What the compare tests share: the CLI, the two pinned builds by label, the user case file, and an IO
// that keeps what a command prints.
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/egress-conformance.mjs', import.meta.url));
export const USER_CASES = fileURLToPath(new URL('./upgrade-cases.yaml', import.meta.url));
export const APRIL = 'master-2026-04-23';
export const AUGUST = 'master-2026-08-27';

export function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}
