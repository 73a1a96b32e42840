#!/usr/bin/env node
// @ts-check
// Runs the CLI compiled in dist/ (scripts/build.mjs, run by `npm ci`) while it matches the sources, else
// the TypeScript through tsx, so `npx egress-conformance` works right after `npm ci` and after any edit.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** dist/ is used only when it was built here and no source it was built from has changed since. */
function distIsFresh() {
  if (process.env.EGRESS_NO_DIST === '1') return false;
  try {
    const m = JSON.parse(readFileSync(join(root, 'dist', 'manifest.json'), 'utf8'));
    if (m.root !== root) return false;
    for (const [p, mtime] of Object.entries(m.inputs)) if (statSync(join(root, p)).mtimeMs !== mtime) return false;
    return true;
  } catch {
    return false; // not built, or a source is gone
  }
}

// A path in a variable: dist/ may not exist (a checkout without `npm ci`), and the type checker must not require it.
const compiled = '../dist/cli.mjs';
let main;
if (distIsFresh()) ({ main } = await import(compiled));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../scripts/cli.ts'));
}
process.exitCode = await main(process.argv.slice(2));
