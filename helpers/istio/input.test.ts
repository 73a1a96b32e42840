// -f inputs: files, directories, standard input, each bounded in size; YAML aliases bounded in expansion.
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../model/errors.ts';
import { readInputs } from './input.ts';
import { emptyResources, loadYamlText } from './load.ts';

const root = mkdtempSync(join(tmpdir(), 'egress-input-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
};

describe('readInputs', () => {
  it('a directory gives its YAML files in name order, skipping other files and subdirectories', () => {
    const dir = join(root, 'd');
    mkdirSync(join(dir, 'sub.yaml'), { recursive: true });
    writeFileSync(join(dir, 'b.yml'), 'b');
    writeFileSync(join(dir, 'a.yaml'), 'a');
    writeFileSync(join(dir, 'c.json'), 'c');
    expect(readInputs([dir])).toEqual([
      { name: join(dir, 'a.yaml'), text: 'a' },
      { name: join(dir, 'b.yml'), text: 'b' },
    ]);
  });

  it('`-` reads the given descriptor (standard input), once', () => {
    const f = join(root, 'stdin.yaml');
    writeFileSync(f, 'kind: X\n');
    const fd = openSync(f, 'r');
    try {
      expect(readInputs(['-'], { stdinFd: fd })).toEqual([{ name: '<stdin>', text: 'kind: X\n' }]);
      expect(thrown(() => readInputs(['-', '-'], { stdinFd: fd })).message).toMatch(/read only once/);
    } finally {
      closeSync(fd);
    }
  });

  it('a file above the limit is refused on its size, before reading', () => {
    const f = join(root, 'huge.yaml');
    writeFileSync(f, '');
    truncateSync(f, 300 * 1024 * 1024);
    const e = thrown(() => readInputs([f]));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toBe(`${f}: 300.0 MiB of YAML, above the 10.0 MiB limit; give the resource files themselves`);
  });

  it('a stream above the limit is refused once the limit is passed', () => {
    const f = join(root, 'stream.yaml');
    writeFileSync(f, 'x'.repeat(2048));
    const fd = openSync(f, 'r');
    try {
      expect(thrown(() => readInputs(['-'], { stdinFd: fd, limit: 1024 })).message).toMatch(
        /^-f - \(standard input\): more than 0\.0 MiB of YAML/,
      );
    } finally {
      closeSync(fd);
    }
  });

  it('missing paths and empty directories are one line naming the path', () => {
    expect(thrown(() => readInputs([join(root, 'nope.yaml')])).message).toMatch(
      /nope\.yaml: cannot read the file \(no such file\); check the -f path$/,
    );
    mkdirSync(join(root, 'empty'));
    expect(thrown(() => readInputs([join(root, 'empty')])).message).toMatch(/empty: a directory with no \.yaml or \.yml files/);
  });
});

describe('YAML aliases', () => {
  it('a few aliases are fine; an alias bomb is a UserError naming the document', () => {
    const ok = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: &x "1", b: *x}\n';
    expect(() => loadYamlText(ok, 'ok.yaml', emptyResources())).not.toThrow();
    const lines = ['  l0: &l0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      lines.push(
        `  l${i}: &l${i} [${Array(9)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n${lines.join('\n')}\n`;
    const e = thrown(() => loadYamlText(`kind: A\napiVersion: v1\n---\n${bomb}`, 'bomb.yaml', emptyResources()));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/^bomb\.yaml \(document 2\): YAML aliases expand too far/);
  });
});
