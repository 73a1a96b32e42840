// What a running `go build -v` / `go install -v` is doing, read from its output, for progress lines.
// cmd/go prints `go: downloading MODULE VERSION` while it fetches modules, then (with -v) each package's
// import path as its compile starts (cmd/go/internal/work: BuildV prints a.Package.ImportPath), and
// nothing while it links. So: downloads counted, packages counted, and once the last package named is a
// build target (a main package, compiled last) and output goes quiet, the linker is what runs.

export class GoBuildProgress {
  private downloads = 0;
  private lastModule = '';
  private packages = 0;
  private lastPackage = '';
  private lastOutputAt: number;
  private other = '';

  /** `targets`: the packages named on the command line (their compile is followed by a link). */
  constructor(
    private readonly targets: readonly string[],
    now = Date.now(),
  ) {
    this.lastOutputAt = now;
  }

  feed(text: string, now = Date.now()): void {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      this.lastOutputAt = now;
      const dl = /^go: downloading (\S+) (\S+)$/.exec(line);
      if (dl) {
        this.downloads++;
        this.lastModule = `${dl[1]} ${dl[2]}`;
      } else if (/^[\w.-]+(\/[\w.~+-]+)*$/.test(line) && !line.includes(' ')) {
        this.packages++;
        this.lastPackage = line;
      } else {
        this.other = line.length > 100 ? `${line.slice(0, 97)}...` : line;
      }
    }
  }

  /** One phrase: what is happening now, with counts. */
  describe(now = Date.now()): string {
    const quietS = Math.floor((now - this.lastOutputAt) / 1000);
    if (this.packages === 0) {
      if (this.downloads === 0) return this.other || 'resolving modules';
      return `downloading modules (${this.downloads} so far, last ${this.lastModule})`;
    }
    const isTarget = this.targets.some((t) => t === this.lastPackage || t.split('@')[0] === this.lastPackage);
    if (isTarget && quietS >= 2) return `linking ${this.lastPackage} (${this.packages} packages compiled)`;
    // Packages compile in parallel and the link prints nothing: a long quiet is one or the other.
    if (quietS >= 5) return `compiling ${this.lastPackage} or linking (${this.packages} packages started, quiet for ${quietS}s)`;
    const dl = this.downloads > 0 ? `; ${this.downloads} modules downloaded` : '';
    return `compiling package ${this.lastPackage} (${this.packages} packages so far${dl})`;
  }
}

/** Adds -v after `build`/`install` of a go command line, so packages are named as they compile. */
export function withVerbose(args: readonly string[]): string[] {
  if ((args[0] === 'build' || args[0] === 'install') && !args.includes('-v')) return [args[0], '-v', ...args.slice(1)];
  return [...args];
}

/** The package arguments of a go build/install command line (after the flags). */
export function buildTargets(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-')) {
      // Flags with a separate value.
      if (['-o', '-ldflags', '-gcflags', '-tags', '-mod', '-p'].includes(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}
