// Comments cite what a reader can open: files in this repository, Istio source paths, upstream issues.
// Notes kept outside the repository and the local issue tracker are not citations.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SOURCE = /\.(ts|mjs|js|go|ya?ml|sh)$/;

/** Outside documents this project's authors had beside the repository. */
const OUTSIDE = /\b(DESIGN\.md|ISTIO-SEMANTICS|KIND-LANE-NOTES|LOCAL-CONTROL-PLANE-NOTES)\b/;
/** The local tracker (`issue 12`); upstream ones are written `istio/istio#N` or `issue #N`. */
const LOCAL_ISSUE = /\bissues? \d+\b/i;
/** A path to a Markdown file, e.g. docs/SEMANTICS.md. */
const MD_PATH = /(?:\.{0,2}\/)?\b[\w.-]+(?:\/[\w.-]+)+\.md\b/g;

function trackedSources(): string[] {
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0');
  } catch {
    return []; // not a git checkout: nothing to scan reliably
  }
  // This file names the outside documents in order to refuse them.
  return files.filter((f) => SOURCE.test(f) && f !== 'scripts/references.test.ts' && existsSync(join(ROOT, f)));
}

describe('references in source files', () => {
  const files = trackedSources();

  it.runIf(files.length > 0)('name no document outside the repository and no local issue number', () => {
    const problems: string[] = [];
    for (const f of files) {
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (OUTSIDE.test(line)) problems.push(`${f}:${i + 1}: ${line.trim()}`);
          if (LOCAL_ISSUE.test(line)) problems.push(`${f}:${i + 1}: ${line.trim()}`);
          for (const m of line.matchAll(MD_PATH)) {
            if (!existsSync(join(ROOT, m[0])) && !existsSync(join(ROOT, dirname(f), m[0])))
              problems.push(`${f}:${i + 1}: ${m[0]} does not exist`);
          }
        });
    }
    expect(problems).toEqual([]);
  });
});
