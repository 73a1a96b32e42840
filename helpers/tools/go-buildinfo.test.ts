// The Go build-info reader against `go version -m` on real binaries: the Go toolchain itself, and the
// pinned istiod builds when they are in the cache. Plus what a pin check makes of the wrong binary.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError, UserError } from '../model/errors.ts';
import { parseModInfo, readGoBuildInfo } from './go-buildinfo.ts';
import { PINNED_BUILDS } from './pilot-discovery.ts';
import { cachedBinaryPath } from './pilot-locate.ts';
import { unverifiedModules, unverifiedSumMismatches, verifyPilotBuild } from './pilot-verify.ts';

const GO = ['/usr/local/go/bin/go', ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'go'))].find((p) => existsSync(p));

/** `go version -m` parsed the same way: the reference the reader must match. */
function goVersionM(binary: string) {
  const text = execFileSync(GO!, ['version', '-m', binary], { encoding: 'utf8' });
  const [first, ...rest] = text.split('\n');
  return { goVersion: first!.split(': ')[1]!.trim(), ...parseModInfo(rest.map((l) => l.replace(/^\t/, '')).join('\n')) };
}

describe('Go build info from the ELF file', () => {
  it.skipIf(!GO)('reads the Go toolchain binary as `go version -m` does', () => {
    expect(readGoBuildInfo(GO!)).toEqual(goVersionM(GO!));
  });

  for (const pin of PINNED_BUILDS) {
    const bin = cachedBinaryPath(pin);
    it.skipIf(!GO || !existsSync(bin))(
      `reads pilot-discovery ${pin.label} as \`go version -m\` does, and it is the pinned module version${existsSync(bin) ? '' : ` (skipped: not built; \`egress-conformance tools install pilot-discovery --version ${pin.label}\`)`}`,
      () => {
        const info = readGoBuildInfo(bin);
        expect(info).toEqual(goVersionM(bin));
        expect(info.path).toBe('istio.io/istio/pilot/cmd/pilot-discovery');
        expect(info.main).toMatchObject({ path: 'istio.io/istio', version: pin.goModuleVersion });
        expect(verifyPilotBuild(bin, pin, 'cache').main.version).toBe(pin.goModuleVersion);
        // The modules fetched without the checksum database are the ones recorded in fixtures/versions.json.
        expect(unverifiedSumMismatches(info, pin)).toEqual([]);
        if (pin.goEnv?.GONOSUMDB) expect(unverifiedModules(info, pin)).toEqual(pin.unverifiedSums);
      },
    );
  }

  for (const pin of PINNED_BUILDS.filter((p) => p.goEnv?.GONOSUMDB)) {
    const istioctl = cachedBinaryPath(pin, process.env, 'istioctl');
    it.skipIf(!existsSync(istioctl))(
      `istioctl ${pin.label}: the modules built without the checksum database have the recorded sums${existsSync(istioctl) ? '' : ' (skipped: not built)'}`,
      () => {
        const info = readGoBuildInfo(istioctl);
        expect(info.main).toMatchObject({ path: 'istio.io/istio', version: pin.goModuleVersion });
        expect(unverifiedSumMismatches(info, pin)).toEqual([]);
        // Every such module it links is among the recorded ones.
        expect(Object.keys(unverifiedModules(info, pin)).filter((k) => !(k in (pin.unverifiedSums ?? {})))).toEqual([]);
      },
    );
  }

  const [a, b] = PINNED_BUILDS;
  const binA = a && cachedBinaryPath(a);
  it.skipIf(!a || !b || !existsSync(binA!))(
    'a binary of another build is refused: bad input from PILOT_DISCOVERY, a broken cache otherwise',
    () => {
      expect(() => verifyPilotBuild(binA!, b!, 'env')).toThrow(UserError);
      expect(() => verifyPilotBuild(binA!, b!, 'env')).toThrow(
        new RegExp(
          `PILOT_DISCOVERY=.* is istio.io/istio/pilot/cmd/pilot-discovery from istio.io/istio ${a!.goModuleVersion}.*not ${b!.label}`,
        ),
      );
      expect(() => verifyPilotBuild(binA!, b!, 'cache')).toThrow(EnvironmentError);
    },
  );

  it.skipIf(!GO)('a Go program that is not pilot-discovery is refused by name', () => {
    expect(() => verifyPilotBuild(GO!, PINNED_BUILDS[0]!, 'env')).toThrow(/is not pilot-discovery: its Go build info says cmd\/go/);
  });

  it('a recorded sum that differs is reported; modules the program does not link are not', () => {
    const info = {
      goVersion: 'go1',
      path: 'p',
      main: { path: 'istio.io/istio', version: 'v1' },
      deps: [{ path: 'istio.io/api', version: 'v2', sum: 'h1:other=' }],
      settings: {},
    };
    const pin = {
      goModuleVersion: 'v1',
      istioVersion: '1.30.0',
      commit: 'x',
      goEnv: { GONOSUMDB: 'istio.io' },
      unverifiedSums: { 'istio.io/api@v2': 'h1:recorded=', 'istio.io/client-go@v3': 'h1:c=' },
    };
    expect(unverifiedSumMismatches(info, pin)).toEqual(['istio.io/api@v2 has h1:other=, recorded h1:recorded=']);
    expect(unverifiedModules(info, pin)).toEqual({ 'istio.io/api@v2': 'h1:other=' });
  });

  it('files that are not Go ELF binaries are one clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iec-bi-'));
    try {
      const script = join(dir, 'script');
      writeFileSync(script, '#!/bin/sh\necho hi\n');
      expect(() => readGoBuildInfo(script)).toThrow(/not an ELF executable/);
      expect(() => readGoBuildInfo(join(dir, 'missing'))).toThrow(/cannot be read \(ENOENT\)/);
      // An ELF binary without Go build info: the shell.
      if (existsSync('/bin/sh')) expect(() => readGoBuildInfo('/bin/sh')).toThrow(/no \.go\.buildinfo section/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
