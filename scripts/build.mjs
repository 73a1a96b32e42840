#!/usr/bin/env node
// @ts-check
// Compiles the CLI to JavaScript in dist/ (run by `npm ci` through `prepare`, or `npm run build`), so a
// command starts without tsx transforming TypeScript on every run. One esbuild bundle, split per command
// (each command's dynamic import is its own chunk); npm packages stay external. `import.meta.url` is
// replaced in each source by that source's own URL, because modules find fixtures and tools relative to
// themselves. dist/manifest.json lists every input with its mtime: bin/egress-conformance.mjs uses dist/
// only while no input changed, and falls back to tsx otherwise, so an edit never runs stale code.
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
await rm(out, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: ['scripts/cli.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: out,
  outExtension: { '.js': '.mjs' },
  packages: 'external',
  metafile: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'own-import-meta-url',
      setup(b) {
        b.onLoad({ filter: /\.ts$/ }, async (a) => ({
          contents: (await readFile(a.path, 'utf8')).replaceAll('import.meta.url', JSON.stringify(pathToFileURL(a.path).href)),
          loader: 'ts',
        }));
      },
    },
  ],
});
/** @type {Record<string, number>} */
const inputs = {};
for (const p of Object.keys(result.metafile.inputs)) inputs[p] = (await stat(join(root, p))).mtimeMs;
await writeFile(join(out, 'manifest.json'), `${JSON.stringify({ root, builtAt: started, inputs }, null, 1)}\n`);
process.stderr.write(`dist/: ${Object.keys(inputs).length} sources compiled in ${Date.now() - started} ms\n`);
