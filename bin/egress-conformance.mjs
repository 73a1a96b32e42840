#!/usr/bin/env node
// @ts-check
// Runs the TypeScript CLI through tsx so `npx egress-conformance` works right after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../scripts/cli.ts');
process.exitCode = await main(process.argv.slice(2));
