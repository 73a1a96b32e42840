// Where resource YAML comes from: a file, every YAML file of a directory, or standard input (`-`), each
// refused above a size no real configuration reaches, so a wrong file is one line of bad input and not
// the process dying of heap exhaustion.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../model/errors.ts';

/** 10 MiB: thousands of resources. Larger inputs are mistakes (a log, an image, a dump). */
export const MAX_YAML_BYTES = 10 * 1024 * 1024;

export interface InputText {
  /** The name messages use: the path, or `<stdin>`. */
  name: string;
  text: string;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function tooBig(name: string, size: number | undefined, limit: number): never {
  const amount = size === undefined ? `more than ${mib(limit)}` : mib(size);
  throw new UserError(`${name}: ${amount} of YAML, above the ${mib(limit)} limit; give the resource files themselves`);
}

function cannotRead(path: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message);
  throw new UserError(`${path}: cannot read the file (${why}); check the -f path`);
}

/** Reads from an open descriptor, at most `limit` bytes; one more byte is an error. */
function readBounded(fd: number, name: string, limit: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(1024 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      // A non-blocking pipe with nothing yet: wait a little and read again.
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if ((e as NodeJS.ErrnoException).code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > limit) tooBig(name, undefined, limit);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function readFileBounded(path: string, limit: number): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    cannotRead(path, e);
  }
  // Refused on its size before a byte is read: a 300 MB file never reaches the parser.
  if (size > limit) tooBig(path, size, limit);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    cannotRead(path, e);
  }
  try {
    return readBounded(fd, path, limit); // the size may have grown since stat (a FIFO, a growing file)
  } finally {
    closeSync(fd);
  }
}

const isYamlName = (f: string) => /\.ya?ml$/i.test(f);

/**
 * The texts behind -f arguments, in order: `-` is standard input (once), a directory is its `.yaml` and
 * `.yml` files in name order (not recursive), anything else a file.
 */
export function readInputs(args: string[], opts: { limit?: number; stdinFd?: number } = {}): InputText[] {
  const limit = opts.limit ?? MAX_YAML_BYTES;
  const out: InputText[] = [];
  let stdinUsed = false;
  for (const arg of args) {
    if (arg === '-') {
      if (stdinUsed) throw new UserError('-f -: standard input can be read only once; give the other documents as files');
      stdinUsed = true;
      out.push({ name: '<stdin>', text: readBounded(opts.stdinFd ?? 0, '-f - (standard input)', limit) });
      continue;
    }
    let isDir = false;
    try {
      isDir = statSync(arg).isDirectory();
    } catch (e) {
      cannotRead(arg, e);
    }
    if (!isDir) {
      out.push({ name: arg, text: readFileBounded(arg, limit) });
      continue;
    }
    const files = readdirSync(arg).filter(isYamlName).sort();
    if (!files.length) throw new UserError(`${arg}: a directory with no .yaml or .yml files; check the -f path`);
    for (const f of files) {
      const p = join(arg, f);
      if (statSync(p).isDirectory()) continue;
      out.push({ name: p, text: readFileBounded(p, limit) });
    }
  }
  return out;
}

/** One file's text, bounded like -f inputs (case files, lab files). */
export function readYamlFile(path: string, limit = MAX_YAML_BYTES): string {
  return readFileBounded(path, limit);
}
