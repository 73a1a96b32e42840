// Reads the build information the Go linker embeds in every binary (what `go version -m` prints),
// straight from the ELF file, so checking which build a pilot-discovery is needs no Go toolchain.
//
// Format facts (Go's src/debug/buildinfo/buildinfo.go): section `.go.buildinfo` starts with the
// 14-byte magic "\xff Go buildinf:", a pointer-size byte and a flags byte; with flag bit 2 set
// (Go ≥ 1.18) the Go version and the module info follow the 32-byte header as uvarint-length-prefixed
// strings. The module info is wrapped in two 16-byte sentinels and holds tab-separated lines:
// `path`, `mod PATH VERSION SUM`, `dep PATH VERSION SUM`, `=> replacement`, `build KEY=VALUE`.
import { closeSync, openSync, readSync } from 'node:fs';
import { UserError } from '../model/errors.ts';

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
}

export interface GoBuildInfo {
  goVersion: string;
  /** The main package path, e.g. istio.io/istio/pilot/cmd/pilot-discovery. */
  path: string;
  main: GoModule;
  deps: GoModule[];
  /** `build` lines: -ldflags, CGO_ENABLED, GOOS, vcs.revision, … */
  settings: Record<string, string>;
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const FLAGS_VERSION_INLINE = 0x2;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** The `.go.buildinfo` section's bytes, found through the ELF section headers (64-bit, little-endian). */
function buildInfoSection(fd: number, file: string): Buffer {
  const ehdr = readAt(fd, 0, 64);
  if (ehdr.length < 64 || ehdr.readUInt32BE(0) !== 0x7f454c46)
    throw new UserError(`${file}: not an ELF executable, so not a Linux pilot-discovery build`);
  if (ehdr[4] !== 2 || ehdr[5] !== 1) throw new UserError(`${file}: only 64-bit little-endian ELF binaries are read`);
  const shoff = Number(ehdr.readBigUInt64LE(0x28));
  const shentsize = ehdr.readUInt16LE(0x3a);
  const shnum = ehdr.readUInt16LE(0x3c);
  const shstrndx = ehdr.readUInt16LE(0x3e);
  const headers = readAt(fd, shoff, shentsize * shnum);
  const section = (i: number) => ({
    name: headers.readUInt32LE(i * shentsize),
    offset: Number(headers.readBigUInt64LE(i * shentsize + 24)),
    size: Number(headers.readBigUInt64LE(i * shentsize + 32)),
  });
  const strtab = section(shstrndx);
  const names = readAt(fd, strtab.offset, strtab.size);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const end = names.indexOf(0, s.name);
    if (names.toString('latin1', s.name, end) === '.go.buildinfo') return readAt(fd, s.offset, s.size);
  }
  throw new UserError(`${file}: no .go.buildinfo section: not a Go binary, or one built before Go 1.13`);
}

function uvarint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return { value, next: i + 1 };
    shift += 7;
  }
  throw new Error('truncated varint');
}

/** Parses the module-info text (the part `go version -m` prints after the first line). */
export function parseModInfo(text: string): Omit<GoBuildInfo, 'goVersion'> {
  const out: Omit<GoBuildInfo, 'goVersion'> = { path: '', main: { path: '', version: '' }, deps: [], settings: {} };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const [kind, ...f] = line.split('\t');
    if (kind === 'path') out.path = f[0] ?? '';
    else if (kind === 'mod') last = out.main = { path: f[0] ?? '', version: f[1] ?? '', ...(f[2] ? { sum: f[2] } : {}) };
    else if (kind === 'dep') out.deps.push((last = { path: f[0] ?? '', version: f[1] ?? '', ...(f[2] ? { sum: f[2] } : {}) }));
    else if (kind === '=>' && last) Object.assign(last, { path: f[0] ?? last.path, version: f[1] ?? '', ...(f[2] ? { sum: f[2] } : {}) });
    else if (kind === 'build') {
      const kv = f.join('\t');
      const eq = kv.indexOf('=');
      if (eq > 0) out.settings[kv.slice(0, eq)] = kv.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return out;
}

export function readGoBuildInfo(file: string): GoBuildInfo {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new UserError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const sec = buildInfoSection(fd, file);
    const at = sec.indexOf(MAGIC);
    if (at < 0) throw new UserError(`${file}: .go.buildinfo holds no Go build-info header`);
    const flags = sec[at + 15]!;
    if (!(flags & FLAGS_VERSION_INLINE))
      throw new UserError(
        `${file}: built by a Go older than 1.18, whose build info this reader does not decode; use \`go version -m ${file}\``,
      );
    let p = at + 32;
    const v = uvarint(sec, p);
    const goVersion = sec.toString('utf8', v.next, v.next + v.value);
    p = v.next + v.value;
    const m = uvarint(sec, p);
    let mod = sec.toString('utf8', m.next, m.next + m.value);
    if (mod.length >= 33 && mod[mod.length - 17] === '\n') mod = mod.slice(16, mod.length - 16);
    return { goVersion, ...parseModInfo(mod) };
  } finally {
    closeSync(fd);
  }
}

/** The `-X istio.io/istio/pkg/version.buildVersion=…` a release build is stamped with, if any. */
export function stampedIstioVersion(info: GoBuildInfo): string | undefined {
  return /istio\.io\/istio\/pkg\/version\.buildVersion=([^\s'"]+)/.exec(info.settings['-ldflags'] ?? '')?.[1];
}
